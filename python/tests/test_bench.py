"""bench/python/bench_python.py end to end on the smallest preset: every row, the overhead, the check."""

import os
import pathlib
import subprocess
import sys

from conftest import require

SOURCE = pathlib.Path(os.environ.get("MFGRAD_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))


def test_the_python_benchmark_runs_and_checks_its_results(tmp_path):
    require("torch")
    out = subprocess.run(
        [sys.executable, str(SOURCE / "bench" / "python" / "bench_python.py"), "--data", "tiny", "--k", "16",
         "--threads", "1", "--reps", "3", "--torch-reps", "1", "--chunk", "20000", "--plan", "estimate",
         "--json", str(tmp_path / "bench.json")],
        capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stderr + out.stdout
    for row in ("C++ call", "Python call", "mfgrad.torch", "plain autograd (20,000-entry slices)", "binding overhead"):
        assert row in out.stdout, out.stdout
    assert "within the tolerance rule" in out.stdout
    assert (tmp_path / "bench.json").stat().st_size > 0
