# Types of mfgrad's compiled core (python/src/module.cpp), for editors and type checkers.
from os import PathLike
from typing import Any, Literal, Optional, Union, overload

import numpy as np
import numpy.typing as npt

__version__: str

DTypeLike = Union[npt.DTypeLike, str]
FloatArray = npt.NDArray[np.floating[Any]]

class Error(ValueError):
    """Input the library refuses, with the C++ library's message."""

class Kernel:
    """A registered implementation (read-only)."""

    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def isa(self) -> str: ...
    @property
    def oracle(self) -> bool: ...
    @property
    def serial(self) -> bool: ...
    @property
    def deterministic(self) -> bool: ...
    @property
    def simd(self) -> bool: ...
    @property
    def tier(self) -> int: ...
    @property
    def supported(self) -> bool: ...
    @property
    def invocations(self) -> int: ...

def kernels() -> list[Kernel]: ...
def simd_arch() -> str: ...

class Observed:
    """The observed entries Ω of M, validated and sorted once (CSR and CSC); immutable."""

    def __init__(
        self,
        rows: npt.ArrayLike,
        cols: npt.ArrayLike,
        values: npt.ArrayLike,
        shape: Optional[tuple[int, int]] = None,
        duplicates: str = "error",
    ) -> None: ...
    @property
    def shape(self) -> tuple[int, int]: ...
    @property
    def nnz(self) -> int: ...
    @property
    def description(self) -> str: ...
    @property
    def stats(self) -> dict[str, int]: ...
    def coo(
        self, dtype: DTypeLike = ...
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], FloatArray]: ...

@overload
def load_dataset(
    what: Union[str, bytes, PathLike[str], PathLike[bytes]],
    format: str = "auto",
    duplicates: str = "error",
    seed: int = 0,
    return_ids: Literal[False] = False,
) -> Observed: ...
@overload
def load_dataset(
    what: Union[str, bytes, PathLike[str], PathLike[bytes]],
    format: str = "auto",
    duplicates: str = "error",
    seed: int = 0,
    *,
    return_ids: Literal[True],
) -> tuple[Observed, npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...
def presets() -> list[dict[str, Any]]: ...
def random_factor(rows: int, k: int, seed: int = 1, dtype: DTypeLike = ...) -> FloatArray: ...

class Plan:
    """The implementation chosen for one (Observed, k, dtype, threads), with its prepared layout."""

    def __init__(
        self,
        observed: Observed,
        k: int,
        dtype: DTypeLike = ...,
        threads: int = 0,
        mode: str = "estimate",
        wisdom: Optional[Union[str, PathLike[str]]] = None,
        kernel: Optional[str] = None,
        seconds_per_candidate: float = 0.3,
    ) -> None: ...
    def evaluate(
        self,
        U: FloatArray,
        V: FloatArray,
        lam: float,
        grad_u: Optional[FloatArray] = None,
        grad_v: Optional[FloatArray] = None,
        check_factors: bool = False,
    ) -> tuple[float, FloatArray, FloatArray]: ...
    def native_seconds(
        self,
        U: FloatArray,
        V: FloatArray,
        lam: float,
        grad_u: Optional[FloatArray] = None,
        grad_v: Optional[FloatArray] = None,
        repetitions: int = 1,
    ) -> list[float]: ...
    @property
    def kernel(self) -> str: ...
    @property
    def choice(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def candidates(self) -> list[tuple[str, float, bool]]: ...
    @property
    def threads(self) -> int: ...
    @property
    def k(self) -> int: ...
    @property
    def dtype(self) -> np.dtype[Any]: ...
    @property
    def from_wisdom(self) -> bool: ...
    @property
    def observed(self) -> Observed: ...

def evaluate(
    observed: Observed,
    U: FloatArray,
    V: FloatArray,
    lam: float,
    grad_u: Optional[FloatArray] = None,
    grad_v: Optional[FloatArray] = None,
    *,
    kernel: Optional[str] = None,
    threads: int = 0,
    check_factors: bool = False,
) -> tuple[float, FloatArray, FloatArray]: ...
def error_bounds(observed: Observed, U: FloatArray, V: FloatArray, lam: float) -> tuple[float, FloatArray, FloatArray]: ...
