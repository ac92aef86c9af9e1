"""mfgrad.torch: the autograd function against autograd on the plain PyTorch expression, gradcheck,
the module, and the tensors it refuses."""

import os

import numpy as np
import pytest

from conftest import assert_not_trivial, assert_within_rule, random_problem, require

torch = require("torch")
import mfgrad  # noqa: E402
import mfgrad.torch as mt  # noqa: E402

LAM = 0.3
TORCH = {np.float32: torch.float32, np.float64: torch.float64}


def tensors(p, requires_grad=True):
    return (torch.tensor(p.U, requires_grad=requires_grad), torch.tensor(p.V, requires_grad=requires_grad))


def plain_gradients(p, lam):
    """Autograd on the plain PyTorch expression, in float64: the reference (an oracle in double)."""
    U, V = (torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in (p.U, p.V))
    rows, cols, values = mt.entries(p.observed, dtype=torch.float64)
    loss = mt.plain_loss(U, V, rows, cols, values, lam)
    loss.backward()
    return loss.item(), U.grad.numpy(), V.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("k", [1, 16, 33])
def test_gradients_equal_autograd_on_the_plain_expression(dtype, k):
    p = random_problem(60, 45, 0.3, k, seed=21, dtype=dtype, empty_rows=3, empty_cols=2)
    want = plain_gradients(p, LAM)
    assert_not_trivial(want)
    plan = mfgrad.Plan(p.observed, k, dtype=dtype)
    U, V = tensors(p)
    loss = mt.MaskedMFLossFunction.apply(U, V, plan, LAM)
    assert loss.dtype == TORCH[dtype] and loss.dim() == 0
    loss.backward()
    assert U.grad.dtype == V.grad.dtype == TORCH[dtype]
    assert_within_rule(p, LAM, (loss.item(), U.grad.numpy(), V.grad.numpy()), want)


def test_gradcheck_in_float64():
    p = random_problem(6, 5, 0.6, 3, seed=22)
    plan = mfgrad.Plan(p.observed, 3, dtype=np.float64)
    U, V = tensors(p)
    assert torch.autograd.gradcheck(lambda U, V: mt.MaskedMFLossFunction.apply(U, V, plan, LAM), (U, V))


def test_backward_scales_by_the_incoming_gradient_and_can_run_twice():
    p = random_problem(30, 20, 0.4, 8, seed=23, dtype=np.float32)
    plan = mfgrad.Plan(p.observed, 8, dtype=np.float32, kernel="naive")
    _, gu, gv = plan.evaluate(p.U, p.V, LAM)
    U, V = tensors(p)
    (3 * mt.MaskedMFLossFunction.apply(U, V, plan, LAM)).backward()
    assert torch.equal(U.grad, 3 * torch.from_numpy(gu)) and torch.equal(V.grad, 3 * torch.from_numpy(gv))
    U, V = tensors(p)
    loss = mt.MaskedMFLossFunction.apply(U, V, plan, LAM)
    loss.backward(retain_graph=True)
    loss.backward()  # the stored gradients were handed on; this evaluates again
    assert torch.equal(U.grad, 2 * torch.from_numpy(gu)) and torch.equal(V.grad, 2 * torch.from_numpy(gv))


def test_only_the_inputs_that_need_it_get_a_gradient():
    p = random_problem(30, 20, 0.4, 8, seed=24)
    plan = mfgrad.Plan(p.observed, 8, dtype=np.float64)
    U = torch.tensor(p.U, requires_grad=True)
    V = torch.tensor(p.V)
    mt.masked_mf_loss(U, V, plan, LAM).backward()
    assert V.grad is None
    np.testing.assert_array_equal(U.grad.numpy(), plan.evaluate(p.U, p.V, LAM)[1])


def test_the_module_makes_its_plan_once_and_trains():
    p = random_problem(40, 30, 0.5, 4, seed=25, dtype=np.float32)
    objective = mt.MaskedMFLoss(p.observed, 4, LAM, threads=1)
    assert objective.plan.threads == 1 and objective.plan.dtype == np.float32 and "lam=0.3" in repr(objective)
    U, V = (torch.nn.Parameter(t.detach()) for t in tensors(p))
    assert objective(U, V).item() == np.float32(objective.plan.evaluate(p.U, p.V, LAM)[0])
    optimizer = torch.optim.Adam([U, V], lr=0.05)
    losses = []
    for _ in range(20):
        optimizer.zero_grad()
        loss = objective(U, V)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    with pytest.raises(TypeError, match="dtype must be torch.float32, torch.float64, torch.bfloat16 or torch.float16, got torch.int32"):
        mt.MaskedMFLoss(p.observed, 4, LAM, dtype=torch.int32)


