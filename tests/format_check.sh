#!/usr/bin/env bash
# Every tracked C and C++ file must be as clang-format-14 writes it under the project's .clang-format.
# usage: format_check.sh SOURCE_DIR [FILE...]   (no FILE: every tracked *.c *.h *.cpp *.hpp)
# (cmake/*.cpp.in are CMake templates with @VAR@ fields, not C++, and stay as written.)
# Exit 77 (skipped) without clang-format-14 or git, unless MFGRAD_CI=1 makes that a failure.
set -euo pipefail
src=$1
shift
format=${MFGRAD_CLANG_FORMAT:-clang-format-14}
missing() {
  echo "$1 not found: apt-get install -y $2"
  [[ ${MFGRAD_CI:-0} == 1 ]] && exit 1
  exit 77
}
command -v "$format" >/dev/null || missing "$format" clang-format-14
if (($# == 0)); then
  command -v git >/dev/null || missing git git
  [[ -e $src/.git ]] || missing "a git checkout at $src" git
  mapfile -t files < <(git -C "$src" ls-files '*.c' '*.h' '*.cpp' '*.hpp')
  files=("${files[@]/#/$src/}")
else
  files=("$@")
fi
# --dry-run -Werror prints each place that differs as file:line:column and fails.
if ! "$format" --style=file --dry-run -Werror "${files[@]}" 2>"${TMPDIR:-/tmp}/format_check.$$"; then
  grep -E '^[^ ].*: (error|warning):' "${TMPDIR:-/tmp}/format_check.$$" | head -40
  rm -f "${TMPDIR:-/tmp}/format_check.$$"
  echo "FAIL: not formatted; run: git ls-files '*.c' '*.h' '*.cpp' '*.hpp' | xargs $format -i"
  exit 1
fi
rm -f "${TMPDIR:-/tmp}/format_check.$$"
echo "PASS: ${#files[@]} files as $format formats them"
