"""Factors stored in 16 bits from Python: float16 arrays, bfloat16 as uint16 bit patterns, float32 gradients,
round_to and widen, and torch.bfloat16 / torch.float16 tensors."""

import numpy as np
import pytest

import mfgrad
from conftest import assert_not_trivial, random_problem, require

LAM = 0.3
STORAGES = {"bfloat16": "bfloat16", "float16": np.float16}
SHAPES = {
    "k17": dict(m=37, n=29, density=0.3, k=17),
    "k64": dict(m=37, n=29, density=0.3, k=64),
    "empty_rows_cols": dict(m=50, n=40, density=0.2, k=9, empty_rows=10, empty_cols=5),
}


def stored(p, storage):
    """The problem's float32 factors rounded to `storage`, and those stored values widened exactly."""
    U16, V16 = mfgrad.round_to(p.U, storage), mfgrad.round_to(p.V, storage)
    return U16, V16, mfgrad.widen(U16), mfgrad.widen(V16)


def assert_within_bounds(observed, U16, V16, got, want):
    """got against want (the float32 factors' answer from the oracle) under the tolerance rule of 16-bit
    storage: float32 arithmetic on the stored values (include/mfgrad/check.hpp)."""
    loss_bound, gu_bound, gv_bound = mfgrad.error_bounds(observed, U16, V16, LAM)
    assert abs(got[0] - want[0]) <= loss_bound, f"loss {got[0]!r}, oracle {want[0]!r}, bound {loss_bound:.3g}"
    for name, g, w, bound in (("grad_u", got[1], want[1], gu_bound), ("grad_v", got[2], want[2], gv_bound)):
        assert g.dtype == np.float32 and g.shape == w.shape == bound.shape
        difference = np.abs(g.astype(np.float64) - w.astype(np.float64))
        assert (difference <= bound).all(), f"{name}: {np.count_nonzero(difference > bound)} elements outside"


@pytest.mark.parametrize("storage", STORAGES)
@pytest.mark.parametrize("shape", SHAPES)
def test_sixteen_bit_factors_give_the_float32_answer_on_the_widened_factors(shape, storage):
    p = random_problem(**SHAPES[shape], seed=11, dtype=np.float32)
    U16, V16, Uw, Vw = stored(p, STORAGES[storage])
    assert U16.dtype == (np.uint16 if storage == "bfloat16" else np.float16)
    want = mfgrad.evaluate(p.observed, Uw, Vw, LAM, kernel="naive")  # the oracle on exactly these values
    assert_not_trivial(want)
    plan = mfgrad.Plan(p.observed, p.k, dtype=STORAGES[storage])
    assert plan.precision == storage and plan.dtype == U16.dtype
    assert_within_bounds(p.observed, U16, V16, plan.evaluate(U16, V16, LAM), want)
    for kernel in (k.name for k in mfgrad.kernels() if k.supported):
        got = mfgrad.evaluate(p.observed, U16, V16, LAM, kernel=kernel, threads=2)
        assert_within_bounds(p.observed, U16, V16, got, want)
    # Gradients written into float32 arrays given.
    grad_u, grad_v = np.full(p.U.shape, np.nan, np.float32), np.full(p.V.shape, np.nan, np.float32)
    loss, gu, gv = plan.evaluate(U16, V16, LAM, grad_u, grad_v)
    assert gu is grad_u and gv is grad_v
    assert_within_bounds(p.observed, U16, V16, (loss, gu, gv), want)
    # Rounding moved the answer: the unrounded float32 factors give another loss.
    assert mfgrad.evaluate(p.observed, p.U, p.V, LAM, kernel="naive")[0] != want[0]


def reference_bfloat16(x):
    """Nearest bfloat16 of each float32, ties to even, found by comparing the two neighbours in float64."""
    bits = x.view(np.uint32).astype(np.uint64)
    low = bits & 0xFFFF0000
    high = low + 0x10000
    as_float = lambda b: (b.astype(np.uint32)).view(np.float32).astype(np.float64)  # noqa: E731
    xd = x.astype(np.float64)
    d_low, d_high = np.abs(xd - as_float(low)), np.abs(xd - as_float(high & 0xFFFFFFFF))
    up = (d_high < d_low) | ((d_high == d_low) & (((low >> 16) & 1) == 1))
    # high may step into the exponent's next binade or to infinity: that is the right neighbour either way.
    return ((np.where(up, high, low) >> 16) & 0xFFFF).astype(np.uint16)


def test_round_to_and_widen_against_independent_references():
    rng = np.random.default_rng(3)
    x = np.concatenate(
        [
            (rng.standard_normal(50000) * 10.0 ** rng.integers(-8, 8, 50000)).astype(np.float32),
            np.array([0.0, -0.0, 1.0, 1 + 2**-8, 1 + 3 * 2**-8, 65504, 65520, 1e-8, 2**-24, 2**-25, 3e38], np.float32),
            # every tie between neighbouring bfloat16 values in [1, 2)
            (1 + (np.arange(128) + 0.5) / 128).astype(np.float32),
        ]
    )
    bf = mfgrad.round_to(x)  # bfloat16 by default
    assert bf.dtype == np.uint16 and bf.shape == x.shape
    np.testing.assert_array_equal(bf, reference_bfloat16(x))
    h = mfgrad.round_to(x, np.float16, threads=3)
    assert h.dtype == np.float16
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(h.view(np.uint16), x.astype(np.float16).view(np.uint16))  # NumPy rounds to even
    np.testing.assert_array_equal(mfgrad.widen(bf).view(np.uint32), bf.astype(np.uint32) << 16)
    np.testing.assert_array_equal(mfgrad.widen(h), h.astype(np.float32))
    nan = mfgrad.round_to(np.array([np.nan, -np.inf], np.float32))
    assert np.isnan(mfgrad.widen(nan)[0]) and mfgrad.widen(nan)[1] == -np.inf
    # Any shape; the result written where it is asked to be.
    x2 = x[: 100 * 7].reshape(100, 7)
    out = np.zeros((100, 7), np.uint16)
    assert mfgrad.round_to(x2, "bfloat16", out=out) is out
    np.testing.assert_array_equal(out, bf[: 700].reshape(100, 7))


