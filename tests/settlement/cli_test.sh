#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The settlement commands end to end: a hub with a sealed epoch (built by the interop program),
# then account, topup, charge, epoch show|seal|export|..., market, reputation, key, receipt and
# receipt verify (against --signer or --hub; never valid for a self-signed receipt).
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
"$cli" --hub "$hub" --json epoch show epoch-000001 | grep -q '"jobs_count":5' \
    || fail "epoch show ID"
if "$cli" --hub "$hub" epoch show epoch-000404 > /dev/null 2>&1; then
    fail "epoch show of an unknown epoch"
fi
"$cli" --hub "$hub" --json epoch show | grep -q '"epoch_id":"epoch-000002"' \
    || fail "epoch show of the current epoch"
"$cli" --hub "$hub" --json epoch current | grep -q '"epoch_id":"epoch-000002"' \
    || fail "epoch current"
"$cli" --hub "$hub" epoch list | grep -q '^epoch-000001  finalized  5 jobs' || fail "epoch list"
"$cli" --hub "$hub" --json epoch jobs epoch-000001 | grep -q '"poe_hash":' || fail "epoch jobs"
[ "$("$cli" --hub "$hub" epoch jobs epoch-000001 | wc -l)" -eq 5 ] || fail "epoch jobs: 5 lines"
"$cli" --hub "$hub" --json epoch payouts epoch-000001 | grep -q '"payouts":\[{' \
    || fail "epoch payouts"
"$cli" --hub "$hub" --json epoch payouts epoch-000001 | grep -q '"status":"pending"' \
    || fail "payouts are pending before any withdrawal"
"$cli" --hub "$hub" --json epoch show epoch-000001 | grep -q '"previous_root":null' \
    || fail "epoch 1 has no previous root"
# bee-02 withdraws its whole balance: its payout is paid, bee-01's stays pending.
balance=$("$cli" --hub "$hub" --json account bee-02 --kind worker \
    | sed 's/.*"balance":"\([0-9.]*\)".*/\1/')
"$cli" --hub "$hub" withdraw bee-02 "$balance" --id w-1 --reference 0xl1 \
    | grep -q "^withdrew $balance USD from worker bee-02" || fail "withdraw"
"$cli" --hub "$hub" --json withdraw bee-02 "$balance" --id w-1 --reference 0xl1 \
    | grep -q '"exists":true' || fail "a repeated withdrawal is recognised"
if "$cli" --hub "$hub" withdraw bee-02 1 --reference 0xl1 > /dev/null 2>&1; then
    fail "withdraw without --id"
fi
if "$cli" --hub "$hub" withdraw bee-02 1 --id w-2 > /dev/null 2>&1; then
    fail "withdraw beyond the balance"
fi
"$cli" --hub "$hub" epoch payouts epoch-000001 | grep -q '^bee-02 .* paid$' \
    || fail "bee-02's payout is paid"
"$cli" --hub "$hub" epoch payouts epoch-000001 | grep -q '^bee-01 .* pending$' \
    || fail "bee-01's payout is pending"
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
# With nobody to trust, a receipt is only consistent with the key it carries: unverified.
if out=$("$cli" receipt verify "$work/receipt.json"); then
    fail "receipt verify without a trusted signer exits 0"
fi
echo "$out" | grep -q '^UNVERIFIED: signature unverified' || fail "receipt verify says unverified: $out"
"$cli" --json receipt verify "$work/receipt.json" \
    | grep -q '"status":"unverified","valid":false,"signerTrusted":false' \
    || fail "--json receipt verify without a signer names the status"
signer=$(head -n 1 "$work/export/epoch-000001/SIGNATURE.txt")
"$cli" --json receipt verify --signer "$signer" "$work/receipt.json" | grep -q '"valid":true' \
    || fail "receipt verify with the expected signer"
"$cli" receipt verify --hub "$hub" "$work/receipt.json" | grep -q '^valid' \
    || fail "receipt verify trusting the hub's key"
