"""Every kernel from Python against the oracle; plans; arrays used in place; every refused argument."""

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import mfgrad
from conftest import assert_not_trivial, assert_within_rule, random_problem

KERNELS = [k.name for k in mfgrad.kernels()]
DTYPES = [np.float32, np.float64]
# k around the SIMD widths (4, 8, 16 lanes), empty rows and columns, m ≠ n both ways, dense and sparse.
SHAPES = {
    "k1": dict(m=37, n=29, density=0.3, k=1),
    "k17": dict(m=37, n=29, density=0.3, k=17),
    "k64": dict(m=37, n=29, density=0.3, k=64),
    "empty_rows_cols": dict(m=50, n=40, density=0.2, k=9, empty_rows=10, empty_cols=5),
    "tall_dense": dict(m=131, n=7, density=1.0, k=16),
    "wide_sparse": dict(m=7, n=300, density=0.05, k=33),
}
LAM = 0.3


def problem(shape, dtype, seed=11):
    return random_problem(**SHAPES[shape], seed=seed, dtype=dtype)


def test_every_registered_kernel_is_listed():
    assert "naive" in KERNELS and len(set(KERNELS)) == len(KERNELS)
    for k in mfgrad.kernels():
        assert k.description and k.isa and isinstance(k.deterministic, bool) and isinstance(k.supported, bool)
    assert mfgrad.simd_arch()


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kernel", KERNELS)
def test_kernel_matches_the_oracle(kernel, shape, dtype):
    if not next(k for k in mfgrad.kernels() if k.name == kernel).supported:
        pytest.skip(f"{kernel} does not run on this CPU")
    p = problem(shape, dtype)
    want = mfgrad.evaluate(p.observed, p.U, p.V, LAM, kernel="naive")
    assert_not_trivial(want)
    for threads in (1, 2):
        got = mfgrad.evaluate(p.observed, p.U, p.V, LAM, kernel=kernel, threads=threads)
        assert got[1].dtype == got[2].dtype == dtype
        assert_within_rule(p, LAM, got, want)
        plan = mfgrad.Plan(p.observed, p.k, dtype=dtype, threads=threads, kernel=kernel)
        assert plan.kernel == kernel
        assert_within_rule(p, LAM, plan.evaluate(p.U, p.V, LAM), want)


def test_the_named_kernel_is_the_one_that_runs(monkeypatch):
    p = problem("k17", np.float64)
    counts = {k.name: k.invocations for k in mfgrad.kernels()}
    mfgrad.evaluate(p.observed, p.U, p.V, LAM, kernel="csc_cols_omp")
    after = {k.name: k.invocations for k in mfgrad.kernels()}
    assert {name for name in after if after[name] != counts[name]} == {"csc_cols_omp"}
    monkeypatch.setenv("MFGRAD_KERNEL", "tbb")
    mfgrad.evaluate(p.observed, p.U, p.V, LAM)
    assert next(k for k in mfgrad.kernels() if k.name == "tbb").invocations == after["tbb"] + 1
    monkeypatch.setenv("MFGRAD_KERNEL", "nope")
    with pytest.raises(mfgrad.Error, match="MFGRAD_KERNEL: unknown implementation 'nope'"):
        mfgrad.evaluate(p.observed, p.U, p.V, LAM)


def test_unknown_kernel_lists_the_known_ones():
    p = problem("k1", np.float64)
    with pytest.raises(mfgrad.Error, match=r"unknown implementation 'fastest' \(known: (.*)\)") as raised:
        mfgrad.evaluate(p.observed, p.U, p.V, LAM, kernel="fastest")
    for name in KERNELS:
        assert name in str(raised.value)
    with pytest.raises(mfgrad.Error, match="unknown implementation 'fastest'"):
        mfgrad.Plan(p.observed, p.k, kernel="fastest")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gradients_are_written_into_the_arrays_given(dtype):
    p = problem("k17", dtype)
    plan = mfgrad.Plan(p.observed, p.k, dtype=dtype)
    grad_u, grad_v = np.full_like(p.U, np.nan), np.full_like(p.V, np.nan)
    loss, gu, gv = plan.evaluate(p.U, p.V, LAM, grad_u, grad_v)
    assert gu is grad_u and gv is grad_v
    assert np.isfinite(grad_u).all() and np.isfinite(grad_v).all()
    fresh = plan.evaluate(p.U, p.V, LAM)
    assert fresh[0] == loss
    np.testing.assert_array_equal(fresh[1], grad_u)
    np.testing.assert_array_equal(fresh[2], grad_v)
    # A C-contiguous slice of a larger buffer is written where it lies, and nothing around it is.
    block = np.full((p.U.shape[0] + 2, p.k), -7.0, dtype=dtype)
    out = block[1:-1]
    assert plan.evaluate(p.U, p.V, LAM, grad_u=out)[1] is out
    np.testing.assert_array_equal(block[1:-1], grad_u)
    assert (block[0] == -7).all() and (block[-1] == -7).all()


