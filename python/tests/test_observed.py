"""Observed from NumPy arrays, SciPy matrices, presets and ratings files; its validation messages."""

import gc
import os
import pathlib

import numpy as np
import pytest

import mfgrad
from conftest import random_problem, require


def csr_order(rows, cols, values):
    order = np.lexsort((cols, rows))
    return rows[order], cols[order], values[order]


def test_entries_come_back_in_csr_order_as_given():
    p = random_problem(30, 20, 0.3, 4, seed=1)
    rows, cols, values = p.observed.coo()
    want_rows, want_cols, want_values = csr_order(p.rows, p.cols, p.values)
    np.testing.assert_array_equal(rows, want_rows)
    np.testing.assert_array_equal(cols, want_cols)
    np.testing.assert_array_equal(values, want_values)
    assert rows.dtype == cols.dtype == np.int32 and values.dtype == np.float64
    assert p.observed.shape == (30, 20) and p.observed.nnz == p.values.size
    np.testing.assert_array_equal(p.observed.coo(dtype=np.float32)[2], want_values.astype(np.float32))


def test_coo_views_are_read_only_and_keep_the_observed_alive():
    p = random_problem(10, 8, 0.5, 2, seed=2)
    rows, cols, values = p.observed.coo()
    with pytest.raises(ValueError):
        values[0] = 0
    want = values.copy()
    p.observed = None
    gc.collect()
    np.testing.assert_array_equal(values, want)


def test_shape_defaults_to_one_past_the_largest_ids():
    obs = mfgrad.Observed(np.array([0, 4, 2]), np.array([7, 1, 3]), np.array([1.0, 2.0, 3.0]))
    assert obs.shape == (5, 8)
    empty = mfgrad.Observed([], [], [])
    assert empty.shape == (0, 0) and empty.nnz == 0


def test_any_integer_dtype_for_ids():
    for dtype in (np.int8, np.uint16, np.int32, np.uint64, np.int64):
        obs = mfgrad.Observed(np.array([1, 0], dtype=dtype), np.array([0, 2], dtype=dtype), [5.0, 4.0])
        np.testing.assert_array_equal(obs.coo()[1], [2, 0])


def test_duplicates_error_by_default_or_sum_or_keep_the_last():
    rows, cols, values = np.array([1, 0, 1]), np.array([2, 0, 2]), np.array([1.5, 3.0, 4.0])
    with pytest.raises(mfgrad.Error, match=r"duplicate entry \(row 1, column 2\): input entry #2.*repeats input entry #0"):
        mfgrad.Observed(rows, cols, values)
    summed = mfgrad.Observed(rows, cols, values, duplicates="sum")
    assert summed.nnz == 2 and summed.stats["duplicates_merged"] == 1
    assert summed.coo()[2][1] == values[0] + values[2]
    assert mfgrad.Observed(rows, cols, values, duplicates="last").coo()[2][1] == values[2]
    with pytest.raises(mfgrad.Error, match="unknown duplicate policy 'first' \\(expected error, sum or last\\)"):
        mfgrad.Observed(rows, cols, values, duplicates="first")


@pytest.mark.parametrize(
    "rows, cols, values, shape, message",
    [
        ([0, -1], [0, 1], [1.0, 2.0], (3, 3), r"row id -1 is outside the matrix's 3 rows \(valid: 0..2\) at input entry #1"),
        ([0, 1], [0, 3], [1.0, 2.0], (3, 3), r"column id 3 is outside the matrix's 3 columns .* at input entry #1"),
        ([0, 1], [0, 1], [1.0, np.nan], (3, 3), r"value is not finite at input entry #1: row 1, column 1, value nan"),
        ([0, 1], [0, 1], [1.0, np.inf], None, r"value is not finite at input entry #1"),
        ([0, 1, 2], [0, 1], [1.0, 2.0], None, r"entries disagree in length: 3 row ids, 2 column ids, 2 values"),
        ([0], [0], [1.0], (-1, 3), r"matrix shape -1 x 3 is negative"),
    ],
)
def test_invalid_entries_raise_the_library_message(rows, cols, values, shape, message):
    with pytest.raises(mfgrad.Error, match=message) as raised:
        mfgrad.Observed(np.array(rows), np.array(cols), np.array(values), shape=shape)
    assert isinstance(raised.value, ValueError)


