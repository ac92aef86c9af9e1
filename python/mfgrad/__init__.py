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
than copied. Input the library refuses (shapes, λ, ids, duplicates, outputs that overlap inputs)
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
    simd_arch,
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
    "simd_arch",
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