def test_threads_are_not_taken_from_torch():
    # Importing torch lowers OpenMP's default thread count for the whole process; plans ignore that.
    if "OMP_NUM_THREADS" in os.environ:
        pytest.skip("OMP_NUM_THREADS is set")
    p = random_problem(10, 10, 0.5, 2, seed=26)
    assert mt.MaskedMFLoss(p.observed, 2, LAM).plan.threads == len(os.sched_getaffinity(0))


def test_refused_tensors_raise_and_nothing_runs():
    p = random_problem(12, 9, 0.5, 4, seed=27, dtype=np.float32)
    plan = mfgrad.Plan(p.observed, 4, dtype=np.float32)
    U, V = tensors(p)
    cases = [
        ((U.double(), V), TypeError, "plan was made for float32, not float64"),
        ((U.int(), V), TypeError, "U has dtype torch.int32; mfgrad takes torch.float32, torch.float64, torch.bfloat16 or torch.float16"),
        ((p.U, V), TypeError, "U must be a torch.Tensor, got numpy.ndarray"),
        ((U, V.detach().t().contiguous().t()), ValueError, r"V is not contiguous; .* pass V.contiguous\(\)"),
        ((U.to_sparse(), V), TypeError, "U has layout torch.sparse_coo; mfgrad takes dense tensors"),
        ((U[1:], V), mfgrad.Error, r"U is 11 x 4 but must be 12 x 4 \(m x k\)"),
        ((U[:, :2].contiguous(), V), mfgrad.Error, "plan was made for k = 4, but U has 2 columns"),
    ]
    calls = sum(k.invocations for k in mfgrad.kernels())
    for args, error, message in cases:
        with pytest.raises(error, match=message):
            mt.MaskedMFLossFunction.apply(*args, plan, LAM)
    with pytest.raises(mfgrad.Error, match="lambda must be finite and at least 0, got nan"):
        mt.MaskedMFLossFunction.apply(U, V, plan, float("nan"))
    with pytest.raises(TypeError, match="plan must be an mfgrad.Plan, got builtins.str"):
        mt.MaskedMFLossFunction.apply(U, V, "plan", LAM)
    assert sum(k.invocations for k in mfgrad.kernels()) == calls


def test_plain_loss_is_the_same_objective():
    p = random_problem(25, 20, 0.4, 5, seed=28)
    rows, cols, values = mt.entries(p.observed, dtype=torch.float64)
    assert rows.dtype == cols.dtype == torch.int64 and values.dtype == torch.float64
    U, V = tensors(p, requires_grad=False)
    want = mfgrad.evaluate(p.observed, p.U, p.V, LAM, kernel="naive")[0]
    bound = mfgrad.error_bounds(p.observed, p.U, p.V, LAM)[0]
    assert abs(mt.plain_loss(U, V, rows, cols, values, LAM).item() - want) <= bound


def test_gradients_reach_autograd_without_a_copy(monkeypatch):
    written = []
    evaluate = mt._evaluate

    def recording(*args):
        result = evaluate(*args)
        written.append((result[1].data_ptr(), result[2].data_ptr()))
        return result

    monkeypatch.setattr(mt, "_evaluate", recording)
    p = random_problem(30, 20, 0.4, 8, seed=29, dtype=np.float32)
    U, V = tensors(p)
    mt.masked_mf_loss(U, V, mfgrad.Plan(p.observed, 8), LAM).backward()
    assert written == [(U.grad.data_ptr(), V.grad.data_ptr())]


def test_pytorch_style_names_and_the_deprecated_ones():
    p = random_problem(20, 15, 0.5, 3, seed=31, dtype=np.float64)
    plan = mfgrad.Plan(p.observed, 3, dtype=np.float64)
    U, V = tensors(p)
    want = mt.masked_mf_loss(U, V, plan, LAM).item()
    assert isinstance(mt.MaskedMFLoss(p.observed, 3, LAM, dtype=torch.float64), torch.nn.Module)
    # The earlier names still give the same loss, with a DeprecationWarning naming the new one.
    with pytest.warns(DeprecationWarning, match="use mfgrad.torch.MaskedMFLoss"):
        old_module = mt.MaskedMF(p.observed, 3, LAM, dtype=torch.float64)
    assert isinstance(old_module, mt.MaskedMFLoss)
    assert old_module(U, V).item() == want
    with pytest.warns(DeprecationWarning, match="masked_mf_loss"):
        assert mt.MaskedMFLoss.apply(U, V, plan, LAM).item() == want
    # On an instance, apply stays nn.Module.apply(fn), which visits the module.
    visited = []
    criterion = mt.MaskedMFLoss(p.observed, 3, LAM, dtype=torch.float64)
    assert criterion.apply(visited.append) is criterion
    assert visited == [criterion]
