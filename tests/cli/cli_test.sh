#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The sihlicon command-line tool as an operator uses it. Usage: cli_test.sh PATH_TO_SIHLICON
# shellcheck source=../support/cli_checks.sh
source "$(dirname "$0")/../support/cli_checks.sh"

# The schema version this build writes, as the tool itself reports it.
schema=$("$sihlicon" version --json | sed -n 's/.*"schemaVersion":\([0-9]*\).*/\1/p')
check "version --json reports a schema version" test -n "$schema"

hub="$work/h"
out=$("$sihlicon" --hub "$hub" init --json)
check "init prints the schema version as JSON" grep -q "\"schemaVersion\":$schema" <<<"$out"
check "init creates the database" test -f "$hub/hub.db"
check "init creates the blob folder" test -d "$hub/blobs"

out=$("$sihlicon" --hub "$hub" info --json)
check "info --json prints the schema version" grep -q "\"schemaVersion\":$schema" <<<"$out"
check "info --json prints the instance id" grep -q '"instanceId":"hub-' <<<"$out"

out=$("$sihlicon" --hub "$hub" info)
check "info prints a readable schema line" grep -q "^schema version   $schema" <<<"$out"

out=$(SIHLICON_HUB="$hub" "$sihlicon" info --json)
check "the hub can come from SIHLICON_HUB" grep -q "\"schemaVersion\":$schema" <<<"$out"

again=$("$sihlicon" --hub "$hub" init --json)
check "init on an existing hub keeps its identity" \
  test "$(grep -o '"instanceId":"[^"]*"' <<<"$again")" = "$(grep -o '"instanceId":"[^"]*"' <<<"$out")"

err=$("$sihlicon" --hub "$work/absent" info --json 2>&1 >/dev/null); rc=$?
check "info on a missing hub exits 1" test "$rc" -eq 1
check "info on a missing hub reports not_found as JSON" grep -q '"code":"not_found"' <<<"$err"
check "info does not create a missing hub" test ! -e "$work/absent"

printf 'not a database at all, just some text that is long enough to matter\n%.0s' {1..100} \
  >"$work/corrupt.db"
mkdir "$work/corrupt" && mv "$work/corrupt.db" "$work/corrupt/hub.db"
err=$("$sihlicon" --hub "$work/corrupt" info 2>&1 >/dev/null); rc=$?
check "a corrupt hub exits 1" test "$rc" -eq 1
check "a corrupt hub is reported as integrity" grep -q '^sihlicon: integrity:' <<<"$err"

"$sihlicon" info >/dev/null 2>&1; rc=$?
check "a command without --hub is a usage error" test "$rc" -eq 2
"$sihlicon" --hub "$hub" frobnicate >/dev/null 2>&1; rc=$?
check "an unknown command is a usage error" test "$rc" -eq 2
"$sihlicon" --hub "$hub" info extra >/dev/null 2>&1; rc=$?
check "an unexpected argument is a usage error" test "$rc" -eq 2

# Hub settings: stored in the hub, changed by the operator, audited.
out=$("$sihlicon" --hub "$hub" settings show)
check "settings show lists the default price" grep -q '^defaultPrice  *0.100000$' <<<"$out"
out=$("$sihlicon" --hub "$hub" settings set prices.ocr 0.05 --json)
check "settings set prints the stored settings as JSON" grep -q '"prices":{"ocr":"0.050000"}' <<<"$out"
"$sihlicon" --hub "$hub" settings set epochDurationMs 2h >/dev/null
out=$("$sihlicon" --hub "$hub" --json settings show)
check "a later process reads the stored setting" grep -q '"epochDurationMs":7200000' <<<"$out"
err=$("$sihlicon" --hub "$hub" settings set protocolFeePpm 2000000 2>&1 >/dev/null); rc=$?
check "a bad setting exits 1" test "$rc" -eq 1
check "a bad setting names the key and the value" grep -q 'protocolFeePpm.*2000000' <<<"$err"
err=$("$sihlicon" --hub "$hub" settings set chargeJobs true --by alice 2>&1 >/dev/null); rc=$?
check "only the operator may change a setting" grep -q '^sihlicon: permission_denied:' <<<"$err"
out=$("$sihlicon" --hub "$hub" settings history)
check "settings history shows each change" test "$(wc -l <<<"$out")" -eq 2
check "settings history shows who changed what" grep -q 'operator epochDurationMs: 86400000 -> 7200000' <<<"$out"

out=$("$sihlicon" version --json)
check "version --json names the ABI" grep -q '"abiVersion":0' <<<"$out"
out=$("$sihlicon" --help)
check "--help lists the commands" grep -q 'init' <<<"$out"

finish "cli"
