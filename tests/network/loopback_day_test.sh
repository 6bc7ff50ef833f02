#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A day on loopback: `sihlicon serve` with TLS (a certificate made here), 4 remote workers and 2
# clients running 300 short jobs, and in the middle of it
#   1. kill -9 of a worker while it holds a running job (restarted 2 s later, as a supervisor
#      would: the job it held comes back when its lease expires and runs again elsewhere);
#   2. kill -9 of the server while requests are in flight, restarted on the same port;
#   3. the server stopped (SIGSTOP) for 30 s, then continued (SIGCONT).
# Afterwards (day_check.py): every job a client holds a jobId for completed exactly once, none
# is lost and none was made twice, and the ledger balances; the epoch seals with every job and
# its receipts verify. Prints the timeline and the figures.
# Usage: loopback_day_test.sh SIHLICON [FIGURES_FILE] (needs python3, openssl)
# shellcheck source=day_lib.sh
source "$(dirname "$0")/day_lib.sh"

started=$SECONDS
renew_after=0.2  # the jobs run 20..300 ms: a third of them renew their lease once
make_hub 1000
make_cert 127.0.0.1
start_server 127.0.0.1:0
url="https://127.0.0.1:$port"
echo "serving on $url (TLS)"
for id in w1 w2 w3 w4; do start_worker "$id" "$url"; done
# Every job names one input of three UnixFS blocks (600 KiB), uploaded by each client: the
# agents fetch it as a CAR and verify it block by block before each job starts.
day_input="$work/input.bin"
head -c 614400 /dev/urandom >"$day_input"
start_client c1 "$url" 150 5
c1=$client_pid
start_client c2 "$url" 150 5
c2=$client_pid
day=$SECONDS

# 1. kill -9 of w1 once it holds a job it has not completed.
held=""
for _ in $(seq 400); do
  # day_worker.py logs "claimed JOB", "completed JOB ..."; the agent "job JOB attempt N claimed",
  # "job JOB attempt N completed ...", "... failed ...", "... handed back".
  held=$(awk '$1 == "job" { $1 = $5; $2 = $2 } $1 == "claimed" { held[$2] = 1 }
      $1 == "completed" || $1 == "stale" || $1 == "failed" || $1 == "handed" {
      delete held[$2] } END { for (j in held) print j }' "$work/w1.log" 2>/dev/null)
  [ -n "$held" ] && [ $((SECONDS - day)) -ge 3 ] && break
  sleep 0.05
done
[ -n "$held" ] || fail "w1 never held a job"
kill -9 "${worker_of[w1]}"
wait "${worker_of[w1]}" 2>/dev/null
# The jobs w1 held, less one whose completion was accepted as it died.
orphans=$(for j in $held; do
  grep -Eq "^(completed $j |job $j attempt [0-9]+ completed )" "$work/w1.log" || echo "$j"
done)
echo "t+$((SECONDS - day))s: kill -9 worker w1 holding $(echo "$orphans" | wc -w) running job(s)"
nap 2
start_worker w1 "$url"

# 2. kill -9 of the server while the clients and workers are sending requests to it.
nap $((10 - (SECONDS - day) > 0 ? 10 - (SECONDS - day) : 0))
lines=$(wc -l <"$work/server.log")
sleep 0.3
[ "$(wc -l <"$work/server.log")" -gt "$lines" ] || fail "no requests in flight before the kill"
kill -9 "$server_pid"
wait "$server_pid" 2>/dev/null
echo "t+$((SECONDS - day))s: kill -9 server ($(acked_count) jobs acknowledged so far)"
sleep 0.5
start_server "127.0.0.1:$port"
echo "t+$((SECONDS - day))s: server restarted on port $port"

# 3. the server stopped for 30 s.
nap 5
kill -STOP "$server_pid"
echo "t+$((SECONDS - day))s: server stopped (SIGSTOP) for 30 s"
nap 30
kill -CONT "$server_pid"
echo "t+$((SECONDS - day))s: server continued (SIGCONT)"

wait "$c1" || fail "client c1 failed"
wait "$c2" || fail "client c2 failed"
echo "t+$((SECONDS - day))s: the clients are done: $(acked_count) jobs acknowledged"
# The orphaned lease expires 60 s (the lease duration) after its claim.
wait_completed 100
echo "t+$((SECONDS - day))s: every acknowledged job completed"
stop_all
for j in $orphans; do
  attempts=$("$sihlicon" --hub "$hub" --json job show "$j" |
    sed -n 's/.*"attempts":\([0-9]*\).*/\1/p')
  [ "${attempts:-0}" -ge 2 ] || fail "$j, held by the killed worker, ran $attempts attempt(s)"
done
echo "leases renewed: $(cat "$work"/w?.log | grep -c '^renewed'), renewals refused as stale:" \
  "$(cat "$work"/w?.log | grep -c '^stale .* 409$')"
echo "requests the workers and clients repeated after a connection failure, by error:"
cat "$work"/w?.log "$work"/c?.acks | awk '$1 == "unreachable" { sub(/:$/, "", $3); n[$3]++ } END {
  for (e in n) printf "  %s %d\n", e, n[e] }'
audit loopback "$root/figures.txt" --seal
keep_figures
echo "loopback day: passed in $((SECONDS - started)) s"
