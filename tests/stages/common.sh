# Shared by the stage scripts (sourced): how a stage finds its tools and builds the tree.
#
# A missing tool makes a stage print the Debian package to install and exit 77, which ctest reports as
# skipped; with MFGRAD_CI=1 (set by .ci/run) it is a failure instead, so CI cannot pass by skipping.

set -euo pipefail

stage_skip_or_fail() {
  echo "$1" >&2
  if [[ "${MFGRAD_CI:-}" == 1 ]]; then
    echo "MFGRAD_CI=1: a missing tool fails the stage" >&2
    exit 1
  fi
  exit 77
}

# need_command COMMAND PACKAGE
need_command() {
  command -v "$1" >/dev/null 2>&1 ||
    stage_skip_or_fail "this stage needs $1: install the Debian package $2 (apt-get install $2)"
}

# need_file GLOB PACKAGE WHAT
need_file() {
  compgen -G "$1" >/dev/null ||
    stage_skip_or_fail "this stage needs $3 ($1): install the Debian package $2 (apt-get install $2)"
}

# The clang-14 toolchain with its sanitizer and libFuzzer runtimes and LLVM's OpenMP.
need_clang() {
  need_command clang++-14 clang-14
  need_command cmake cmake
  need_command ninja ninja-build
  need_file "/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.asan-x86_64.a" libclang-rt-14-dev \
    "clang's sanitizer runtimes"
  need_file "/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" libclang-rt-14-dev "libFuzzer"
  need_file "/usr/lib/llvm-14/lib/libomp.so" libomp-14-dev "LLVM's OpenMP runtime"
}

# build_nested SOURCE BUILD CXXFLAGS [CMAKE ARGS...] [-- TARGETS...]: a nested build of the same tree,
# configured once, then rebuilt incrementally; without the stages themselves, the Python module (an
# instrumented module cannot load into an uninstrumented interpreter) and the PyTorch peers (libtorch is
# not instrumented, and its thread pool is not ours to check).
build_nested() {
  local source=$1 build=$2 flags=$3
  shift 3
  local args=() targets=()
  while (($#)); do
    if [[ $1 == -- ]]; then
      shift
      targets=(--target "$@")
      break
    fi
    args+=("$1")
    shift
  done
  if [[ ! -f $build/build.ninja ]]; then
    cmake -S "$source" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      "-DCMAKE_CXX_FLAGS=$flags" -DMFGRAD_CI_STAGES=OFF -DMFGRAD_TEST_PER_TEST=OFF \
      -DMFGRAD_BUILD_PYTHON=OFF -DCMAKE_DISABLE_FIND_PACKAGE_Torch=ON "${args[@]}"
  fi
  cmake --build "$build" "${targets[@]}"
}

# The ASan + UBSan tree (asan.sh), which also holds the libFuzzer targets (fuzz.sh).
build_asan() {
  build_nested "$1" "$2/stage-asan" "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -Wno-pass-failed" \
    -DMFGRAD_FUZZERS=ON
}

# Prints how long the stage took, for the CI log.
stage_timer() {
  stage_start=$SECONDS
  trap 'echo "stage took $((SECONDS - stage_start)) s" >&2' EXIT
}

# need TOOL PACKAGE: the short form the package stages use.
need() {
  need_command "$@"
}

fail() {
  echo "FAILED: $*" >&2
  exit 1
}

# fresh DIR: an empty folder, whatever an earlier run left there.
fresh() {
  rm -rf "$1"
  mkdir -p "$1"
}