def test_the_factors_memory_itself_reaches_the_library():
    # The overlap check compares addresses: it can only fire if U and V are not copies.
    p = problem("k17", np.float64)
    plan = mfgrad.Plan(p.observed, p.k, dtype=np.float64)
    with pytest.raises(mfgrad.Error, match=r"grad_U overlaps an input factor \(U or V\)"):
        plan.evaluate(p.U, p.V, LAM, grad_u=p.U)
    with pytest.raises(mfgrad.Error, match=r"grad_V overlaps an input factor \(U or V\)"):
        plan.evaluate(p.U, p.V, LAM, grad_v=p.V)
    m, n, k = p.U.shape[0], p.V.shape[0], p.k
    shared = np.zeros((m + n, k))
    shared[:m], shared[m:] = p.U, p.V
    U, V = shared[:m], shared[m:]  # adjacent, not overlapping: fine
    assert_within_rule(p, LAM, plan.evaluate(U, V, LAM), plan.evaluate(p.U, p.V, LAM))
    buffer = np.zeros((m + 1, k))
    with pytest.raises(mfgrad.Error, match="grad_U and grad_V overlap in memory"):
        mfgrad.evaluate(p.observed, p.U, p.V, LAM, grad_u=buffer[1:], grad_v=buffer[:n])


def test_plan_in_estimate_and_measure_mode(tmp_path):
    p = problem("tall_dense", np.float32)
    estimated = mfgrad.Plan(p.observed, p.k)
    assert estimated.kernel in KERNELS and estimated.reason and estimated.candidates == []
    assert estimated.k == p.k and estimated.dtype == np.float32 and estimated.observed is p.observed
    assert repr(estimated).startswith("<mfgrad.Plan ")
    wisdom = tmp_path / "wisdom.txt"
    measured = mfgrad.Plan(p.observed, p.k, mode="measure", seconds_per_candidate=0.01, wisdom=wisdom)
    names = [name for name, _, _ in measured.candidates]
    # Those timed to the end come first, fastest first; then those dropped after one cold run (under
    # load, any may be); the choice is never a dropped one.
    timed = [s for _, s, dropped in measured.candidates if not dropped]
    flags = [dropped for _, _, dropped in measured.candidates]
    assert flags == sorted(flags) and timed and timed == sorted(timed)
    assert measured.kernel in KERNELS and measured.choice in names
    assert not dict((name, dropped) for name, _, dropped in measured.candidates)[measured.choice]
    assert wisdom.read_text().startswith("mfgrad-wisdom 1")
    # A new process reads the choice from the file instead of measuring again.
    script = (
        "import mfgrad, numpy as np, sys\n"
        "obs = mfgrad.Observed(np.load(sys.argv[1]), np.load(sys.argv[2]), np.load(sys.argv[3]), shape=(131, 7))\n"
        f"plan = mfgrad.Plan(obs, {p.k}, mode='measure', threads={measured.threads}, wisdom=sys.argv[4])\n"
        "print(plan.from_wisdom, plan.choice)\n"
    )
    files = []
    for name, array in (("rows", p.rows), ("cols", p.cols), ("values", p.values)):
        np.save(tmp_path / f"{name}.npy", array)
        files.append(str(tmp_path / f"{name}.npy"))
    out = subprocess.run([sys.executable, "-c", script, *files, str(wisdom)], capture_output=True, text=True, check=True)
    assert out.stdout.split(maxsplit=1) == ["True", measured.choice + "\n"]


