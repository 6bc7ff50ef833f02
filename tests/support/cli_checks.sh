# SPDX-License-Identifier: Apache-2.0
#
# Sourced by the command-line tests: `sihlicon` (the tool under test, from $1), a scratch
# folder `work` removed on exit, `check NAME COMMAND...` (the command must succeed) and
# `finish SUITE` (prints "SUITE: N passed, N failed" and fails if any check did).
set -uo pipefail
sihlicon="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

check() {
  local name="$1"; shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $name"; fi
}

finish() {
  echo "$1: $passed passed, $failed failed"
  test "$failed" -eq 0
}
