"""mfgrad: the masked matrix-factorization objective and its gradients, on NumPy arrays in place.

Given the observed entries Ω of M (m x n) and factors U (m x k), V (n x k):

    F(U, V) = ½ Σ_{(i,j)∈Ω} (M_ij − u_i·v_j)²  +  λ/2 (‖U‖²_F + ‖V‖²_F)
    ∂F/∂U   = −R V + λU,   ∂F/∂V = −Rᵀ U + λV,   R_ij = M_ij − u_i·v_j on Ω

    obs = mfgrad.Observed(rows, cols, values)             # validated and sorted once
    plan = mfgrad.Plan(obs, k=64, dtype=np.float32)       # the implementation, chosen once
    loss, grad_u, grad_v = plan.evaluate(U, V, 0.05)      # as often as the optimizer likes
    plan.evaluate(U, V, 0.05, grad_u, grad_v)             # gradients written into these arrays

U, V and the gradients are C-contiguous float32 or float64 arrays of one dtype, read and written where
they lie; anything else is refused (TypeError for a wrong type or dtype, ValueError otherwise) rather
than copied.

Factors may also be stored in 16 bits (Plan(..., dtype=np.float16) or dtype="bfloat16"): every product
and sum is then float32, and so are the gradients. float16 factors are np.float16 arrays. NumPy has no
bfloat16, so bfloat16 factors are uint16 arrays holding the bit patterns: a torch.bfloat16 tensor's
memory viewed as uint16, or what round_to returns. The mixed-precision recipe keeps float32 master
factors and refreshes the 16-bit copy after each step:

    plan = mfgrad.Plan(obs, k=64, dtype="bfloat16")
    U16 = mfgrad.round_to(U, "bfloat16")                  # uint16 bits; again after each step:
    mfgrad.round_to(U, "bfloat16", out=U16)
    loss, grad_u, grad_v = plan.evaluate(U16, V16, 0.05)  # float32 gradients
    mfgrad.widen(U16)                                     # the stored values, exactly, as float32

Input the library refuses (shapes, λ, ids, duplicates, outputs that overlap inputs)
raises mfgrad.Error, a ValueError carrying the C++ library's message; memory that runs out, or
would (the library checks before large allocations), raises mfgrad.OutOfMemoryError, a MemoryError
saying what was being allocated, how much and under which limit. Nothing is written when an error
is raised. The GIL is released while a kernel runs. mfgrad.torch has the PyTorch autograd
function.
"""

from ._core import (
    Error,
    Kernel,
    Observed,
    OutOfMemoryError,
    Plan,
    __version__,
    error_bounds,
    evaluate,
    kernels,
    load_dataset,
    presets,
    random_factor,
    round_to,
    simd_arch,
    widen,
)

__all__ = [
    "Error",
    "Kernel",
    "Observed",
    "OutOfMemoryError",
    "Plan",
    "__version__",
    "error_bounds",
    "evaluate",
    "from_scipy",
    "kernels",
    "load_dataset",
    "presets",
    "random_factor",
    "round_to",
    "simd_arch",
    "widen",
]


def from_scipy(matrix, duplicates="error"):
    """The stored entries of a SciPy sparse matrix (CSR, CSC, COO, ...) as an Observed.

    Every stored entry is an observed one, explicit zeros included; repeated (i, j) pairs (possible in
    COO and unsorted CSR) follow `duplicates` ('error', 'sum' or 'last', in storage order).
    """
    import scipy.sparse

    if not scipy.sparse.issparse(matrix):
        raise TypeError(f"from_scipy takes a SciPy sparse matrix, got {type(matrix).__module__}.{type(matrix).__name__}")
    coo = matrix.tocoo(copy=False)
    return Observed(coo.row, coo.col, coo.data, shape=coo.shape, duplicates=duplicates)
