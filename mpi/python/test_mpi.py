"""mfgrad.mpi under mpirun: every rank runs every test, in the same order (they are collective).

The distributed result is held to the single-process oracle (mfgrad.evaluate with kernel="naive") within
mfgrad.error_bounds, the library's tolerance rule.
"""

import numpy as np
import pytest
from mpi4py import MPI

import mfgrad
import mfgrad.mpi

COMM = MPI.COMM_WORLD


def random_coo(m, n, density, seed):
    rng = np.random.default_rng(seed)
    mask = rng.random((m, n)) < density
    rows, cols = np.nonzero(mask)
    values = rng.uniform(1.0, 5.0, size=rows.size)
    return rows.astype(np.int32), cols.astype(np.int32), values


def whole(share, mine, k):
    """Every rank's owned rows of a gradient, in order, on every rank."""
    return np.concatenate(COMM.allgather(mine)).reshape(-1, k)


def stored(x, dtype):
    """float64 draws as the factors of a plan of `dtype` holds them (uint16 bit patterns for bfloat16)."""
    if dtype == "bfloat16":
        return mfgrad.round_to(x.astype(np.float32), "bfloat16")
    return x.astype(dtype)


def check_against_oracle(obs, share, dtype, k, lam, seed):
    m, n = obs.shape
    rng = np.random.default_rng(seed)
    U = stored(rng.uniform(-0.5, 0.5, size=(m, k)), dtype)
    V = stored(rng.uniform(-0.5, 0.5, size=(n, k)), dtype)
    plan = mfgrad.mpi.Plan(share, k, dtype=dtype)
    if share.partition == "rows":
        loss, gu, gv = plan.evaluate(np.ascontiguousarray(U[share.begin : share.end]), V, lam)
        gu = whole(share, gu, k)
    else:
        loss, gu, gv = plan.evaluate(U, np.ascontiguousarray(V[share.begin : share.end]), lam)
        gv = whole(share, gv, k)
    want_loss, want_u, want_v = mfgrad.evaluate(obs, U, V, lam, kernel="naive")
    bound_loss, bound_u, bound_v = mfgrad.error_bounds(obs, U, V, lam)
    assert abs(loss - want_loss) <= bound_loss
    assert np.all(np.abs(gu - want_u) <= bound_u)
    assert np.all(np.abs(gv - want_v) <= bound_v)
    assert np.count_nonzero(want_u) > 0.9 * want_u.size  # not trivial
    assert len(set(COMM.allgather(loss))) == 1  # the same loss on every rank
    assert plan.last["bytes_sent"] == plan.bytes_sent
    assert plan.last["imbalance"] >= 1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, "bfloat16"])
@pytest.mark.parametrize("partition", ["rows", "columns"])
def test_coo_pieces_match_the_oracle(dtype, partition):
    rows, cols, values = random_coo(31, 23, 0.3, 5)
    obs = mfgrad.Observed(rows, cols, values, shape=(31, 23))
    r, p = COMM.rank, COMM.size
    share = mfgrad.mpi.Share.from_coo(COMM, rows[r::p], cols[r::p], values[r::p], (31, 23), partition=partition)
    assert share.partition == partition
    assert share.nnz == obs.nnz
    assert share.bounds[0] == 0 and share.bounds[-1] == (31 if partition == "rows" else 23)
    check_against_oracle(obs, share, dtype, 6, 0.1, 7)


def test_preset_shares_match_the_oracle():
    obs = mfgrad.load_dataset("ml-small")
    share = mfgrad.mpi.Share(COMM, "ml-small")
    assert share.partition == mfgrad.mpi.choose_partition(610, 9724, COMM.size)
    assert share.shape == obs.shape
    check_against_oracle(obs, share, np.float32, 8, 0.05, 3)


def test_errors_reach_every_rank():
    rows, cols, values = random_coo(10, 10, 0.5, 1)
    r, p = COMM.rank, COMM.size
    rows = rows[r::p].copy()
    if r == p - 1:
        rows[0] = 10  # outside the shape, on the last rank only
    with pytest.raises(mfgrad.Error, match=f"rank {p - 1} of {p}: row id 10 is outside"):
        mfgrad.mpi.Share.from_coo(COMM, rows, cols[r::p], values[r::p], (10, 10))


def test_a_wrong_factor_on_one_rank_fails_every_rank():
    rows, cols, values = random_coo(12, 8, 0.5, 2)
    share = mfgrad.mpi.Share.from_coo(COMM, rows, cols, values, (12, 8), partition="rows") if COMM.rank == 0 else (
        mfgrad.mpi.Share.from_coo(COMM, rows[:0], cols[:0], values[:0], (12, 8), partition="rows"))
    plan = mfgrad.mpi.Plan(share, 2, dtype=np.float32)
    own = share.end - share.begin
    U = np.ones((own + (1 if COMM.rank == COMM.size - 1 else 0), 2), np.float32)
    V = np.ones((8, 2), np.float32)
    with pytest.raises(mfgrad.Error, match=f"rank {COMM.size - 1} of {COMM.size}: U has shape"):
        plan.evaluate(U, V, 0.1)
