#!/usr/bin/env bash
# The AddressSanitizer + UndefinedBehaviorSanitizer stage: the whole tree built with clang-14,
# -fsanitize=address,undefined -fno-sanitize-recover=all (any report fails; LeakSanitizer included),
# with the libFuzzer targets built into the same tree for the fuzzing stages.
#   asan.sh build SOURCE BUILD_ROOT   configure and build BUILD_ROOT/stage-asan
#   asan.sh test SOURCE BUILD_ROOT    run its tests, one process per test binary: all but the perf_gate
#                                     tests, which valgrind runs on the normal build
. "$(dirname "$0")/common.sh"
mode=$1 source=$2 root=$3
stage_timer
need_clang
build_asan "$source" "$root"
if [[ $mode == test ]]; then
  # LLVM's OpenMP leaks its "hot team" thread descriptors when a team shrinks and grows again (as the
  # thread-count tests do; reproduced without mfgrad). Without hot teams it allocates nothing it keeps,
  # so LeakSanitizer stays on for everything else rather than being told to ignore libomp.
  export KMP_HOT_TEAMS_MAX_LEVEL=0
  export ASAN_OPTIONS=detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # docs: its blocks install this build and link it with the plain system compiler, which lacks the
  # sanitizer runtimes the library refers to; they run in the normal build.
  ctest --test-dir "$root/stage-asan" --output-on-failure -LE "perf_gate|docs"
fi
