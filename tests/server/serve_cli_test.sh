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

# The options: flags for what an operator sets, --options FILE (ServerOptions::from_json), the
# flags over the file, each decoded by the core's codec and refused naming the flag and value.
out=$("$sihlicon" serve --help)
for flag in --listen --options --threads --max-connections --upload-limit --spool-dir \
  --read-timeout --write-timeout --idle-timeout --tls-cert --tls-key; do
  check "serve --help lists $flag" grep -q -- "$flag" <<<"$out"
done
check "serve --help shows an example" grep -q 'example:' <<<"$out"

refused() {  # refused NAME PATTERN ARGS...: serve exits 1 and stderr matches PATTERN
  local name="$1" pattern="$2"; shift 2
  local err rc
  err=$("$sihlicon" --hub "$hub" serve "$@" 2>&1 >/dev/null </dev/null); rc=$?
  check "$name exits 1" test "$rc" -eq 1
  check "$name is named" grep -q -- "$pattern" <<<"$err"
}
refused "--threads 0" "^sihlicon: invalid_argument: --threads '0'" --listen 127.0.0.1:0 --threads 0
refused "--threads many" "--threads 'many'" --threads many
refused "--threads 5000" "--threads '5000'.*1024" --threads 5000
refused "--max-connections 0" "--max-connections '0'" --listen 127.0.0.1:0 --max-connections 0
refused "--read-timeout 2d" "--read-timeout '2d'" --read-timeout 2d
refused "--idle-timeout 0" "--idle-timeout '0'" --listen 127.0.0.1:0 --idle-timeout 0
refused "--upload-limit 4GB" "--upload-limit '4GB'" --upload-limit 4GB
refused "--spool-dir absent" "--spool-dir '$work/absent'" --listen 127.0.0.1:0 \
  --spool-dir "$work/absent"
refused "--listen :99999" "--listen '127.0.0.1:99999'" --listen 127.0.0.1:99999
refused "--listen not an address" "--listen 'localhost:80'" --listen localhost:80
echo '{"threads":2,"listen":"0.0.0.0:80"}' >"$work/bad.json"
refused "an unknown key in --options" "--options '$work/bad.json'.*listen" --options "$work/bad.json"
echo '{"threads":0,"port":0}' >"$work/zero.json"
refused "a bad value in --options" "--options '$work/zero.json'.*threads" \
  --options "$work/zero.json"
refused "a missing --options file" "cannot read" --options "$work/absent.json"

# The file sets the port, the threads and a large upload limit; the flag lowers the limit.
mkdir "$work/spool"
echo '{"address":"127.0.0.1","port":0,"threads":3,"uploadLimit":1073741824}' >"$work/ok.json"
"$sihlicon" --hub "$hub" serve --options "$work/ok.json" --upload-limit 1KiB \
  --spool-dir "$work/spool" >"$work/out2" 2>"$work/err2" &
server=$!
for _ in $(seq 400); do
  grep -q '^listening on' "$work/out2" && break
  sleep 0.05
done
port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/out2")
check "serve --options listens where the file says" test -n "$port"
head -c 4096 /dev/urandom >"$work/big"
head -c 512 /dev/urandom >"$work/small"
code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $token" \
  -F "file=@$work/big" "http://127.0.0.1:$port/api/storage")
check "an upload over --upload-limit (the flag over the file) is 413" test "$code" = 413
code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $token" \
  -F "file=@$work/small" "http://127.0.0.1:$port/api/storage")
check "an upload within --upload-limit is stored" test "$code" = 200
kill -TERM "$server"
wait "$server"
check "serve --options exits 0 on SIGTERM" test $? -eq 0

# The one process an operator runs: the server seals the epoch when it is due.
"$sihlicon" --hub "$hub" settings set epochDurationMs 300ms >/dev/null
"$sihlicon" --hub "$hub" epoch current >/dev/null
"$sihlicon" --hub "$hub" serve --listen 127.0.0.1:0 --maintenance-interval 20ms \
  >"$work/out3" 2>"$work/err3" &
server=$!
for _ in $(seq 400); do
  grep -q 'maintenance sealed epoch-000001' "$work/out3" && break
  sleep 0.05
done
check "serve seals the epoch when it is due" grep -q ' maintenance sealed epoch-000001 jobs=0 ' "$work/out3"
kill -TERM "$server"
wait "$server"
check "SIGTERM stops the maintenance and exits 0" test $? -eq 0
out=$("$sihlicon" --hub "$hub" --json epoch show epoch-000001)
check "the sealed epoch is finalized" grep -q '"status":"finalized"' <<<"$out"
refused "a negative maintenance interval" "--maintenance-interval '-1'" --maintenance-interval=-1

finish serve.cli
