#!/usr/bin/env bash
# The ThreadSanitizer stage: the library and the kernel, plan and core tests built with clang-14
# -fsanitize=thread, OpenMP made visible to it by libomp's Archer tool, and each test binary run once.
#   tsan.sh SOURCE BUILD_ROOT [GTEST_FILTER]
# Debian's oneTBB is not instrumented, so it is held to one thread (tbb_one_thread.cpp says why); no
# report is suppressed.
. "$(dirname "$0")/common.sh"
source=$1 root=$2 filter=${3:-*}
stage_timer
need_clang
archer=/usr/lib/llvm-14/lib/libarcher.so
need_file "$archer" libomp-14-dev "LLVM's OpenMP race-detection tool Archer"
need_file "/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.tsan-x86_64.a" libclang-rt-14-dev "ThreadSanitizer"
build="$root/stage-tsan"
build_nested "$source" "$build" "-fsanitize=thread" -- test_kernels test_plan test_core
clang++-14 -std=c++20 -shared -fPIC -O1 "$source/tests/stages/tbb_one_thread.cpp" -ltbb -o "$build/tbb_one_thread.so"
export LD_PRELOAD=$build/tbb_one_thread.so
export OMP_TOOL_LIBRARIES=$archer
export TSAN_OPTIONS="ignore_noninstrumented_modules=1 halt_on_error=1 second_deadlock_stack=1"
# The kernel tests also with SIMD dispatch capped, as in the normal build: each ISA has its own code.
for run in test_core test_plan test_kernels test_kernels:avx2 test_kernels:baseline; do
  test=${run%%:*} isa=${run#*:}
  [[ $isa == "$run" ]] && isa=
  echo "== $run" >&2
  start=$SECONDS
  MFGRAD_ISA=$isa "$build/tests/$test" --gtest_filter="$filter" --gtest_brief=1
  echo "== $run passed in $((SECONDS - start)) s" >&2
done
