#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The day between two network namespaces made here: `sihlicon serve` (TLS) in one, the 4
# workers, 2 clients and the trouble-making proxy (proxy.py: delay, stalls like lost segments,
# resets) in the other, joined by a veth pair. Three days, at 0, 5 and 20 ms round trip through
# the proxy (each with 1 % of chunks stalled 200 ms and 0.2 % of client chunks resetting their
# connection), each on a fresh hub: 2 clients submit 100 jobs each as fast as they are answered.
# Each day is audited as the loopback day is (day_check.py: every acknowledged job completed
# exactly once, the ledger balances, the epoch seals and its receipts verify); the figures (jobs
# per second from the first submission to the last completion, p50 and p99 of the submissions'
# round trips, the proxy's counts) are printed and written to the test's output.
# Exits 77 (skipped) when network namespaces cannot be made (not root, no CAP_SYS_ADMIN).
# Usage: netns_day_test.sh SIHLICON [FIGURES_FILE] (needs iproute2, python3, openssl)
# shellcheck source=day_lib.sh
source "$(dirname "$0")/day_lib.sh"

tag="sihd$$"
ns_server="${tag}s"
ns_peers="${tag}p"
if ! ip netns add "$ns_server" 2>"$root/netns.err"; then
  echo "SKIP: ip netns is not usable here: $(head -n 1 "$root/netns.err")"
  exit 77
fi
cleanup_hooks+=("ip netns del $ns_server 2>/dev/null")
ip netns add "$ns_peers" || fail "ip netns add"
cleanup_hooks+=("ip netns del $ns_peers 2>/dev/null")
# Deleting a namespace deletes its end of the pair, and with it the other end.
ip link add "${tag}a" type veth peer name "${tag}b" || fail "ip link add veth"
cleanup_hooks+=("ip link del ${tag}a 2>/dev/null")
ip link set "${tag}a" netns "$ns_server" || fail "veth to $ns_server"
ip link set "${tag}b" netns "$ns_peers" || fail "veth to $ns_peers"
ip -n "$ns_server" addr add 10.213.0.1/24 dev "${tag}a" || fail "address"
ip -n "$ns_peers" addr add 10.213.0.2/24 dev "${tag}b" || fail "address"
for ns in "$ns_server" "$ns_peers"; do
  ip -n "$ns" link set lo up || fail "lo up"
done
ip -n "$ns_server" link set "${tag}a" up || fail "veth up"
ip -n "$ns_peers" link set "${tag}b" up || fail "veth up"
in_server="ip netns exec $ns_server"
in_peers="ip netns exec $ns_peers"

started=$SECONDS
for rtt in 0 5 20; do
  work="$root/rtt$rtt"
  mkdir -p "$work"
  hub="$work/hub"
  worker_of=()
  make_hub 1000
  make_cert 127.0.0.1 10.213.0.1
  start_server 10.213.0.1:0
  $in_peers python3 "$here/proxy.py" --listen 127.0.0.1:0 --target "10.213.0.1:$port" \
    --rtt-ms "$rtt" --stall-prob 0.01 --stall-ms 200 --reset-prob 0.002 --seed "$rtt" \
    >"$work/proxy.log" 2>"$work/proxy.err" &
  proxy_pid=$!
  pids+=("$proxy_pid")
  for _ in $(seq 100); do
    proxy_port=$(sed -n 's/^proxy listening on .*:\([0-9]*\)$/\1/p' "$work/proxy.log")
    [ -n "$proxy_port" ] && break
    sleep 0.05
  done
  [ -n "$proxy_port" ] || fail "the proxy did not listen"
  url="https://127.0.0.1:$proxy_port"
  day=$SECONDS
  for id in w1 w2 w3 w4; do start_worker "$id" "$url"; done
  start_client c1 "$url" 100 1000
  c1=$client_pid
  start_client c2 "$url" 100 1000
  c2=$client_pid
  wait "$c1" || fail "client c1 failed at $rtt ms"
  wait "$c2" || fail "client c2 failed at $rtt ms"
  wait_completed 60
  stop_all
  kill -TERM "$proxy_pid"
  wait "$proxy_pid" || fail "the proxy exited $?"
  echo "rtt ${rtt} ms: day of $((SECONDS - day)) s; $(grep '^proxy:' "$work/proxy.log")"
  audit "rtt ${rtt} ms" "$root/figures.txt" --seal
done
echo "== figures"
cat "$root/figures.txt"
keep_figures
echo "netns days: passed in $((SECONDS - started)) s"
