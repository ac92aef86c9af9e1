#!/usr/bin/env bash
# The performance gate of a CI job: callgrind instruction counts of a baseline build and a contender
# build of mfgrad on the same data, judged by `mfgrad compare`. Counts repeat to a fraction of a percent
# on shared, noisy CI machines, where timings do not (docs/testing.md, "A gate for your CI").
#
# usage: gate.sh BASELINE_MFGRAD CONTENDER_MFGRAD OUTDIR [BENCH OPTIONS...]
#   BENCH OPTIONS default to: --data tiny --k 16,64 --impl all
# Writes OUTDIR/baseline.json and contender.json (the counts), report.md (for a pull-request comment
# or the job summary) and report.json (for dashboards); prints the text report. Exits as compare does:
# 0 no regression, 1 a regression, failed check or missing benchmark, 2 a broken gate (a binary that
# does not run, a count that cannot be made, runs that cannot be compared).
set -euo pipefail
if [[ $# -lt 3 ]]; then
  sed -n '6,11p' "$0" >&2
  exit 2
fi
baseline=$1 contender=$2 out=$3
shift 3
options=("$@")
[[ ${#options[@]} -gt 0 ]] || options=(--data tiny --k 16,64 --impl all)
for bin in "$baseline" "$contender"; do
  if ! "$bin" --version >/dev/null 2>&1; then
    echo "gate.sh: '$bin' is not an mfgrad that runs" >&2
    exit 2
  fi
done
mkdir -p "$out"

# A failed correctness check still writes its counts (and compare fails it); no file at all is a
# broken gate.
count() {
  local bin=$1 file=$2
  rm -f "$file"
  "$bin" bench --instructions "${options[@]}" --json "$file" || [[ -s $file ]] || {
    echo "gate.sh: '$bin bench --instructions ${options[*]}' wrote no counts" >&2
    exit 2
  }
}
count "$baseline" "$out/baseline.json"
count "$contender" "$out/contender.json"

# The contender's compare judges: the gate's rules are those of the change under test.
"$contender" compare "$out/baseline.json" "$out/contender.json" --format markdown >"$out/report.md" || true
"$contender" compare "$out/baseline.json" "$out/contender.json" --format json >"$out/report.json" || true
status=0
"$contender" compare "$out/baseline.json" "$out/contender.json" || status=$?
exit "$status"
