#!/usr/bin/env bash
# The documentation check fires: planted pages with a failing block, a stale `replace`, a block with no
# language and an untrue path must each fail, and a page whose blocks hold must pass.
#   doc_blocks_selftest.sh PYTHON RUNNER SOURCE BUILD WORK
set -uo pipefail
python=$1 runner=$2 source=$3 build=$4 work=$5
rm -rf "$work" && mkdir -p "$work"
expect() {  # expect pass|fail NAME PAGE_TEXT
  printf '%s\n' "$3" >"$work/$2.md"
  "$python" "$runner" run "$work/$2.md" --source "$source" --build "$build" --work "$work/$2" >"$work/$2.log" 2>&1
  local status=$?
  if { [ "$1" = pass ] && [ $status -ne 0 ]; } || { [ "$1" = fail ] && [ $status -ne 1 ]; }; then
    cat "$work/$2.log"
    echo "FAIL: page '$2' should $1, the check exited $status"
    exit 1
  fi
  echo "ok: page '$2': expected to $1, and did"
}
fence='```'
expect pass holds "$(printf '%ssh\necho hello >out.txt\n%s\n\n%ssh\ngrep -q hello out.txt\n%s\n\n%stext\nCMakeLists.txt  the build\n%s' "$fence" "$fence" "$fence" "$fence" "$fence" "$fence")"
expect fail failing "$(printf '%ssh\nfalse\n%s' "$fence" "$fence")"
expect fail stale "$(printf '<!-- doc-test: replace "netflix-25m" "tiny" -->\n%ssh\necho tiny\n%s' "$fence" "$fence")"
expect fail no_language "$(printf '%s\necho hello\n%s' "$fence" "$fence")"
expect fail untrue_path "$(printf '<!-- doc-test: paths -->\n%stext\nno/such/folder/  gone\n%s' "$fence" "$fence")"
expect fail foreign_package "$(printf '%ssh\napt-get install -y cowsay\n%s' "$fence" "$fence")"