def test_float32_overflow_is_named_when_a_float32_plan_is_asked_for():
    obs = mfgrad.Observed([0], [0], [1e39])
    mfgrad.Plan(obs, 2, dtype=np.float64)
    with pytest.raises(mfgrad.Error, match=r"float32 plan refused: input entry #0: row 0, column 0, value 1e\+39 does not fit"):
        mfgrad.Plan(obs, 2, dtype=np.float32)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"rows": [0.0, 1.0]}, TypeError, "rows must hold integers, got dtype float64"),
        ({"cols": np.array([True, False])}, TypeError, "cols must hold integers, got dtype bool"),
        ({"rows": [[0, 1]]}, ValueError, r"rows must be 1-D \(one per entry\), got shape \(1, 2\)"),
        ({"values": ["a", "b"]}, TypeError, "values must hold real numbers, got dtype <U1"),
        ({"values": np.array([1 + 1j, 2])}, TypeError, "values must hold real numbers, got dtype complex128"),
        ({"rows": np.array([0, 2**31])}, ValueError, r"row id 2147483648 at input entry #1 does not fit in 32 bits"),
        ({"cols": np.array([2**40, 0], dtype=np.uint64)}, ValueError, r"column id 1099511627776 at input entry #0"),
        ({"shape": (3,)}, ValueError, r"shape must be \(m, n\), got \(3,\)"),
        ({"shape": 3}, ValueError, r"shape must be \(m, n\), got 3"),
        ({"shape": (3, 2.5)}, TypeError, ""),
        ({"shape": (2**31, 3)}, ValueError, r"shape: m 2147483648 does not fit in 32 bits"),
        ({"shape": (2**70, 4)}, ValueError, r"shape: m 1180591620717411303424 does not fit in 32 bits"),
        ({"shape": (3, -2**40)}, ValueError, r"shape: n -1099511627776 is negative"),
    ],
)
def test_arguments_numpy_cannot_express_for_the_library_raise(kwargs, error, message):
    args = {"rows": [0, 1], "cols": [1, 0], "values": [1.0, 2.0]} | kwargs
    with pytest.raises(error, match=message):
        mfgrad.Observed(**args)


def test_from_scipy_takes_every_stored_entry():
    sparse = require("scipy.sparse")
    p = random_problem(25, 15, 0.3, 2, seed=3)
    coo = sparse.coo_matrix((p.values, (p.rows, p.cols)), shape=(25, 15))
    want = p.observed.coo()
    for matrix in (coo, coo.tocsr(), coo.tocsc()):
        got = mfgrad.from_scipy(matrix)
        assert got.shape == (25, 15)
        for g, w in zip(got.coo(), want):
            np.testing.assert_array_equal(g, w)
    explicit_zero = sparse.csr_matrix((np.array([0.0, 2.0]), np.array([1, 0]), np.array([0, 1, 2])), shape=(2, 2))
    assert mfgrad.from_scipy(explicit_zero).nnz == 2


def test_from_scipy_applies_the_duplicate_policy_and_refuses_dense_input():
    sparse = require("scipy.sparse")
    coo = sparse.coo_matrix((np.array([1.0, 2.5]), (np.array([1, 1]), np.array([0, 0]))), shape=(2, 2))
    with pytest.raises(mfgrad.Error, match=r"duplicate entry \(row 1, column 0\)"):
        mfgrad.from_scipy(coo)
    assert mfgrad.from_scipy(coo, duplicates="sum").coo()[2][0] == 1.0 + 2.5
    with pytest.raises(TypeError, match="from_scipy takes a SciPy sparse matrix, got numpy.ndarray"):
        mfgrad.from_scipy(np.eye(2))


def test_presets_load_with_their_advertised_size():
    tiny = next(p for p in mfgrad.presets() if p["name"] == "tiny")
    obs = mfgrad.load_dataset("tiny")
    assert obs.shape == (tiny["rows"], tiny["cols"]) and obs.nnz == tiny["nnz"]
    assert "tiny" in obs.description
    reseeded = mfgrad.load_dataset("tiny", seed=7)
    assert not np.array_equal(reseeded.coo()[1], obs.coo()[1])
    # Neither a preset nor a file: the file is missing, so FileNotFoundError, naming the presets.
    with pytest.raises(FileNotFoundError, match="'no-such-preset' is neither a data preset .*tiny.* nor an existing file"):
        mfgrad.load_dataset("no-such-preset")
    # A preset's ids are its indices.
    obs, row_ids, col_ids = mfgrad.load_dataset("tiny", return_ids=True)
    np.testing.assert_array_equal(row_ids, np.arange(obs.shape[0]))
    np.testing.assert_array_equal(col_ids, np.arange(obs.shape[1]))


