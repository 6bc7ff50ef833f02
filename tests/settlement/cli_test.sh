#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The settlement commands end to end: a hub with a sealed epoch (built by the interop program),
# then account, topup, epoch show|seal|export, receipt and receipt verify (no hub).
# Usage: cli_test.sh PATH/TO/sihlicon PATH/TO/settlement_interop_epoch
set -eu
cli=$1
fixture=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }

"$fixture" "$work" 5 > /dev/null
hub="$work/hub"

"$cli" --hub "$hub" topup alice 2.50 --reference 0xabc > /dev/null
"$cli" --hub "$hub" --json topup alice 2.50 --reference 0xabc | grep -q '"exists":true' \
    || fail "a repeated top-up is not recognised"
"$cli" --hub "$hub" --json account alice | grep -q '"balance":"2.500000"' \
    || fail "account shows the top-up"
"$cli" --hub "$hub" --json account alice | grep -q '"txType":"deposit"' \
    || fail "account history names the deposit"
"$cli" --hub "$hub" --json epoch show --epoch epoch-000001 | grep -q '"status":"finalized"' \
    || fail "epoch show of the sealed epoch"
"$cli" --hub "$hub" --json epoch show | grep -q '"epoch_id":"epoch-000002"' \
    || fail "epoch show of the current epoch"
"$cli" --hub "$hub" --json epoch current | grep -q '"epoch_id":"epoch-000002"' \
    || fail "epoch current"
"$cli" --hub "$hub" epoch list | grep -q '^epoch-000001  finalized  5 jobs' || fail "epoch list"
"$cli" --hub "$hub" --json epoch jobs epoch-000001 | grep -q '"poe_hash":' || fail "epoch jobs"
[ "$("$cli" --hub "$hub" epoch jobs epoch-000001 | wc -l)" -eq 5 ] || fail "epoch jobs: 5 lines"
"$cli" --hub "$hub" --json epoch payouts epoch-000001 | grep -q '"payouts":\[{' \
    || fail "epoch payouts"
"$cli" --hub "$hub" epoch index | grep -q '"epochs":\[' || fail "epoch index"
if "$cli" --hub "$hub" epoch jobs epoch-000404 > /dev/null 2>&1; then
    fail "epoch jobs of an unknown epoch"
fi
"$cli" --hub "$hub" epoch export "$work/export" > /dev/null
for f in jobs.json agents.json SUMMARY.json SIGNATURE.txt; do
    [ -s "$work/export/epoch-000001/$f" ] || fail "export wrote $f"
done
[ -s "$work/export/index.json" ] || fail "export wrote index.json"
job=$(ls "$work/out/receipts" | head -n 1 | sed 's/\.json$//')
"$cli" --hub "$hub" receipt "$job" > "$work/receipt.json"
"$cli" receipt verify "$work/receipt.json" | grep -q '^valid' || fail "receipt verify"
signer=$(head -n 1 "$work/export/epoch-000001/SIGNATURE.txt")
"$cli" --json receipt verify --signer "$signer" "$work/receipt.json" | grep -q '"valid":true' \
    || fail "receipt verify with the expected signer"
sed 's/"leaf_index":[0-9]*/"leaf_index":99/' "$work/receipt.json" > "$work/bad.json"
if "$cli" receipt verify "$work/bad.json" > /dev/null; then fail "a tampered receipt verified"; fi
"$cli" --hub "$hub" --json epoch seal | grep -q '"epoch_id":"epoch-000002"' || fail "epoch seal"
echo "settlement.cli: passed"