def test_threads_default_to_every_hardware_thread(monkeypatch):
    p = problem("k1", np.float64)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert mfgrad.Plan(p.observed, 1).threads == len(os.sched_getaffinity(0))
    assert mfgrad.Plan(p.observed, 1, threads=-1).threads == len(os.sched_getaffinity(0))
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert mfgrad.Plan(p.observed, 1).threads == 3
    assert mfgrad.Plan(p.observed, 1, threads=1).threads == 1


def test_the_gil_is_released_while_a_kernel_runs():
    # While another thread evaluates, this one keeps running Python only if the evaluation let go of the
    # GIL. Holding it, this thread could run at most one switch interval at either end of the evaluation.
    interval = 0.0005
    previous = sys.getswitchinterval()
    sys.setswitchinterval(interval)
    try:
        obs = mfgrad.load_dataset("ml-small")
        k = 256
        plan = mfgrad.Plan(obs, k, dtype=np.float64, threads=1, kernel="naive")
        U = mfgrad.random_factor(obs.shape[0], k, seed=1, dtype=np.float64)
        V = mfgrad.random_factor(obs.shape[1], k, seed=2, dtype=np.float64)
        for _ in range(3):  # a busy machine may starve this thread once; holding the GIL starves it always
            span = []
            worker = threading.Thread(
                target=lambda: span.extend([time.perf_counter(), plan.evaluate(U, V, LAM), time.perf_counter()])
            )
            ticks = []
            worker.start()
            while worker.is_alive():
                ticks.append(time.perf_counter())
                time.sleep(interval)
            worker.join()
            start, end = span[0], span[2]
            assert end - start > 20 * interval, "the evaluation is too short to tell"
            quarter = (end - start) / 4
            inside = [t for t in ticks if start + quarter < t < end - quarter]
            if len(inside) >= 3:
                return
        pytest.fail(f"this thread ran {len(inside)} times in the middle half of a {end - start:.3f} s evaluation")
    finally:
        sys.setswitchinterval(previous)


def test_native_seconds_times_the_same_evaluation():
    p = problem("k17", np.float32)
    plan = mfgrad.Plan(p.observed, p.k, dtype=np.float32)
    grad_u, grad_v = np.full_like(p.U, np.nan), np.full_like(p.V, np.nan)
    seconds = plan.native_seconds(p.U, p.V, LAM, grad_u, grad_v, repetitions=4)
    assert len(seconds) == 4 and all(s > 0 for s in seconds)
    want = plan.evaluate(p.U, p.V, LAM)
    np.testing.assert_array_equal(grad_u, want[1])
    np.testing.assert_array_equal(grad_v, want[2])
    with pytest.raises(ValueError, match="repetitions must be at least 1, got 0"):
        plan.native_seconds(p.U, p.V, LAM, repetitions=0)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_error_bounds_follow_the_rule(dtype):
    p = problem("k17", dtype)
    loss, gu, gv = mfgrad.error_bounds(p.observed, p.U, p.V, LAM)
    assert gu.shape == p.U.shape and gv.shape == p.V.shape and gu.dtype == np.float64
    assert 0 < loss and (gu > 0).all() and (gv > 0).all()
    # A gradient's bound scales with the unit roundoff of the dtype: float32 (plus the double oracle)
    # against float64 (twice the double oracle) is (2^-24 + 2^-53) / 2^-52, about 2^28.
    other = p.U.astype(np.float64 if dtype == np.float32 else np.float32)
    other_gu = mfgrad.error_bounds(p.observed, other, p.V.astype(other.dtype), LAM)[1]
    ratio = np.median(gu / other_gu if dtype == np.float32 else other_gu / gu)
    assert 2**27 < ratio < 2**29
    with pytest.raises(mfgrad.Error, match=r"U is 36 x 17 but must be 37 x 17 \(m x k\)"):
        mfgrad.error_bounds(p.observed, p.U[1:], p.V, LAM)


