#!/usr/bin/env bash
# The CI performance gate, three ways (ctest runs each as its own test):
#   baseline     callgrind instruction counts of every implementation on the tiny preset, compared
#                with the counts committed in bench/baseline/ (repeatable on a noisy shared machine); an
#                implementation missing from the baseline fails, with the command that regenerates it
#   instructions the same run with mfgrad_slowed (csc_cols_omp does its work twice) must be reported
#                as a regression of csc_cols_omp and make compare fail
#   script       tools/ci/gate.sh, the CI job docs/testing.md gives users: mfgrad against itself passes
#                (exit 0), against mfgrad_slowed it reports csc_cols_omp and exits 1
#   time         wall-clock repetitions of mfgrad against mfgrad_slowed, side by side on this machine:
#                compare must find the slowdown with statistical support, and nothing against itself
# baseline, instructions and script are x86-64 only (valgrind's counts against committed x86-64 counts);
# tests/CMakeLists.txt registers them there, and the timed mode wherever the tests run natively.
# usage: perf_gate.sh baseline|instructions|time MFGRAD MFGRAD_SLOWED BASELINE.json WORKDIR
set -euo pipefail
mode=$1 mfgrad=$2 slowed=$3 baseline=$4 work=$5
mkdir -p "$work"
counts=(bench --instructions --data tiny --k 16,64 --impl all)

expect_regression() {  # compare must exit 1 and name csc_cols_omp as a regression
  local out status=0
  out=$("$mfgrad" compare "$@") || status=$?
  echo "$out"
  if [[ $status -ne 1 ]]; then echo "FAIL: compare exited $status, expected 1 (regression)"; exit 1; fi
  if ! grep -E "^ *regression +eval/csc_cols_omp/" <<<"$out" >/dev/null; then
    echo "FAIL: csc_cols_omp was not reported as a regression"; exit 1
  fi
}

case $mode in
  baseline)
    "$mfgrad" "${counts[@]}" --json "$work/current.json"
    out=$("$mfgrad" compare "$baseline" "$work/current.json" --instructions-threshold 3) || { echo "$out"; exit 1; }
    echo "$out"
    # compare lets a benchmark the baseline lacks pass as "new"; the gate does not: an implementation
    # it has no counts for is not covered, so it fails until the baseline is regenerated.
    if new=$(grep -E "^ *new +eval/" <<<"$out"); then
      echo "FAIL: not in the baseline $baseline (the gate does not cover them):"
      echo "$new"
      echo "Regenerate the baseline (and say why in the commit) with:"
      echo "  $mfgrad ${counts[*]} --json $baseline"
      exit 1
    fi
    ;;
  instructions)
    "$slowed" "${counts[@]}" --json "$work/slowed.json"
    expect_regression "$baseline" "$work/slowed.json" --instructions-threshold 3
    ;;
  script)
    gate=$(dirname "$0")/../tools/ci/gate.sh
    small=(--data tiny --k 16 --impl naive,csc_cols_omp)
    "$gate" "$mfgrad" "$mfgrad" "$work/same" "${small[@]}"
    for f in baseline.json contender.json report.md report.json; do
      [[ -s $work/same/$f ]] || { echo "FAIL: gate.sh wrote no $f"; exit 1; }
    done
    status=0
    out=$("$gate" "$mfgrad" "$slowed" "$work/slowed" "${small[@]}") || status=$?
    echo "$out"
    if [[ $status -ne 1 ]]; then echo "FAIL: gate.sh exited $status against mfgrad_slowed, expected 1"; exit 1; fi
    grep -E "^ *regression +eval/csc_cols_omp/" <<<"$out" >/dev/null || { echo "FAIL: no csc_cols_omp regression"; exit 1; }
    grep -q "FAIL" "$work/slowed/report.md" || { echo "FAIL: report.md does not say FAIL"; exit 1; }
    status=0
    "$gate" "$mfgrad" /nonexistent/mfgrad "$work/broken" "${small[@]}" || status=$?
    if [[ $status -ne 2 ]]; then echo "FAIL: gate.sh exited $status for a missing binary, expected 2"; exit 1; fi
    ;;
  time)
    timing=(bench --data tiny --k 16 --threads 1 --impl csc_cols_omp --peers none --reps 9 --min-time 0.05)
    "$mfgrad" "${timing[@]}" --json "$work/time_base.json"
    "$slowed" "${timing[@]}" --json "$work/time_slowed.json"
    "$mfgrad" compare "$work/time_base.json" "$work/time_base.json"
    expect_regression "$work/time_base.json" "$work/time_slowed.json" --threshold 25
    ;;
  *) echo "unknown mode $mode"; exit 2 ;;
esac
echo "PASS: perf gate ($mode)"
