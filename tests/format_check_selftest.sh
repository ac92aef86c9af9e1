#!/usr/bin/env bash
# The format check (format_check.sh) on a copy of a tracked file: unchanged it must pass; with one line
# planted past the 120-column limit it must fail and name that file and line.
# usage: format_check_selftest.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src=$1 work=$2 check="$(dirname "$0")/format_check.sh"
if ! command -v "${MFGRAD_CLANG_FORMAT:-clang-format-14}" >/dev/null; then
  echo "clang-format-14 not found: apt-get install -y clang-format-14"
  [[ ${MFGRAD_CI:-0} == 1 ]] && exit 1
  exit 77
fi
rm -rf "$work" && mkdir -p "$work"
cp "$src/.clang-format" "$work/"
cp "$src/kernels/naive.cpp" "$work/clean.cpp"
"$check" "$src" "$work/clean.cpp" >"$work/clean.txt" 2>&1 || {
  cat "$work/clean.txt"
  echo "FAIL: the check refused an unchanged tracked file"
  exit 1
}
cp "$work/clean.cpp" "$work/planted.cpp"
line=$(($(wc -l <"$work/planted.cpp") + 1))
printf 'int planted_long_line_of_code(int first_argument, int second_argument) { return first_argument * 7 + second_argument * 11 + 13; }\n' >>"$work/planted.cpp"
if "$check" "$src" "$work/planted.cpp" >"$work/planted.txt" 2>&1; then
  cat "$work/planted.txt"
  echo "FAIL: the check passed a line of $(tail -1 "$work/planted.cpp" | wc -c) columns"
  exit 1
fi
grep -q "planted.cpp:$line:" "$work/planted.txt" || {
  cat "$work/planted.txt"
  echo "FAIL: the check failed but did not name planted.cpp:$line"
  exit 1
}
echo "PASS: the format check passes a formatted file and names a planted long line ($line)"
