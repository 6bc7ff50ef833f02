# SPDX-License-Identifier: Apache-2.0
#
# Sourced by the day tests (loopback_day_test.sh, netns_day_test.sh): a hub with one site,
# client and worker tokens, a test certificate, `sihlicon serve` with TLS, remote workers and
# clients, and cleanup of every process and folder on exit, whatever happened.
#
# Each command that starts a process may run it in a network namespace: set `in_server` /
# `in_peers` to "ip netns exec NS" (empty: this namespace).
set -uo pipefail
sihlicon=$(realpath "$1")
figures_out=${2:-}  # where the figures are copied when the test passes (optional)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(mktemp -d /tmp/sihlicon-day.XXXXXX)  # removed on exit
work=$root  # this day's folder (under root)
hub="$work/hub"
in_server=""
in_peers=""
pids=()        # every process started, stopped on exit
declare -A worker_of=()  # worker id -> its process
renew_after=20  # seconds (day_worker.py --renew-after)
server_pid=""
cleanup_hooks=()

# The one switch between the workers: "agent" (the default: the real remote agent, `sihlicon
# agent run --server URL --token-file F --ca-file CERT`, running the jobs' `sleep` commands
# natively in its sandbox; its log is not audited line by line) or "python" (day_worker.py, a
# minimal worker over the workers API whose log day_check.py audits line by line).
worker_impl=${SIHLICON_DAY_WORKER:-agent}
day_input=""  # a file every job names as its input (set by a test before its clients start)