def test_random_factor_in_sixteen_bits_is_the_float32_draw_rounded():
    f32 = mfgrad.random_factor(40, 5, seed=9)
    np.testing.assert_array_equal(mfgrad.random_factor(40, 5, seed=9, dtype="bfloat16"), mfgrad.round_to(f32))
    np.testing.assert_array_equal(
        mfgrad.random_factor(40, 5, seed=9, dtype=np.float16).view(np.uint16),
        mfgrad.round_to(f32, np.float16).view(np.uint16),
    )


def test_sixteen_bit_arguments_are_refused_by_name_and_nothing_is_written():
    p = random_problem(**SHAPES["k17"], seed=5, dtype=np.float32)
    U16, V16, _, _ = stored(p, "bfloat16")
    plan = mfgrad.Plan(p.observed, p.k, dtype="bfloat16")
    with pytest.raises(TypeError, match=r"plan was made for bfloat16 \(uint16\), not float32"):
        plan.evaluate(p.U, V16, LAM)
    with pytest.raises(TypeError, match=r"plan was made for bfloat16 \(uint16\), not float16"):
        plan.evaluate(U16.view(np.float16), V16, LAM)
    grad_u = np.full(p.U.shape, -3.0)
    with pytest.raises(TypeError, match="grad_u is float64; the gradients of bfloat16 factors are float32"):
        plan.evaluate(U16, V16, LAM, grad_u)
    assert (grad_u == -3).all()
    with pytest.raises(TypeError, match=r"V is float16 but U is bfloat16 \(uint16\)"):
        mfgrad.evaluate(p.observed, U16, V16.view(np.float16), LAM)
    with pytest.raises(TypeError, match="dtype must be float32, float64, float16 or 'bfloat16', got int32"):
        mfgrad.Plan(p.observed, 4, dtype=np.int32)
    with pytest.raises(TypeError, match="round_to rounds float32 arrays"):
        mfgrad.round_to(p.U.astype(np.float64))
    with pytest.raises(TypeError, match="round_to rounds to 'bfloat16' or float16, not float64"):
        mfgrad.round_to(p.U, np.float64)
    with pytest.raises(TypeError, match="out has dtype float16; round_to writes uint16"):
        mfgrad.round_to(p.U, "bfloat16", out=np.zeros(p.U.shape, np.float16))
    with pytest.raises(ValueError, match=r"out has shape \(37, 16\) but the input has shape \(37, 17\)"):
        mfgrad.round_to(p.U, out=np.zeros((37, 16), np.uint16))
    with pytest.raises(ValueError, match="x is not C-contiguous"):
        mfgrad.round_to(np.asfortranarray(p.U))
    with pytest.raises(TypeError, match="widen takes float16 or uint16"):
        mfgrad.widen(p.U)


def test_torch_sixteen_bit_tensors_and_float32_masters():
    torch = require("torch")
    import mfgrad.torch as mt

    p = random_problem(**SHAPES["k17"], seed=7, dtype=np.float32)
    for torch_dtype, storage in ((torch.bfloat16, "bfloat16"), (torch.float16, np.float16)):
        U16, V16, Uw, Vw = stored(p, storage)
        want = mfgrad.evaluate(p.observed, Uw, Vw, LAM, kernel="naive")
        # torch's own rounding of the float32 factors is round_to's.
        tU, tV = torch.from_numpy(p.U).to(torch_dtype), torch.from_numpy(p.V).to(torch_dtype)
        assert torch.equal(tU.float(), torch.from_numpy(Uw)) and torch.equal(tV.float(), torch.from_numpy(Vw))

        objective = mt.MaskedMFLoss(p.observed, p.k, LAM, dtype=torch_dtype)
        assert objective.plan.precision == ("bfloat16" if torch_dtype == torch.bfloat16 else "float16")
        loss_bound, gu_bound, _ = mfgrad.error_bounds(p.observed, U16, V16, LAM)
        # 16-bit tensors, read in place: a float32 loss (its rounding to float32 added to the rule);
        # autograd converts the float32 gradients to the tensors' dtype (one more rounding, under 2^-8).
        U, V = tU.clone().requires_grad_(), tV.clone().requires_grad_()
        loss = objective(U, V)
        assert loss.dtype == torch.float32
        loss.backward()
        assert abs(loss.item() - want[0]) <= loss_bound + want[0] * 2**-24
        assert U.grad.dtype == torch_dtype
        difference = np.abs(U.grad.float().numpy().astype(np.float64) - want[1])
        assert (difference <= gu_bound + np.abs(want[1]) * 2**-8).all()
        # float32 masters: rounded at each call, float32 gradients within the rule of the stored values.
        Um = torch.from_numpy(p.U.copy()).requires_grad_()
        Vm = torch.from_numpy(p.V.copy()).requires_grad_()
        loss = objective(Um, Vm)
        loss.backward()
        assert Um.grad.dtype == Vm.grad.dtype == torch.float32
        assert_within_bounds(p.observed, U16, V16, (loss.item(), Um.grad.numpy(), Vm.grad.numpy()), want)