"$cli" receipt verify --signer 0x0000000000000000000000000000000000000001 --signer "$signer" \
    "$work/receipt.json" | grep -q '^valid' || fail "receipt verify with one of two signers"
sed 's/"leaf_index":[0-9]*/"leaf_index":99/' "$work/receipt.json" > "$work/bad.json"
if "$cli" receipt verify --signer "$signer" "$work/bad.json" > /dev/null; then
    fail "a tampered receipt verified"
fi
# A forger's own hub: a fresh key signs an epoch of made-up jobs. Never "valid" for our hub.
"$fixture" "$work/forger" 2 > /dev/null
forged_job=$(ls "$work/forger/out/receipts" | head -n 1 | sed 's/\.json$//')
"$cli" --hub "$work/forger/hub" receipt "$forged_job" > "$work/forged.json"
for trust in "" "--hub $hub" "--signer $signer"; do
    # shellcheck disable=SC2086
    if out=$("$cli" receipt verify $trust "$work/forged.json"); then
        fail "a self-signed receipt exits 0 (trusting: $trust)"
    fi
    echo "$out" | grep -q '^valid' && fail "a self-signed receipt printed valid: $out"
done
"$cli" receipt verify --hub "$hub" "$work/forged.json" | grep -q '^INVALID: signed by .* not a trusted signer' \
    || fail "a self-signed receipt names the untrusted signer"
if "$cli" receipt verify --signer 0xnothex "$work/receipt.json" > /dev/null 2>&1; then
    fail "a malformed --signer is accepted"
fi
signer_before=$("$cli" --hub "$hub" --json key show | sed 's/.*"address":"\([^"]*\)".*/\1/')
[ "$signer_before" = "$signer" ] || fail "key show names the epoch's signer"
"$cli" --hub "$hub" --json key show | grep -q '"mode":"0600"' || fail "key show: mode 0600"

# A job's charge: base price, multiplier, price.
job_json=$("$cli" --hub "$hub" --json charge "$job")
echo "$job_json" | grep -q '"multiplierPpm":1000000' || fail "charge shows the multiplier"
echo "$job_json" | grep -q '"status":"charged"' || fail "charge shows the charged state"

# The marketplace between two hubs.
"$cli" --hub "$hub" hub register '{"hubId":"basel","name":"Basel","site":"rhine","region":"CH"}' \
    > /dev/null
"$cli" --hub "$hub" topup zurich 10 --kind hub_operator --reference bank-1 > /dev/null
"$cli" --hub "$hub" --json market create m-1 heat zurich basel 12500 0.00005 \
    | grep -q '"total":"0.625000"' || fail "market create: total"
"$cli" --hub "$hub" --json market create m-1 heat zurich basel 12500 0.00005 \
    | grep -q '"status":"pending"' || fail "market create again"
"$cli" --hub "$hub" --json account zurich --kind hub_operator | grep -q '"available":"9.375000"' \
    || fail "market create reserves the buyer's total"
"$cli" --hub "$hub" --json market settle m-1 | grep -q '"status":"settled"' || fail "market settle"
"$cli" --hub "$hub" --json account basel --kind hub_operator | grep -q '"balance":"0.625000"' \
    || fail "market settle pays the seller"
"$cli" --hub "$hub" market create m-2 compute zurich basel 3 1 > /dev/null
"$cli" --hub "$hub" --json market cancel m-2 | grep -q '"status":"cancelled"' \
    || fail "market cancel"
if "$cli" --hub "$hub" market settle m-2 > /dev/null 2>&1; then
    fail "a cancelled market transaction settled"
fi
if "$cli" --hub "$hub" market create m-3 energy zurich geneva 1 1 > /dev/null 2>&1; then
    fail "a market transaction with an unknown hub"
fi
[ "$("$cli" --hub "$hub" market list | wc -l)" -eq 2 ] || fail "market list"
"$cli" --hub "$hub" --json market list --status settled | grep -q '"id":"m-1"' \
    || fail "market list --status"