def refusals(p):
    """(arguments to plan.evaluate, exception, message) for every argument the binding or the library refuses."""
    m, n, k = p.U.shape[0], p.V.shape[0], p.k
    U, V = p.U, p.V
    other = np.float64 if U.dtype == np.float32 else np.float32
    gu, gv = np.zeros_like(U), np.zeros_like(V)
    read_only = np.zeros_like(U)
    read_only.setflags(write=False)
    dtype = np.dtype(U.dtype).name
    other_name = np.dtype(other).name
    return [
        ((U.astype(other), V, LAM), TypeError, f"plan was made for {dtype}, not {other_name}"),
        ((U, V, LAM, gu, gv.astype(other)), TypeError, f"plan was made for {dtype}, not {other_name}"),
        ((U.astype(np.int64), V, LAM), TypeError, r"U has dtype int64; mfgrad takes float32 or float64 \(or float16"),
        ((U, V.astype(V.dtype.newbyteorder(">")), LAM), TypeError, r"V has dtype >f.; mfgrad takes .* native byte order"),
        ((U.tolist(), V, LAM), TypeError, r"U must be a NumPy array of float32 or float64 \(.*\), got list"),
        ((U, V, LAM, "grad"), TypeError, r"grad_u must be a NumPy array of float32 or float64 \(.*\), got str"),
        ((np.asfortranarray(U), V, LAM), ValueError, r"U is not C-contiguous \(Fortran order or a strided view\)"),
        ((U, np.repeat(V, 2, axis=1)[:, ::2], LAM), ValueError, "V is not C-contiguous"),
        ((U.ravel(), V, LAM), ValueError, rf"U must be 2-D \(rows x k\), got 1-D with shape \({m * k},\)"),
        ((U, V, LAM, read_only, gv), ValueError, "grad_u is read-only"),
        ((np.ascontiguousarray(U[:, :-1]), V, LAM), mfgrad.Error, f"plan was made for k = {k}, but U has {k - 1} columns"),
        ((U[1:], V, LAM, gu, gv), mfgrad.Error, rf"U is {m - 1} x {k} but must be {m} x {k} \(m x k\)"),
        ((U, V[1:], LAM), mfgrad.Error, rf"V is {n - 1} x {k} but must be {n} x {k} \(n x k\)"),
        ((U, V, LAM, gu, np.zeros((n, k - 1), U.dtype)), mfgrad.Error, rf"grad_V is {n} x {k - 1} but must be {n} x {k} \(n x k\)"),
        ((U, V, float("nan"), gu, gv), mfgrad.Error, "lambda must be finite and at least 0, got nan"),
        ((U, V, -0.5, gu, gv), mfgrad.Error, "lambda must be finite and at least 0, got -0.5"),
        ((U, V, float("inf"), gu, gv), mfgrad.Error, "lambda must be finite and at least 0, got inf"),
        ((U, V, LAM, gu, gu), mfgrad.Error, r"grad_V is .* but must be|grad_U and grad_V overlap in memory"),
    ]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_bad_argument_raises_and_writes_nothing(dtype):
    p = problem("k17", dtype)
    plan = mfgrad.Plan(p.observed, p.k, dtype=dtype)
    for args, error, message in refusals(p):
        written = [a for a in args[3:] if isinstance(a, np.ndarray) and a.flags.writeable]
        for a in written:
            a.fill(-3)
        with pytest.raises(error, match=message):
            plan.evaluate(*args)
        for a in written:
            assert (a == -3).all(), f"{message}: an output was written before the error"


def test_aliased_gradients_of_one_shape_are_refused():
    p = random_problem(20, 20, 0.3, 4, seed=5)
    grad = np.zeros_like(p.U)
    with pytest.raises(mfgrad.Error, match="grad_U and grad_V overlap in memory"):
        mfgrad.evaluate(p.observed, p.U, p.V, LAM, grad_u=grad, grad_v=grad)


def test_factors_of_mixed_dtypes_are_refused_without_a_plan():
    p = problem("k17", np.float32)
    with pytest.raises(TypeError, match="V is float64 but U is float32; the factors and gradients must share one dtype"):
        mfgrad.evaluate(p.observed, p.U, p.V.astype(np.float64), LAM)
    with pytest.raises(TypeError, match="grad_v is float64 but U is float32"):
        mfgrad.evaluate(p.observed, p.U, p.V, LAM, grad_v=np.zeros(p.V.shape))