def test_ratings_files_load_with_dense_ids(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("userId,movieId,rating,timestamp\r\n10,300,4.0,1\r\n2,300,3.5,1\r\n10,7,5.0,1\r\n")
    obs = mfgrad.load_dataset(path)  # os.PathLike is accepted
    assert obs.shape == (2, 2) and obs.nnz == 3
    rows, cols, values = obs.coo()
    # users 2 < 10 become rows 0, 1; movies 7 < 300 columns 0, 1
    np.testing.assert_array_equal(rows, [0, 1, 1])
    np.testing.assert_array_equal(cols, [1, 0, 1])
    np.testing.assert_array_equal(values, [3.5, 5.0, 4.0])
    bad = tmp_path / "bad.csv"
    bad.write_text("userId,movieId,rating\n1,2,oops\n")
    with pytest.raises(mfgrad.Error, match=r"bad.csv:2:"):
        mfgrad.load_dataset(str(bad))


def test_original_ids_map_rows_and_columns_back(tmp_path):
    path = tmp_path / "ratings.csv"
    rng = np.random.default_rng(5)
    users = rng.choice(10**9, size=40, replace=False)
    items = rng.choice(10**6, size=25, replace=False)
    triples = {(int(rng.choice(users)), int(rng.choice(items))): float(rng.integers(1, 11)) / 2 for _ in range(300)}
    path.write_text("userId,movieId,rating,timestamp\n" + "".join(f"{u},{i},{r},1\n" for (u, i), r in triples.items()))
    obs, row_ids, col_ids = mfgrad.load_dataset(path, return_ids=True)
    assert row_ids.dtype == np.int64 and col_ids.dtype == np.int64
    assert obs.shape == (len(row_ids), len(col_ids))
    rows, cols, values = obs.coo()
    # Every entry read back through the ids is the rating the file gave that (user, item).
    back = {(int(row_ids[r]), int(col_ids[c])): float(v) for r, c, v in zip(rows, cols, values)}
    assert back == triples
    assert np.all(np.diff(row_ids) > 0) and np.all(np.diff(col_ids) > 0)


def test_matrix_market_ids_are_its_one_based_indices(tmp_path):
    path = tmp_path / "m.mtx"
    path.write_text("%%MatrixMarket matrix coordinate real general\n3 4 2\n1 4 1.5\n3 2 2.5\n")
    obs, row_ids, col_ids = mfgrad.load_dataset(path, return_ids=True)
    np.testing.assert_array_equal(row_ids, [1, 2, 3])
    np.testing.assert_array_equal(col_ids, [1, 2, 3, 4])


def test_files_that_cannot_be_opened_raise_oserror(tmp_path):
    missing = tmp_path / "absent.csv"
    with pytest.raises(FileNotFoundError) as raised:
        mfgrad.load_dataset(missing)
    assert raised.value.filename == str(missing)
    with pytest.raises(IsADirectoryError):
        mfgrad.load_dataset(tmp_path, format="csv")
    if os.geteuid() != 0:  # root reads anything
        locked = tmp_path / "locked.csv"
        locked.write_text("userId,movieId,rating\n1,2,3\n")
        locked.chmod(0)
        with pytest.raises(PermissionError):
            mfgrad.load_dataset(locked)
    plan = mfgrad.Plan(mfgrad.load_dataset("tiny"), 4)
    with pytest.raises(FileNotFoundError):
        mfgrad.Plan(mfgrad.load_dataset("tiny"), 4, mode="measure", wisdom=tmp_path / "no" / "such" / "dir" / "w.txt")
    del plan


def test_the_movielens_file_when_present():
    path = pathlib.Path(os.environ.get("MFGRAD_DATA_DIR", "../../../shared/data")) / "ml-latest-small" / "ratings.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    with open(path) as f:
        lines = [line for line in f.read().splitlines()[1:] if line]
    users = {line.split(",")[0] for line in lines}
    movies = {line.split(",")[1] for line in lines}
    obs = mfgrad.load_dataset(path)
    assert obs.shape == (len(users), len(movies)) and obs.nnz == len(lines)


def test_random_factors_are_reproducible_and_scaled():
    a = mfgrad.random_factor(50, 16, seed=3)
    assert a.shape == (50, 16) and a.dtype == np.float32 and a.flags.c_contiguous
    np.testing.assert_array_equal(a, mfgrad.random_factor(50, 16, seed=3))
    assert not np.array_equal(a, mfgrad.random_factor(50, 16, seed=4))
    wide = mfgrad.random_factor(2000, 16, seed=3, dtype=np.float64)
    half_width = np.sqrt(3) * 16**-0.25
    assert wide.dtype == np.float64 and np.abs(wide).max() <= half_width
    assert np.abs(wide).max() > 0.95 * half_width  # spread over the whole interval
    with pytest.raises(TypeError, match="dtype must be float32, float64, float16 or 'bfloat16', got int32"):
        mfgrad.random_factor(2, 2, dtype=np.int32)
