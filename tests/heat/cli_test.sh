#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The heat commands as an operator uses them. Usage: cli_test.sh PATH_TO_SIHLICON
# shellcheck source=../support/cli_checks.sh
source "$(dirname "$0")/../support/cli_checks.sh"

hub="$work/h"
"$sihlicon" --hub "$hub" init >/dev/null
"$sihlicon" --hub "$hub" hub register \
  '{"hubId":"pool","name":"Pool","site":"site-pool","region":"CH","heatRecoveryPpm":900000,"powerCapacityW":100000}' \
  >/dev/null

out=$("$sihlicon" --hub "$hub" heat record pool --kind battery-losses --kwh 1.5 \
  --at 2020-01-10T00:00:00Z --json)
check "record --json prints the record" grep -q '"thermalKwh":1.5' <<<"$out"
check "record keeps the kind" grep -q '"kind":"battery-losses"' <<<"$out"
"$sihlicon" --hub "$hub" heat record pool --kind other --kwh 0.3 --tag "wood stove" \
  --at 2020-01-20T12:00:00Z >/dev/null
check "record of tagged other heat succeeds" test $? -eq 0

out=$("$sihlicon" --hub "$hub" heat credits pool --start 2020-01-01T00:00:00Z \
  --end 2020-02-01T00:00:00Z --json)
check "credits --json has the seed's total" grep -q '"totalHeatKwh":1.8' <<<"$out"
check "credits --json has the credit in centimes" grep -q '"heatCreditChf":9' <<<"$out"
check "credits --json is unsettled" grep -q '"settled":false' <<<"$out"

out=$("$sihlicon" --hub "$hub" heat settle pool --start 2020-01-01T00:00:00Z \
  --end 2020-02-01T00:00:00Z --json)
check "settle --json prints settledCreditChf" grep -q '"settledCreditChf":9' <<<"$out"
out=$("$sihlicon" --hub "$hub" heat settle pool --start 2020-01-01T00:00:00Z \
  --end 2020-02-01T00:00:00Z --json)
check "settling again is idempotent" grep -q '"settledCreditChf":9' <<<"$out"
err=$("$sihlicon" --hub "$hub" heat settle pool --start 2020-01-15T00:00:00Z \
  --end 2020-02-15T00:00:00Z --json 2>&1 >/dev/null); rc=$?
check "an overlapping period exits 1" test "$rc" -eq 1
check "an overlapping period is a conflict" grep -q '"code":"conflict"' <<<"$err"

out=$("$sihlicon" --hub "$hub" heat record pool --kind battery-losses --kwh 1 \
  --at 2020-01-25T00:00:00Z --json)
check "a late record is credited after the settled period" \
  grep -q '"creditAt":"2020-02-01T00:00:00.000Z"' <<<"$out"

out=$("$sihlicon" --hub "$hub" heat stats pool --json)
check "stats --json counts the settled period" grep -q '"periodCount":1' <<<"$out"
check "stats --json has the last period end" \
  grep -q '"lastPeriodEnd":"2020-02-01T00:00:00.000Z"' <<<"$out"
check "stats --json has the unsettled credit" grep -q '"unsettledCreditChf":5' <<<"$out"
out=$("$sihlicon" --hub "$hub" heat stats pool)
check "stats prints readable lines" grep -q '^periods          1' <<<"$out"

out=$("$sihlicon" --hub "$hub" heat series pool --resolution day --from 2020-01-10T00:00:00Z \
  --to 2020-01-12T00:00:00Z --json)
check "series --json has day points" grep -q '"heatKwh":1.5' <<<"$out"

out=$("$sihlicon" --hub "$hub" heat rate pool --set 0.07 --from 2020-03-01T00:00:00Z --json)
check "rate --set lists the new segment" grep -q '"ratePerKwh":7' <<<"$out"
err=$("$sihlicon" --hub "$hub" heat rate pool --set 0.07 --from 2020-01-05T00:00:00Z 2>&1); rc=$?
check "a rate inside a settled period exits 1" test "$rc" -eq 1

"$sihlicon" --hub "$hub" heat stats >/dev/null 2>&1; rc=$?
check "a heat command without HUB_ID is a usage error" test "$rc" -eq 2
"$sihlicon" --hub "$hub" heat record pool --kind job --kwh 1 >/dev/null 2>&1; rc=$?
check "recording job heat by hand exits 1" test "$rc" -eq 1
err=$("$sihlicon" --hub "$hub" heat stats nowhere --json 2>&1 >/dev/null); rc=$?
check "an unknown hub is not_found" grep -q '"code":"not_found"' <<<"$err"
# Totals over the hubs of a site or region (district heating fed by several hubs).
"$sihlicon" --hub "$hub" hub register \
  '{"hubId":"pool-2","name":"Pool 2","site":"site-pool","region":"CH","heatRecoveryPpm":900000,"powerCapacityW":100000}' \
  >/dev/null
"$sihlicon" --hub "$hub" heat record pool-2 --kind battery-losses --kwh 0.25 \
  --at 2020-01-10T06:00:00Z >/dev/null
out=$("$sihlicon" --hub "$hub" heat stats --site site-pool --json)
check "stats --site sums the site's hubs" grep -q '"totalHeatKwh":3.05' <<<"$out"
check "stats --site names the hubs" grep -q '"hubIds":\["pool","pool-2"\]' <<<"$out"
out=$("$sihlicon" --hub "$hub" heat stats --region CH)
check "stats --region prints readable lines" grep -q '^hubs             2' <<<"$out"
out=$("$sihlicon" --hub "$hub" heat series --region CH --resolution day --from 2020-01-10T00:00:00Z \
  --to 2020-01-11T00:00:00Z --json)
check "series --region sums each bucket" grep -q '"heatKwh":1.75' <<<"$out"
err=$("$sihlicon" --hub "$hub" heat stats --site nowhere --json 2>&1 >/dev/null); rc=$?
check "a site without hubs is not_found" grep -q '"code":"not_found"' <<<"$err"
"$sihlicon" --hub "$hub" heat stats pool --site site-pool >/dev/null 2>&1; rc=$?
check "HUB_ID and --site together are a usage error" test "$rc" -eq 2

out=$("$sihlicon" --help)
check "--help lists the heat commands" grep -q 'heat settle' <<<"$out"

finish "heat.cli"
