# Sourced by every stage script: how a stage asks for a tool and how it fails.
set -euo pipefail

# need TOOL DEBIAN_PACKAGE: a missing tool skips the stage (exit 77) — except in CI (MFGRAD_CI=1),
# which installs every tool the stages use, so there a missing one is a failure.
need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "this stage needs '$1': install the Debian package '$2' (apt-get install -y $2)" >&2
  if [ "${MFGRAD_CI:-}" = 1 ]; then
    echo "MFGRAD_CI=1: a missing tool is a failure here" >&2
    exit 1
  fi
  exit 77
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
