"""Shared pieces of the Python tests: small problems, the oracle comparison, optional modules."""

import importlib
import os
from dataclasses import dataclass

import numpy as np
import pytest

import mfgrad

CI = os.environ.get("MFGRAD_CI", "") not in ("", "0")
DEBIAN_PACKAGES = {"torch": "python3-torch", "scipy": "python3-scipy"}


def require(name):
    """The module, or a skip naming its Debian package; under MFGRAD_CI a missing module is a failure."""
    try:
        return importlib.import_module(name)
    except ImportError:
        message = f"{name} is not installed (Debian package {DEBIAN_PACKAGES[name]})"
        if CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@dataclass
class Problem:
    observed: mfgrad.Observed
    rows: np.ndarray  # the entries as given, in input order
    cols: np.ndarray
    values: np.ndarray
    U: np.ndarray
    V: np.ndarray

    @property
    def k(self):
        return self.U.shape[1]


def random_problem(m, n, density, k, seed, dtype=np.float64, empty_rows=0, empty_cols=0):
    """Each (i, j) observed with probability `density`, values in [1, 5], listed in shuffled order (so input
    order differs from CSR order); rows below empty_rows and columns below empty_cols left empty. Factor
    entries uniform in ±1/√k keep u·v of order one."""
    rng = np.random.default_rng(seed)
    mask = rng.random((m, n)) < density
    mask[:empty_rows] = False
    mask[:, :empty_cols] = False
    rows, cols = np.nonzero(mask)
    order = rng.permutation(rows.size)
    rows, cols = rows[order], cols[order]
    values = rng.uniform(1, 5, rows.size)
    scale = 1 / np.sqrt(k)
    U = rng.uniform(-scale, scale, (m, k)).astype(dtype)
    V = rng.uniform(-scale, scale, (n, k)).astype(dtype)
    return Problem(mfgrad.Observed(rows, cols, values, shape=(m, n)), rows, cols, values, U, V)


def assert_within_rule(problem, lam, got, want):
    """got and want are (loss, grad_u, grad_v); the allowed difference is the library's tolerance rule
    (include/mfgrad/check.hpp) for problem.U's dtype."""
    loss_bound, gu_bound, gv_bound = mfgrad.error_bounds(problem.observed, problem.U, problem.V, lam)
    assert abs(got[0] - want[0]) <= loss_bound, f"loss {got[0]!r}, oracle {want[0]!r}, bound {loss_bound:.3g}"
    for name, g, w, bound in (("grad_u", got[1], want[1], gu_bound), ("grad_v", got[2], want[2], gv_bound)):
        assert g.shape == w.shape == bound.shape
        difference = np.abs(np.asarray(g, dtype=np.float64) - np.asarray(w, dtype=np.float64))
        bad = np.argwhere(~(difference <= bound))
        assert bad.size == 0, (
            f"{name}[{bad[0][0]}, {bad[0][1]}] = {g[tuple(bad[0])]!r}, oracle {w[tuple(bad[0])]!r}, "
            f"bound {bound[tuple(bad[0])]:.3g} ({len(bad)} elements outside)"
        )


def assert_not_trivial(result):
    """Guards against test data on which a wrong kernel could still agree: most gradient entries non-zero."""
    loss, gu, gv = result
    assert loss > 0
    nonzero = np.count_nonzero(gu) + np.count_nonzero(gv)
    assert nonzero > 0.9 * (gu.size + gv.size), "test data too trivial"
