#!/usr/bin/env bash
# A bounded libFuzzer run of one target from the ASan + UBSan tree (asan.sh builds it).
#   fuzz.sh TARGET SECONDS SOURCE BUILD_ROOT
# Starts from the committed corpus (tests/fuzz/corpus/TARGET) plus what earlier runs in this build
# folder found, and writes new inputs only under BUILD_ROOT/stage-fuzz/TARGET. A finding (crash, sanitizer
# report, broken invariant, timeout, memory beyond 2 GiB) fails the stage and is kept in that folder
# as crash-*, timeout-*, oom-* or leak-*: fix the cause, then add the file to the target's corpus.
. "$(dirname "$0")/common.sh"
target=$1 seconds=$2 source=$3 root=$4
stage_timer
need_clang
build_asan "$source" "$root" -- "fuzz_$target" >/dev/null
work=$root/stage-fuzz/$target
mkdir -p "$work/corpus"
export ASAN_OPTIONS=detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
"$root/stage-asan/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" "$source/tests/fuzz/corpus/$target" 2>"$work/log" ||
  status=$?
grep -E '^(INFO: |#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|Done )' "$work/log" | tail -n 8 >&2 || true
if ((status != 0)); then
  tail -n 60 "$work/log" >&2
  echo "fuzz_$target found an input that breaks it, kept in $work/ (crash-*, timeout-*, oom-*, leak-*):" \
    "fix the cause and add the input to tests/fuzz/corpus/$target/" >&2
  exit 1
fi
