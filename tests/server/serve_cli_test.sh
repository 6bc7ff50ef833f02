#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `sihlicon serve` as an operator runs it: it listens, answers over HTTP with the tokens of
# `sihlicon token`, logs each request without its token, and exits 0 on SIGTERM.
# Usage: serve_cli_test.sh SIHLICON (needs curl)
# shellcheck source=../support/cli_checks.sh
source "$(dirname "$0")/../support/cli_checks.sh"

hub="$work/h"
"$sihlicon" --hub "$hub" init >/dev/null
token=$("$sihlicon" --hub "$hub" --json token create ann --role client |
  sed -n 's/.*"token":"\(sih_[0-9a-f]*\)".*/\1/p')

"$sihlicon" --hub "$hub" serve --listen 127.0.0.1:0 >"$work/out" 2>"$work/err" &
server=$!
for _ in $(seq 400); do
  grep -q '^listening on' "$work/out" && break
  sleep 0.05
done
port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/out")
check "serve prints the port it listens on" test -n "$port"

out=$(curl -s "http://127.0.0.1:$port/.well-known/sihlicon.json")
check "the well-known document names the instance" grep -q '"instanceId":"hub-' <<<"$out"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/compute")
check "no token is 401" test "$code" = 401
out=$(curl -s -H "Authorization: Bearer $token" -X POST --data-binary \
  '{"jobType":"ocr","jobName":"scan","workloadConfig":{"containerImage":"tesseract"}}' \
  "http://127.0.0.1:$port/api/compute")
check "a client submits a job" grep -q '"success":true,"jobId":"job-' <<<"$out"
out=$(curl -s -b "sihlhack_session=$token" "http://127.0.0.1:$port/api/compute")
check "the session cookie lists the client's job" grep -q '"jobName":"scan"' <<<"$out"

kill -TERM "$server"
wait "$server"
check "SIGTERM drains and exits 0" test $? -eq 0
check "one log line per request" test "$(grep -c '" [0-9][0-9][0-9] ' "$work/out")" -eq 4
check "the log names the principal" grep -q '"POST /api/compute" 200 .* ann$' "$work/out"
check "the log never holds the token" test "$(grep -c "${token#sih_}" "$work/out")" -eq 0

# The one process an operator runs: the server seals the epoch when it is due.
"$sihlicon" --hub "$hub" settings set epochDurationMs 300ms >/dev/null
"$sihlicon" --hub "$hub" epoch current >/dev/null
"$sihlicon" --hub "$hub" serve --listen 127.0.0.1:0 --maintenance-interval-ms 20 \
  >"$work/out2" 2>"$work/err2" &
server=$!
for _ in $(seq 400); do
  grep -q 'maintenance sealed epoch-000001' "$work/out2" && break
  sleep 0.05
done
check "serve seals the epoch when it is due" grep -q ' maintenance sealed epoch-000001 jobs=0 ' "$work/out2"
kill -TERM "$server"
wait "$server"
check "SIGTERM stops the maintenance and exits 0" test $? -eq 0
out=$("$sihlicon" --hub "$hub" --json epoch show epoch-000001)
check "the sealed epoch is finalized" grep -q '"status":"finalized"' <<<"$out"
"$sihlicon" --hub "$hub" serve --listen 127.0.0.1:0 --maintenance-interval-ms=-1 >/dev/null 2>"$work/err3"
check "a negative maintenance interval is refused" test $? -eq 1
check "the refusal names it" grep -q maintenanceIntervalMs "$work/err3"

finish serve.cli