"$cli" --hub "$hub" --json market show m-2 | grep -q '"type":"compute"' || fail "market show"

# Reputation.
"$cli" --hub "$hub" --json reputation worker bee-01 | grep -q '"successRatePpm":1000000' \
    || fail "reputation worker"
"$cli" --hub "$hub" --json reputation hub zurich | grep -q '"subject":"hub"' \
    || fail "reputation hub"
"$cli" --hub "$hub" --json reputation list | grep -q '"reputations":\[{' \
    || fail "reputation list"
"$cli" --hub "$hub" reputation list --hubs | grep -q '^zurich' || fail "reputation list --hubs"

# The operator key: a key that signed an epoch is only replaced with --force.
if "$cli" --hub "$hub" key generate > /dev/null 2>&1; then
    fail "key generate replaced a key that signed an epoch"
fi
"$cli" --hub "$hub" --json key generate --force | grep -q '"mode":"0600"' \
    || fail "key generate --force"
printf '0xb25c7db31feed9122727bf0939dc769a96564b2de4c4726d035b36ecf1e5b364\n' > "$work/key.txt"
"$cli" --hub "$hub" --json key import "$work/key.txt" \
    | grep -q '"address":"0x5ce9454909639D2D17A3F753ce7d93fa0b9aB12E"' || fail "key import"
[ "$(stat -c %a "$hub/operator.key")" = 600 ] || fail "the key file's mode is 0600"
printf 'not a key\n' > "$work/bad-key.txt"
if "$cli" --hub "$hub" key import "$work/bad-key.txt" > /dev/null 2>&1; then
    fail "key import of a bad key"
fi
"$cli" --hub "$hub" key show | grep -q '0x5ce9454909639D2D17A3F753ce7d93fa0b9aB12E' \
    || fail "key show after import"
"$cli" receipt verify --signer "$signer" "$work/receipt.json" | grep -q '^valid' \
    || fail "a receipt of the old key still verifies"
"$cli" receipt verify --hub "$hub" "$work/receipt.json" | grep -q '^valid' \
    || fail "the hub still trusts its earlier key that signed a finalized epoch"

"$cli" --hub "$hub" --json epoch seal | grep -q '"signer":"0x5ce9454909639D2D17A3F753ce7d93fa0b9aB12E"' \
    || fail "epoch seal signs with the imported key"
# The ledger audit: clean after all of the above (two sealed epochs), exit 0 with JSON; a
# balance written into hub.db behind the journal's back is exit 1 naming the account.
"$cli" --hub "$hub" --json ledger audit > "$work/audit.json" || fail "ledger audit of a clean ledger"
grep -q '"ok":true' "$work/audit.json" || fail "ledger audit --json says ok"
grep -q '"problems":\[\]' "$work/audit.json" || fail "ledger audit lists no problem"
"$cli" --hub "$hub" ledger audit | grep -q '^ledger ok: ' || fail "ledger audit's summary line"
python3 - "$hub/hub.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE settlement_accounts SET balance = balance + 5 WHERE kind = 'client' AND owner = 'alice'")
db.commit()
PY
alice=$("$cli" --hub "$hub" --json account alice | sed -n 's/.*"account":"\([^"]*\)".*/\1/p')
[ -n "$alice" ] || fail "account alice names its account id"
if "$cli" --hub "$hub" --json ledger audit > "$work/audit.json"; then
    fail "ledger audit of a tampered ledger exits 0"
fi
grep -q '"ok":false' "$work/audit.json" || fail "ledger audit --json says not ok"
grep -q "\"check\":\"balance\",\"subject\":\"$alice\"" "$work/audit.json" \
    || fail "ledger audit names the tampered account"
"$cli" --hub "$hub" ledger audit | grep -q "^balance $alice: balance " \
    || fail "ledger audit's line names the tampered account"
echo "settlement.cli: passed"
