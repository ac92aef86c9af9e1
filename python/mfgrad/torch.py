"""mfgrad's loss and gradients inside PyTorch autograd (CPU tensors: float32, float64, and factors
stored as bfloat16 or float16).

    criterion = mfgrad.torch.MaskedMFLoss(obs, k=32, lam=0.05)  # a Plan inside an nn.Module
    loss = criterion(U, V)                                       # U: m x k, V: n x k, requires_grad
    loss.backward()                                              # fills U.grad and V.grad

    loss = mfgrad.torch.masked_mf_loss(U, V, plan, lam)         # the functional form, with a Plan

The names follow PyTorch's own: the module is named like nn.MSELoss, the function like
F.mse_loss, and the autograd.Function behind both is MaskedMFLossFunction. The earlier names,
MaskedMF (the module) and MaskedMFLoss.apply (the function), still work and warn (DeprecationWarning).

One evaluation yields the loss and both gradients, so the forward pass does all the work, writing the
gradients straight into new tensors, and the backward pass hands them on (scaled when the incoming
gradient is not 1); a second backward through the same graph evaluates again. Tensors are read in
place: they must be dense, contiguous, on the CPU, and of the plan's dtype.

16-bit storage (dtype=torch.bfloat16 or torch.float16): the gradients are float32. Given float32
tensors, a 16-bit plan evaluates a copy rounded with mfgrad.round_to (made at each forward pass) and
hands the float32 gradients to them: the mixed-precision recipe, with float32 master weights as the
parameters the optimizer updates. Given 16-bit tensors, it reads them in place; autograd then stores
their .grad in their own dtype (it converts what backward returns), so keep float32 masters when the
gradients should stay float32.

plain_loss is the same objective written in plain PyTorch (gathers, sums, autograd), the yardstick the
tests and the benchmark compare with.
"""

import warnings

import numpy as np
import torch

from . import Plan, round_to

__all__ = ["MaskedMFLoss", "MaskedMFLossFunction", "entries", "masked_mf_loss", "plain_loss", "MaskedMF"]

_NUMPY_DTYPES = {torch.float32: np.float32, torch.float64: np.float64}
# The dtype argument of mfgrad.Plan for each torch dtype of the factors (NumPy has no bfloat16).
_PLAN_DTYPES = {**_NUMPY_DTYPES, torch.float16: np.float16, torch.bfloat16: "bfloat16"}
_HALF = (torch.bfloat16, torch.float16)
_PRECISIONS = {"float32": torch.float32, "float64": torch.float64, "bfloat16": torch.bfloat16, "float16": torch.float16}


def _numpy_dtype(dtype):
    if dtype not in _NUMPY_DTYPES:
        raise TypeError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
    return _NUMPY_DTYPES[dtype]


def _plan_dtype(dtype):
    if dtype not in _PLAN_DTYPES:
        raise TypeError(f"dtype must be torch.float32, torch.float64, torch.bfloat16 or torch.float16, got {dtype}")
    return _PLAN_DTYPES[dtype]


def _array(tensor, name):
    """The NumPy view of a tensor's memory (no copy), or the reason it cannot be used in place."""
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__module__}.{type(tensor).__qualname__}")
    if tensor.device.type != "cpu":
        raise ValueError(f"{name} is on {tensor.device}; mfgrad runs on the CPU")
    if tensor.layout != torch.strided:
        raise TypeError(f"{name} has layout {tensor.layout}; mfgrad takes dense tensors")
    if tensor.dtype not in _PLAN_DTYPES:
        raise TypeError(
            f"{name} has dtype {tensor.dtype}; mfgrad takes torch.float32, torch.float64, torch.bfloat16 or torch.float16"
        )
    if not tensor.is_contiguous():
        raise ValueError(
            f"{name} is not contiguous; mfgrad uses tensors in place and never copies them: pass {name}.contiguous()"
        )
    if tensor.dtype == torch.bfloat16:  # NumPy has no bfloat16: the same memory as uint16 bit patterns
        return tensor.detach().view(torch.int16).numpy().view(np.uint16)
    return tensor.detach().numpy()


def _factor(plan, tensor, name):
    """The array the plan reads: the tensor itself, or for a 16-bit plan given float32, a rounded copy."""
    storage = _PRECISIONS[plan.precision]
    if storage in _HALF and tensor.dtype == torch.float32:
        return round_to(_array(tensor, name), _PLAN_DTYPES[storage], threads=plan.threads)
    return _array(tensor, name)


def _evaluate(plan, U, V, lam):
    u, v = _factor(plan, U, "U"), _factor(plan, V, "V")
    gradient_dtype = torch.float32 if U.dtype in _HALF or _PRECISIONS[plan.precision] in _HALF else U.dtype
    grad_u = torch.empty(U.shape, dtype=gradient_dtype)
    grad_v = torch.empty(V.shape, dtype=gradient_dtype)
    loss, _, _ = plan.evaluate(u, v, float(lam), grad_u.numpy(), grad_v.numpy())
    return loss, grad_u, grad_v


