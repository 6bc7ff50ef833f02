#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The C ABI's symbol list: the sih_* functions the built library exports must be exactly the
# committed list. A symbol removed (or renamed) breaks every program linked against an older
# build, so it needs a new major version; a symbol added must be committed to the list, so
# that reviewers see the ABI grow. Usage: symbols_test.sh LIBRARY SYMBOLS_FILE
# To accept an intended change: nm -D --defined-only LIBRARY | awk '$3 ~ /^sih_/ {print $3}'
#   | sort > capi/sihlicon.symbols
set -uo pipefail
library="$1"
committed="$2"
built=$(nm -D --defined-only "$library" | awk '$3 ~ /^sih_/ {print $3}' | sort)
expected=$(grep -v '^#' "$committed" | sort)
removed=$(comm -13 <(echo "$built") <(echo "$expected"))
added=$(comm -23 <(echo "$built") <(echo "$expected"))
status=0
if [ -n "$removed" ]; then
  echo "FAILED: symbols of the committed ABI are no longer exported (needs a new major version):"
  echo "$removed"
  status=1
fi
if [ -n "$added" ]; then
  echo "FAILED: exported symbols missing from $committed (add them to accept the change):"
  echo "$added"
  status=1
fi
echo "capi.symbols: $(echo "$built" | wc -l) exported, $(echo "$expected" | wc -l) committed"
exit $status
