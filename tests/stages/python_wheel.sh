#!/usr/bin/env bash
# Stage: `pip install .` as docs/python.md writes it (the block marked `stage python_wheel`, run by the
# documentation runner in a fresh copy of the tree): a wheel built offline with Debian's setuptools,
# installed into a new venv with the system's site-packages; then mfgrad.__version__ must equal the
# installed metadata's version, the package must come from the venv, and the Python tests must pass
# against that installed copy, not the build tree.
#   python_wheel.sh PYTHON RUNNER SOURCE_DIR BUILD_DIR WORK_DIR
source "$(dirname "$0")/common.sh"
python=$1 runner=$2 source_dir=$3 build=$4 work=$5
stage_timer
need cmake cmake
need c++ g++
"$python" -c "import ensurepip, venv" 2>/dev/null ||
  stage_skip_or_fail "this stage needs venv and ensurepip: install the Debian package python3-venv"
"$python" -c "import setuptools, wheel" 2>/dev/null ||
  stage_skip_or_fail "this stage needs setuptools and wheel: install python3-setuptools python3-wheel"

fresh "$work"
"$python" "$runner" run "$source_dir/docs/python.md" --source "$source_dir" --build "$build" --work "$work" \
  --stage python_wheel || fail "the install block of docs/python.md"
venv=$work/src/venv
cd "$work"  # away from the source tree and the build tree: `import mfgrad` must find the venv's copy
unset PYTHONPATH
where=$("$venv/bin/python" -c "import mfgrad; print(mfgrad.__file__)")
[[ $where == "$venv"/* ]] || fail "mfgrad imported from $where, not from the venv $venv"
"$venv/bin/python" - <<'PY' || fail "the installed package's metadata, stubs or licence"
import importlib.metadata as metadata, pathlib
import mfgrad
dist = metadata.distribution("mfgrad")
assert mfgrad.__version__ == dist.version, (mfgrad.__version__, dist.version)
assert "Apache-2.0" in (dist.metadata.get("License") or ""), dist.metadata.get("License")
files = {pathlib.PurePath(f).name for f in dist.files}
assert {"_core.pyi", "py.typed", "LICENSE"} <= files, sorted(files)
assert "implementation chosen" in (mfgrad.Plan.__doc__ or ""), "help(mfgrad.Plan) shows no docstring"
print(f"mfgrad {mfgrad.__version__} from {pathlib.Path(mfgrad.__file__).parent}: metadata, stubs and licence in place")
PY
MFGRAD_SOURCE_DIR=$source_dir PYTHONDONTWRITEBYTECODE=1 \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider "$source_dir/python/tests" ||
  fail "the Python tests against the installed package"