cleanup() {
  local pid
  [ -n "$server_pid" ] && kill -CONT "$server_pid" 2>/dev/null
  for pid in "${pids[@]}"; do
    kill -9 "$pid" 2>/dev/null
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null
  done
  local hook
  for hook in "${cleanup_hooks[@]}"; do
    eval "$hook"
  done
  if [ -n "${SIHLICON_DAY_KEEP:-}" ]; then
    echo "kept $root"
  else
    rm -rf "$root"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# nap SECONDS: sleeps in a way a signal interrupts at once (the trap runs, then cleanup).
nap() {
  sleep "$1" &
  pids+=("$!")
  wait "$!"
}

fail() {
  echo "FAILED: $*"
  for f in "$work"/*.log "$work"/*.err; do
    [ -s "$f" ] && { echo "== $f (tail)"; tail -n 15 "$f"; }
  done
  exit 1
}

# make_hub TOPUP: a hub with the site "plant", charges on, the rate limit out of the way,
# clients c1 and c2 topped up, a token file per client and per worker w1..w4.
make_hub() {
  local s=("$sihlicon" --hub "$hub")
  "${s[@]}" init >/dev/null || fail "init"
  "${s[@]}" hub register '{"hubId":"plant","name":"Plant","site":"s1","region":"CH",
    "heatRecoveryPpm":900000,"powerCapacityW":1000000}' >/dev/null || fail "hub register"
  "${s[@]}" settings set submissionsPerHour 1000000 >/dev/null || fail "settings"
  "${s[@]}" settings set chargeJobs true >/dev/null || fail "settings"
  local name
  for name in c1 c2; do
    "${s[@]}" topup "$name" "$1" --reference "day-$name" >/dev/null || fail "topup"
    "${s[@]}" --json token create "$name" --role client |
      sed -n 's/.*"token":"\(sih_[0-9a-f]*\)".*/\1/p' >"$work/$name.token"
  done
  for name in w1 w2 w3 w4; do
    "${s[@]}" --json token create "$name" --role worker --worker-id "$name" |
      sed -n 's/.*"token":"\(sih_[0-9a-f]*\)".*/\1/p' >"$work/$name.token"
  done
  chmod 600 "$work"/*.token
  for name in c1 c2 w1 w2 w3 w4; do
    test -s "$work/$name.token" || fail "token create $name"
  done
}

# make_cert IP...: a self-signed certificate (its own CA) for localhost and the given IPs.
make_cert() {
  local san="DNS:localhost" ip
  for ip in "$@"; do san="$san,IP:$ip"; done
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=sihlicon-day \
    -addext "subjectAltName=$san" -keyout "$work/key.pem" -out "$work/cert.pem" \
    2>"$work/openssl.err" || fail "openssl"
}

# start_server HOST:PORT: serve the hub with TLS; sets server_pid and port (the one chosen).
start_server() {
  local before _
  before=$(grep -c '^listening on' "$work/server.log" 2>/dev/null)
  $in_server "$sihlicon" --hub "$hub" serve --listen "$1" --threads 2 \
    --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" \
    >>"$work/server.log" 2>>"$work/server.err" &
  server_pid=$!
  pids+=("$server_pid")
  for _ in $(seq 200); do
    if [ "$(grep -c '^listening on' "$work/server.log")" -gt "${before:-0}" ]; then
      port=$(sed -n 's/^listening on .*:\([0-9]*\) (TLS)$/\1/p' "$work/server.log" | tail -n 1)
      return 0
    fi
    kill -0 "$server_pid" 2>/dev/null || fail "serve exited"
    sleep 0.05
  done
  fail "serve did not listen"
}

# start_worker ID URL: one remote worker with 4 slots (worker_of[ID] is its process); the
# Python worker renews the lease of each job every $renew_after seconds it runs.
start_worker() {
  local id="$1" url="$2"
  if [ "$worker_impl" = agent ]; then
    $in_peers "$sihlicon" agent run --server "$url" --token-file "$work/$id.token" \
      --ca-file "$work/cert.pem" --worker-id "$id" --hub-id plant --slots 4 \
      --allow-command sleep --allow-command sh >>"$work/$id.log" 2>&1 &
  else
    $in_peers python3 "$here/day_worker.py" --server "$url" --token-file "$work/$id.token" \
      --worker-id "$id" --hub-id plant --cafile "$work/cert.pem" --slots 4 \
      --renew-after "$renew_after" --log "$work/$id.log" 2>>"$work/$id.err" &
  fi
  worker_of[$id]=$!
  pids+=("$!")
}

# start_client NAME URL JOBS RATE: sets client_pid.
start_client() {
  $in_peers python3 "$here/day_client.py" --server "$2" --token-file "$work/$1.token" \
    --name "$1" --jobs "$3" --rate "$4" --cafile "$work/cert.pem" --out "$work/$1.acks" \
    ${day_input:+--input-file "$day_input"} 2>>"$work/$1.err" &
  client_pid=$!
  pids+=("$client_pid")
}

# acked_count: jobs the clients hold a jobId for.
acked_count() {
  cat "$work"/c*.acks 2>/dev/null | grep -c '^ack '
}

# completed_count: jobs the hub lists as completed (read from the hub, beside the server).
completed_count() {
  "$sihlicon" --hub "$hub" --json job list --status completed --limit 1000 |
    python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'
}

# wait_completed SECONDS: until every acknowledged job completed, or fail.
wait_completed() {
  local deadline=$((SECONDS + $1)) want got
  want=$(acked_count)
  while :; do
    got=$(completed_count)
    [ "$got" -ge "$want" ] && return 0
    [ "$SECONDS" -ge "$deadline" ] && fail "$got of $want acknowledged jobs completed in $1 s"
    sleep 1
  done
}

# stop_all: SIGTERM the workers (they finish and complete what runs) and then the server
# (it drains); each must exit 0.
stop_all() {
  local pid rc
  for pid in "${worker_of[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${worker_of[@]}"; do
    wait "$pid"; rc=$?
    [ "$rc" -eq 0 ] || fail "worker $pid exited $rc"
  done
  kill -TERM "$server_pid"
  wait "$server_pid"; rc=$?
  [ "$rc" -eq 0 ] || fail "serve exited $rc on SIGTERM"
}

# keep_figures: copies $root/figures.txt to the test's second argument, when given.
keep_figures() {
  [ -z "$figures_out" ] || cp "$root/figures.txt" "$figures_out" || fail "cannot write $figures_out"
}

# audit LABEL FIGURES [--seal]: day_check.py over the acks and (python workers) their logs.
audit() {
  local logs=()
  [ "$worker_impl" = python ] && logs=(--worker-logs "$work"/w?.log)
  # With an input file every job names its CID; the real agent fetched and verified it, ran
  # the job (which copies it to its output) and uploaded the output: the same CID.
  if [ -n "$day_input" ]; then
    logs+=(--input-cid "$("$sihlicon" cid "$day_input" | awk '{print $1}')")
    [ "$worker_impl" = agent ] && logs+=(--copied)
  fi
  python3 "$here/day_check.py" --sihlicon "$sihlicon" --hub "$hub" --topup 1000 \
    --acks "$work"/c*.acks "${logs[@]}" --label "$1" --figures "$2" "${@:3}" ||
    fail "the audit of $1"
}