class MaskedMFLossFunction(torch.autograd.Function):
    """F(U, V) = ½ Σ_Ω (M_ij − u_i·v_j)² + λ/2 (‖U‖² + ‖V‖²) of a Plan, differentiable in U and V.

    MaskedMFLossFunction.apply(U, V, plan, lam) returns a 0-d tensor of U's dtype, float32 for 16-bit factors
    (the loss is summed in double).
    """

    @staticmethod
    def forward(ctx, U, V, plan, lam):
        if not isinstance(plan, Plan):
            raise TypeError(f"plan must be an mfgrad.Plan, got {type(plan).__module__}.{type(plan).__qualname__}")
        loss, grad_u, grad_v = _evaluate(plan, U, V, lam)
        ctx.save_for_backward(U, V)
        ctx.plan, ctx.lam = plan, lam
        ctx.grads = (grad_u, grad_v)
        return torch.tensor(loss, dtype=torch.float32 if U.dtype in _HALF else U.dtype)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_loss):
        if ctx.grads is not None:
            # Handed on, not kept: autograd can then adopt the tensors as U.grad and V.grad without a copy.
            grad_u, grad_v = ctx.grads
            ctx.grads = None
        else:
            U, V = ctx.saved_tensors
            _, grad_u, grad_v = _evaluate(ctx.plan, U, V, ctx.lam)
        if grad_loss.item() != 1.0:
            grad_u.mul_(grad_loss)
            grad_v.mul_(grad_loss)
        return (grad_u if ctx.needs_input_grad[0] else None, grad_v if ctx.needs_input_grad[1] else None, None, None)


def masked_mf_loss(U, V, plan, lam):
    """The loss F(U, V) of a Plan as a 0-d tensor, differentiable in U and V (like F.mse_loss).

    A tensor of U's dtype, float32 for 16-bit factors; MaskedMFLossFunction.apply(U, V, plan, lam).
    """
    return MaskedMFLossFunction.apply(U, V, plan, lam)


class _DeprecatedApply:
    """MaskedMFLoss.apply(U, V, plan, lam) on the class, from when MaskedMFLoss was the autograd.Function:
    still works, warns. On an instance, apply is nn.Module.apply(fn) as on any module."""

    def __get__(self, instance, owner):
        if instance is not None:  # module.apply(fn), nn.Module's own, on every instance
            return torch.nn.Module.apply.__get__(instance, owner)

        def apply(U, V, plan, lam):
            warnings.warn(
                "mfgrad.torch.MaskedMFLoss.apply is deprecated: MaskedMFLoss is now the nn.Module; use "
                "mfgrad.torch.masked_mf_loss(U, V, plan, lam) or MaskedMFLossFunction.apply",
                DeprecationWarning,
                stacklevel=2,
            )
            return MaskedMFLossFunction.apply(U, V, plan, lam)

        return apply


class MaskedMFLoss(torch.nn.Module):
    """The objective of one Observed as a module (like nn.MSELoss): forward(U, V) returns the loss.

    The plan (the implementation for this data, k, dtype and thread count) is made here, once; the
    arguments after `lam` are those of mfgrad.Plan, with a torch dtype: torch.bfloat16 or torch.float16
    store the factors in 16 bits (forward then takes float32 master factors, rounded at each call, or
    16-bit ones).
    """

    def __init__(self, observed, k, lam, dtype=torch.float32, threads=0, mode="estimate", wisdom=None, kernel=None):
        super().__init__()
        self.plan = Plan(observed, k, dtype=_plan_dtype(dtype), threads=threads, mode=mode, wisdom=wisdom, kernel=kernel)
        self.lam = float(lam)

    def forward(self, U, V):
        return MaskedMFLossFunction.apply(U, V, self.plan, self.lam)

    def extra_repr(self):
        return f"plan={self.plan!r}, lam={self.lam}"

    apply = _DeprecatedApply()


class MaskedMF(MaskedMFLoss):
    """Deprecated name of MaskedMFLoss (the module); warns when made."""

    def __init__(self, *args, **kwargs):
        warnings.warn(
            "mfgrad.torch.MaskedMF is deprecated: use mfgrad.torch.MaskedMFLoss (the same module)",
            DeprecationWarning,
            stacklevel=2,
        )
        super().__init__(*args, **kwargs)


def entries(observed, dtype=torch.float32):
    """(rows, cols, values) of an Observed as new tensors (int64 ids, values in `dtype`), in CSR order."""
    rows, cols, values = observed.coo()
    return (
        torch.from_numpy(rows.astype(np.int64)),
        torch.from_numpy(cols.astype(np.int64)),
        torch.from_numpy(values.astype(_numpy_dtype(dtype))),
    )


def plain_loss(U, V, rows, cols, values, lam):
    """The objective in plain PyTorch: gathers of the factor rows, sums, and autograd for the gradients.

    rows, cols, values as from entries(); memory grows with the number of entries times k, so large
    data is taken in slices of entries, each with lam = 0 but one (the regulariser is skipped at 0).
    """
    residual = values - (U[rows] * V[cols]).sum(dim=1)
    loss = 0.5 * (residual * residual).sum()
    return loss + 0.5 * lam * ((U * U).sum() + (V * V).sum()) if lam else loss