def test_non_finite_factors_propagate_or_are_refused_on_request():
    p = problem("k17", np.float64)
    U = p.U.copy()
    U[1, 2] = np.nan
    loss, gu, _ = mfgrad.evaluate(p.observed, U, p.V, LAM)
    assert np.isnan(loss) and np.isnan(gu[1, 2])
    with pytest.raises(mfgrad.Error, match=r"U\[1, 2\] is nan \(factors were asked to be finite\)"):
        mfgrad.Plan(p.observed, p.k, dtype=np.float64).evaluate(U, p.V, LAM, check_factors=True)


def test_bad_plan_arguments_raise():
    p = problem("k1", np.float64)
    with pytest.raises(mfgrad.Error, match="k must be at least 1"):
        mfgrad.Plan(p.observed, 0)
    with pytest.raises(ValueError, match="mode must be 'estimate' or 'measure', got 'fast'"):
        mfgrad.Plan(p.observed, 4, mode="fast")
    with pytest.raises(TypeError, match="dtype must be float32, float64, float16 or 'bfloat16', got int32"):
        mfgrad.Plan(p.observed, 4, dtype=np.int32)
    with pytest.raises(ValueError, match="seconds_per_candidate must be positive"):
        mfgrad.Plan(p.observed, 4, mode="measure", seconds_per_candidate=0)


def test_extreme_plan_arguments_raise_and_the_process_lives_on():
    p = problem("k1", np.float64)
    for kernel in [None, "fused_simd", "tiled_simd"]:
        with pytest.raises(mfgrad.Error, match="the largest rank mfgrad evaluates"):
            mfgrad.Plan(p.observed, k=2**62, kernel=kernel)
    with pytest.raises(mfgrad.Error, match="k must be at least 1, got -5"):
        mfgrad.Plan(p.observed, k=-5)
    for threads in [50000, 100000]:
        with pytest.raises(mfgrad.Error, match=f"threads = {threads} is more than"):
            mfgrad.Plan(p.observed, k=4, threads=threads)
    with pytest.raises(TypeError, match="observed must be an mfgrad.Observed, got str"):
        mfgrad.Plan("x", k=4)
    with pytest.raises(mfgrad.Error, match="seconds per candidate must be a finite number above 0, got inf"):
        mfgrad.Plan(p.observed, k=4, mode="measure", seconds_per_candidate=float("inf"))
    # Still alive, and still right.
    assert mfgrad.Plan(p.observed, k=4).k == 4


def test_memory_beyond_the_limit_raises_memory_error(monkeypatch):
    p = problem("k17", np.float64)
    monkeypatch.setenv("MFGRAD_MEMORY_LIMIT", "1K")
    with pytest.raises(MemoryError, match="MFGRAD_MEMORY_LIMIT") as raised:
        mfgrad.Observed(np.arange(100) % 10, np.arange(100) // 10, np.ones(100))
    assert isinstance(raised.value, mfgrad.OutOfMemoryError)
    with pytest.raises(mfgrad.OutOfMemoryError, match="making a plan for"):
        mfgrad.Plan(p.observed, k=4096)


def test_a_bad_isa_is_refused_by_every_entry_point():
    script = (
        "import mfgrad, numpy as np\n"
        "obs = mfgrad.Observed([0, 1], [1, 0], [1.0, 2.0])\n"
        "for call in (lambda: mfgrad.Plan(obs, 4), lambda: mfgrad.Plan(obs, 4, kernel='csr_rows_omp'),\n"
        "             mfgrad.simd_arch):\n"
        "    try:\n"
        "        call()\n"
        "        print('accepted')\n"
        "    except mfgrad.Error as e:\n"
        "        print('refused:', e)\n"
    )
    env = dict(os.environ, MFGRAD_ISA="bogus")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    assert len(lines) == 3, out
    assert all(line.startswith("refused: MFGRAD_ISA: unknown instruction set 'bogus'") for line in lines), out


def test_bytes_paths_are_file_system_paths(tmp_path):
    p = problem("k1", np.float64)
    wisdom = os.fsencode(tmp_path / "w.txt")
    mfgrad.Plan(p.observed, k=2, mode="measure", seconds_per_candidate=0.001, wisdom=wisdom)
    assert (tmp_path / "w.txt").exists()
    assert not any("b'" in name for name in os.listdir(tmp_path))
