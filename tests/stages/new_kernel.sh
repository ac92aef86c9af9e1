#!/usr/bin/env bash
# Stage: "Adding an implementation" (docs/contributing.md) as it is written. On a copy of the tree, exactly one new
# file (kernels/copy_of_naive.cpp: naive.cpp with its namespace renamed) and one new line in
# kernels/kernels.inc must be enough for the implementation to be built, listed by `mfgrad kernels`,
# compared with the oracle by the kernel tests, benchmarked with a passing check, tried by the plan, and
# reported by the perf gate as missing from the baseline (x86-64, where the gate counts instructions).
#   new_kernel.sh SOURCE_DIR WORK_DIR
source "$(dirname "$0")/common.sh"
source_dir=$1 work=$2
need cmake cmake
need ninja ninja-build
need c++ g++
need git git
stage_timer

name=copy_of_naive
fresh "$work"
# The tree as committed plus what is not ignored, never a build folder; twice: untouched and changed.
mkdir "$work/orig"
(cd "$source_dir" && git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do if [[ -e $f ]]; then printf '%s\0' "$f"; fi; done | xargs -0 cp --parents -t "$work/orig")
cp -a "$work/orig" "$work/src"

sed "s/namespace mfgrad::kernels::naive/namespace mfgrad::kernels::$name/" "$work/src/kernels/naive.cpp" \
  >"$work/src/kernels/$name.cpp"
grep -q "namespace mfgrad::kernels::$name {" "$work/src/kernels/$name.cpp" || fail "naive.cpp's namespace was not renamed"
echo "MFGRAD_KERNEL($name, .serial = true, .deterministic = true, .description = \"naive with its namespace renamed: one file and one line make an implementation\")" \
  >>"$work/src/kernels/kernels.inc"

# Only what the checks run: the tool and the kernel tests, without the peers' libraries (Eigen,
# GraphBLAS: a GraphBLAS path set to OFF is one find_path does not search again).
cmake -S "$work/src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMFGRAD_CI_STAGES=OFF \
  -DMFGRAD_TEST_PER_TEST=OFF -DMFGRAD_BUILD_PYTHON=OFF -DCMAKE_DISABLE_FIND_PACKAGE_Torch=ON \
  -DCMAKE_DISABLE_FIND_PACKAGE_Eigen3=ON -DMFGRAD_GRAPHBLAS_INCLUDE_DIR=OFF -DMFGRAD_GRAPHBLAS_LIBRARY=OFF \
  >"$work/configure.log" || { cat "$work/configure.log"; fail "configure"; }
cmake --build "$work/build" --target mfgrad_cli test_kernels >"$work/build.log" || { cat "$work/build.log"; fail "build"; }
mfgrad=$work/build/mfgrad

"$mfgrad" kernels | tee "$work/kernels.txt"
grep -qw "$name" "$work/kernels.txt" || fail "mfgrad kernels does not list $name"

"$work/build/tests/test_kernels" --gtest_filter="*$name*" --gtest_brief=1 | tee "$work/tests.txt"
ran=$(grep -c "" < <("$work/build/tests/test_kernels" --gtest_list_tests --gtest_filter="*/Kernels.MatchesOracle/$name*" | grep "^  "))
[[ $ran -gt 0 ]] || fail "the kernel tests have no oracle comparison of $name"
grep -q "PASSED" "$work/tests.txt" || fail "the kernel tests of $name did not pass"
echo "the kernel tests compare $name with the oracle on $ran shapes and precisions"

"$mfgrad" bench --data tiny --k 16 --threads 1 --impl "$name" --peers none --reps 1 --min-time 0.01 \
  --json "$work/bench.json" >"$work/bench.txt" || { cat "$work/bench.txt"; fail "mfgrad bench"; }
grep -A30 "\"impl\": \"$name\"" "$work/bench.json" | grep -q '"check": "passed"' ||
  fail "mfgrad bench has no row of $name that passed the oracle check ($work/bench.json)"
echo "mfgrad bench: $name passed the oracle check"

"$mfgrad" plan --data tiny --k 16 --threads 1 --plan measure --seconds 0.01 | tee "$work/plan.txt"
grep -qw "$name" "$work/plan.txt" || fail "mfgrad plan does not try $name"

if [[ $(uname -m) == x86_64 ]]; then
  need valgrind valgrind
  status=0
  "$work/src/tests/perf_gate.sh" baseline "$mfgrad" "$mfgrad" "$work/src/bench/baseline/ci-tiny-instructions.json" \
    "$work/perf_gate" >"$work/perf_gate.txt" 2>&1 || status=$?
  cat "$work/perf_gate.txt"
  [[ $status -ne 0 ]] || fail "the perf gate passed although $name has no baseline"
  grep -E "^ *new +eval/$name/" "$work/perf_gate.txt" >/dev/null || fail "the perf gate did not name $name as missing"
  grep -q "Regenerate the baseline" "$work/perf_gate.txt" || fail "the perf gate did not say how to regenerate the baseline"
  echo "the perf gate fails on $name, missing from the baseline"
fi

# Nothing else was touched: the copies differ by the one file and the one line.
diff -r "$work/orig" "$work/src" >"$work/diff.txt" || true
cat "$work/diff.txt"
expected="Only in $work/src/kernels: $name.cpp"
grep -qxF "$expected" "$work/diff.txt" || fail "kernels/$name.cpp is not the one new file"
[[ $(grep -c "^Only in\|^diff " "$work/diff.txt") -eq 2 ]] || fail "more than kernels/$name.cpp and kernels.inc changed"
[[ $(grep -c "^> " "$work/diff.txt") -eq 1 && $(grep -c "^< " "$work/diff.txt") -eq 0 ]] ||
  fail "kernels.inc changed by more than one added line"
echo "PASS: one file and one line added $name"
