"""`cmake --install` puts a working package into the interpreter's site-packages (staged under DESTDIR)."""

import os
import pathlib
import subprocess
import sys

import pytest

CMAKE, BUILD, SITE = (os.environ.get(name) for name in ("MFGRAD_CMAKE", "MFGRAD_BUILD_DIR", "MFGRAD_PYTHON_SITE"))


@pytest.mark.skipif(not (CMAKE and BUILD and SITE), reason="run by ctest, which says where the build is")
def test_the_installed_package_imports_and_runs(tmp_path):
    env = dict(os.environ, DESTDIR=str(tmp_path))
    subprocess.run([CMAKE, "--install", BUILD, "--component", "python"], env=env, check=True, capture_output=True)
    site = tmp_path / pathlib.Path(SITE).relative_to("/")
    # mfgrad.mpi (mpi/python) joins the package when MPI and mpi4py were found for the build.
    mpi = ["mpi"] if any((pathlib.Path(BUILD) / "python" / "mfgrad").glob("mpi.*")) else []
    assert sorted(p.name.split(".")[0] for p in (site / "mfgrad").iterdir()) == ["__init__", "_core", *mpi, "torch"]
    script = (
        "import mfgrad, numpy as np\n"
        "obs = mfgrad.Observed([0, 1], [1, 0], [4.0, 2.0])\n"
        "U = np.ones((2, 3)); V = np.ones((2, 3))\n"
        "print(mfgrad.__file__)\n"
        "print(mfgrad.evaluate(obs, U, V, 0.0, kernel='naive')[0])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(site)}
    out = subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True, text=True)
    path, loss = out.stdout.split("\n")[:2]
    assert path.startswith(str(site))
    assert float(loss) == 0.5 * ((4.0 - 3.0) ** 2 + (2.0 - 3.0) ** 2)
