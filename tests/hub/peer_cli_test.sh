#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `sihlicon peer add|list|rm` as an operator uses them; the token a hub presents to a peer is
# read from a file and never printed. Usage: peer_cli_test.sh SIHLICON
# shellcheck source=../support/cli_checks.sh
source "$(dirname "$0")/../support/cli_checks.sh"

hub="$work/h"
"$sihlicon" --hub "$hub" init >/dev/null
secret="peer-secret-7f3a9c1e5b2d4f60"
printf '%s\n' "$secret" >"$work/token"
chmod 600 "$work/token"

out=$("$sihlicon" --hub "$hub" --json peer add hub-zurich https://zurich.example:8443 \
  --token-file "$work/token" 2>&1)
check "add --json shows the peer" grep -q '"hubId":"hub-zurich","url":"https://zurich.example:8443"' <<<"$out"
check "add never shows the token" test "$(grep -c "$secret" <<<"$out")" -eq 0
out=$("$sihlicon" --hub "$hub" peer add hub-basel http://127.0.0.1:9000 --token-file "$work/token" 2>&1)
check "add shows the peer's line" grep -q "^hub-basel  http://127.0.0.1:9000  added 20" <<<"$out"
check "add never shows the token (text)" test "$(grep -c "$secret" <<<"$out")" -eq 0

out=$("$sihlicon" --hub "$hub" peer list 2>&1)
check "list shows both peers" test "$(grep -c "^hub-" <<<"$out")" -eq 2
check "list never shows the token" test "$(grep -c "$secret" <<<"$out")" -eq 0
out=$("$sihlicon" --hub "$hub" --json peer list 2>&1)
check "list --json shows both peers" grep -q '"hubId":"hub-basel".*"hubId":"hub-zurich"' <<<"$out"
check "list --json never shows the token" test "$(grep -c "$secret" <<<"$out")" -eq 0
check "list --json has no token field" test "$(grep -c -i token <<<"$out")" -eq 0

out=$("$sihlicon" --hub "$hub" peer add hub-evil "https://user:pw@evil.example" \
  --token-file "$work/token" 2>&1)
check "a URL with user information is refused" test $? -eq 1
check "the refusal names the URL" grep -q "url: .*user information.*https://user:pw@evil.example" <<<"$out"
"$sihlicon" --hub "$hub" peer add hub-evil "https://evil.example/?a=1" --token-file "$work/token" >/dev/null 2>&1
check "a URL with a query is refused" test $? -eq 1
"$sihlicon" --hub "$hub" peer add hub-evil "ftp://evil.example" --token-file "$work/token" >/dev/null 2>&1
check "a URL that is not http(s) is refused" test $? -eq 1
"$sihlicon" --hub "$hub" peer add hub-evil https://evil.example >/dev/null 2>&1
check "add without --token-file is a usage error" test $? -eq 2
"$sihlicon" --hub "$hub" peer add hub-evil https://evil.example --token-file "$work/missing" >/dev/null 2>&1
check "an unreadable token file is a usage error" test $? -eq 2
printf 'two words\n' >"$work/bad-token"
out=$("$sihlicon" --hub "$hub" peer add hub-evil https://evil.example --token-file "$work/bad-token" 2>&1)
check "a token with a space is refused" test $? -eq 1
check "the refusal does not show the token" test "$(grep -c "two words" <<<"$out")" -eq 0
out=$("$sihlicon" --hub "$hub" peer add hub-zurich https://other.example --token-file "$work/token" 2>&1)
check "adding a peer twice is refused" test $? -eq 1
check "the refusal does not show the token (conflict)" test "$(grep -c "$secret" <<<"$out")" -eq 0
check "only the two peers remain" test "$("$sihlicon" --hub "$hub" peer list | grep -c '^hub-')" -eq 2

out=$("$sihlicon" --hub "$hub" --json peer rm hub-basel 2>&1)
check "rm shows the removed peer" grep -q '"hubId":"hub-basel"' <<<"$out"
check "rm never shows the token" test "$(grep -c "$secret" <<<"$out")" -eq 0
"$sihlicon" --hub "$hub" peer rm hub-basel >/dev/null 2>&1
check "removing an unknown peer fails" test $? -eq 1
check "one peer remains" test "$("$sihlicon" --hub "$hub" peer list | grep -c '^hub-')" -eq 1

finish peer.cli
