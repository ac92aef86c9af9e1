"""Builds mfgrad's Python module with CMake for `pip install .` (pyproject.toml holds the metadata).

The extension is the CMake target mfgrad_python (python/CMakeLists.txt), built for the interpreter that
runs pip, with the library only (no tests, benchmark or tool); the version is the one project() in
CMakeLists.txt declares, so mfgrad.__version__ and the installed metadata agree. CMAKE_BUILD_PARALLEL_LEVEL
sets the build's jobs (default: every CPU) and MFGRAD_CMAKE_ARGS adds configure options.
"""

import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = pathlib.Path(__file__).resolve().parent


def project_version():
    text = (ROOT / "CMakeLists.txt").read_text()
    match = re.search(r"project\(mfgrad VERSION ([0-9]+\.[0-9]+\.[0-9]+)", text)
    if not match:
        raise RuntimeError("CMakeLists.txt: no `project(mfgrad VERSION X.Y.Z` line to take the version from")
    return match.group(1)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        cmake = shutil.which("cmake")
        if cmake is None:
            raise RuntimeError("building mfgrad needs CMake: apt-get install cmake")
        build = pathlib.Path(self.build_temp).resolve() / "cmake"
        build.mkdir(parents=True, exist_ok=True)
        configure = [cmake, "-S", str(ROOT), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                     "-DMFGRAD_BUILD_TESTS=OFF", "-DMFGRAD_BUILD_BENCH=OFF", "-DMFGRAD_BUILD_PYTHON=ON",
                     f"-DPython_EXECUTABLE={sys.executable}"]
        if shutil.which("ninja"):
            configure += ["-G", "Ninja"]
        configure += shlex.split(os.environ.get("MFGRAD_CMAKE_ARGS", ""))
        subprocess.run(configure, check=True)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 1))
        subprocess.run([cmake, "--build", str(build), "--target", "mfgrad_python", "--parallel", jobs], check=True)
        built = sorted((build / "python" / "mfgrad").glob("_core*.so"))
        if not built:
            raise RuntimeError(f"the CMake build left no _core*.so in {build / 'python' / 'mfgrad'}")
        target = pathlib.Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[0], target)


setup(version=project_version(), ext_modules=[Extension("mfgrad._core", sources=[])],
      cmdclass={"build_ext": CMakeBuild})
