#!/usr/bin/env bash
# CI stage: aarch64 under emulation. Cross-builds the library, the tool and the tests with
# cmake/aarch64-linux-gnu.cmake into WORKDIR, runs the whole test suite there under qemu-aarch64 (the
# NEON kernels against the oracle, thread counts, NaN-filled outputs, finite differences, the CLI,
# SIMD detection on emulated CPUs with and without SVE), then `mfgrad bench` on the tiny preset end to
# end, checking every row against the oracle and the JSON it writes. Timings under emulation mean
# nothing; that everything runs and agrees does.
#
# Exits 77 (skipped) when a tool or arm64 package is missing, naming the Debian packages to install;
# with MFGRAD_CI=1 a missing tool is a failure instead.
# usage: aarch64.sh SOURCE_DIR WORKDIR CMAKE CTEST GENERATOR
set -euo pipefail
src=$1 work=$2 cmake=$3 ctest=$4 generator=$5

multiarch=/usr/lib/aarch64-linux-gnu
missing=()
need_command() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need_file() { [[ -e $1 ]] || missing+=("$2"); }
need_command aarch64-linux-gnu-g++ g++-aarch64-linux-gnu
need_command qemu-aarch64 qemu-user
need_file $multiarch/cmake/xsimd/xsimdConfig.cmake libxsimd-dev:arm64
need_file $multiarch/cmake/TBB/TBBConfig.cmake libtbb-dev:arm64
need_file $multiarch/cmake/GTest/GTestConfig.cmake libgtest-dev:arm64
need_file $multiarch/cmake/benchmark/benchmarkConfig.cmake libbenchmark-dev:arm64
need_file $multiarch/libgomp.so.1 libgomp1:arm64
if ((${#missing[@]})); then
  echo "aarch64 stage: missing ${missing[*]}; install with"
  echo "  dpkg --add-architecture arm64 && apt-get update && apt-get install -y ${missing[*]}"
  if [[ ${MFGRAD_CI:-} == 1 ]]; then
    echo "FAIL: MFGRAD_CI=1 and the aarch64 stage cannot run"
    exit 1
  fi
  exit 77
fi

run_emulated() { qemu-aarch64 -L / "$@"; }
started=$SECONDS
step() {  # step NAME COMMAND...: runs it and says how long it took
  local name=$1 t=$SECONDS
  shift
  echo "== aarch64 stage: $name"
  "$@"
  echo "== aarch64 stage: $name took $((SECONDS - t)) s"
}

step "cross build" bash -c '"$0" -S "$1" -B "$2" -G "$3" -DCMAKE_TOOLCHAIN_FILE="$1/cmake/aarch64-linux-gnu.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DMFGRAD_CI_STAGES=OFF -DMFGRAD_BUILD_PYTHON=OFF && "$0" --build "$2"' "$cmake" "$src" "$work" "$generator"
# All of them but the two probe checks of how hardware scales (FP32 at twice the FP64 rate, two threads
# faster than one): under emulation they would measure qemu, whose soft floats take about as long per
# lane in either precision. Nor the docs tests: their blocks build programs with the host's compiler
# against an install of this cross build; they run in the native build.
step "tests under qemu-aarch64" "$ctest" --test-dir "$work" --output-on-failure --timeout 600 -j "$(nproc)" \
  -E '^FmaPeak\.(Fp32IsTwiceFp64|TwoThreadsOutrunOne)$' -LE docs


bench() {
  local json=$work/bench-tiny.json table=$work/bench-tiny.txt kernels impl
  rm -f "$json"
  run_emulated "$work/mfgrad" bench --data tiny --json "$json" >"$table"
  cat "$table"
  # compare reads the JSON back and fails on any row whose oracle check did not pass.
  run_emulated "$work/mfgrad" compare "$json" "$json"
  grep -Eq '"isa": *"arm64\+neon"' "$json" || { echo "FAIL: $json does not record NEON dispatch"; exit 1; }
  kernels=$(run_emulated "$work/mfgrad" kernels | awk '$2 == "yes" { print $1 }')
  [[ -n $kernels ]] || { echo "FAIL: 'mfgrad kernels' lists no supported implementation"; exit 1; }
  for impl in $kernels plan; do
    grep -Eq "\"name\": *\"eval/$impl/tiny/" "$json" || { echo "FAIL: no benchmark of $impl in $json"; exit 1; }
  done
}
step "mfgrad bench on tiny under qemu-aarch64" bench
echo "PASS: aarch64 stage in $((SECONDS - started)) s"
