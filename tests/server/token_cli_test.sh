#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `sihlicon token create|list|revoke` as an operator uses them. Usage: token_cli_test.sh SIHLICON
# shellcheck source=../support/cli_checks.sh
source "$(dirname "$0")/../support/cli_checks.sh"

hub="$work/h"
"$sihlicon" --hub "$hub" init >/dev/null

out=$("$sihlicon" --hub "$hub" --json token create ann --role client)
secret=$(sed -n 's/.*"token":"\(sih_[0-9a-f]*\)".*/\1/p' <<<"$out")
check "create --json shows the secret once" test "${#secret}" -eq 68
check "create --json shows the role" grep -q '"role":"client"' <<<"$out"
id=$(sed -n 's/.*"id":"\(tok-[0-9A-Z]*\)".*/\1/p' <<<"$out")
check "create --json shows the id" test -n "$id"

out=$("$sihlicon" --hub "$hub" token list)
check "list shows the token" grep -q "$id  ann  client" <<<"$out"
check "list never shows the secret" test "$(grep -c "${secret#sih_}" <<<"$out")" -eq 0
check "the hub's files never hold the secret" test "$(cat "$hub"/hub.db* | grep -c -a "${secret#sih_}")" -eq 0

"$sihlicon" --hub "$hub" token create bee --role worker >/dev/null 2>&1
check "a worker token needs --worker-id" test $? -eq 1
"$sihlicon" --hub "$hub" token create operator --role client >/dev/null 2>&1
check "no client token for the operator principal" test $? -eq 1
"$sihlicon" --hub "$hub" token create ann --role admin >/dev/null 2>&1
check "an unknown role is refused" test $? -eq 1
"$sihlicon" --hub "$hub" token create ann >/dev/null 2>&1
check "create without --role is a usage error" test $? -eq 2
out=$("$sihlicon" --hub "$hub" --json token create bee --role worker --worker-id worker-1)
check "a worker token is bound to its worker" grep -q '"workerId":"worker-1"' <<<"$out"

out=$("$sihlicon" --hub "$hub" --json token revoke "$id")
check "revoke shows the revocation time" grep -q '"revokedAt":"20' <<<"$out"
"$sihlicon" --hub "$hub" token revoke tok-unknown >/dev/null 2>&1
check "revoking an unknown token fails" test $? -eq 1

finish token.cli
