#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The content store's commands as an operator uses them. Usage: cli_test.sh PATH_TO_SIHLICON
# shellcheck source=../support/cli_checks.sh
source "$(dirname "$0")/../support/cli_checks.sh"

printf 'hello world' >"$work/hello.txt"
head -c 700000 /dev/urandom >"$work/big.bin"

out=$("$sihlicon" cid "$work/hello.txt")
check "cid prints the IPFS CID without a hub" \
  test "$out" = bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e
out=$("$sihlicon" --json cid "$work/hello.txt")
check "cid --json names the file" grep -q '"cid":"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"' <<<"$out"
"$sihlicon" cid --chunk-size 0 "$work/hello.txt" >/dev/null 2>&1; rc=$?
check "a zero chunk size is an error" test "$rc" -eq 1

hub="$work/h"
"$sihlicon" --hub "$hub" init >/dev/null
big=$("$sihlicon" --hub "$hub" put "$work/big.bin" --owner alice --mime-type application/octet-stream)
check "put prints the same CID as cid" test "$big" = "$("$sihlicon" cid "$work/big.bin")"
out=$("$sihlicon" --hub "$hub" --json put "$work/hello.txt" --owner alice --access public --tier cold)
check "put --json prints the manifest" grep -q '"storageTier":"cold"' <<<"$out"

"$sihlicon" --hub "$hub" get "$big" --as alice -o "$work/back.bin"
check "get returns the bytes" cmp -s "$work/big.bin" "$work/back.bin"
out=$("$sihlicon" --hub "$hub" get "$big" --as alice --offset 262140 --length 8 | od -An -tx1 | tr -d ' \n')
check "get reads a range" test "$out" = "$(tail -c +262141 "$work/big.bin" | head -c 8 | od -An -tx1 | tr -d ' \n')"
err=$("$sihlicon" --hub "$hub" --json get "$big" --as mallory 2>&1 >/dev/null); rc=$?
check "a stranger may not read private content" grep -q '"code":"permission_denied"' <<<"$err"
out=$("$sihlicon" --hub "$hub" --json stat "$big" --as alice)
check "stat --json shows the size" grep -q '"fileSizeBytes":700000' <<<"$out"
out=$("$sihlicon" --hub "$hub" --json ls --as mallory)
check "ls shows a stranger only public content" test "$(grep -o contentId <<<"$out" | wc -l)" -eq 1

out=$("$sihlicon" --hub "$hub" ref set model@1.0 "$big" --as alice)
check "ref set prints the reference" grep -q "model@1.0 $big" <<<"$out"
check "ref get resolves the latest" test "$("$sihlicon" --hub "$hub" ref get model)" = "$big"
out=$("$sihlicon" --hub "$hub" --json ref ls model)
check "ref ls --json lists the versions" grep -q '"version":"1.0"' <<<"$out"

out=$("$sihlicon" --hub "$hub" --json tier "$big" glacier --as alice)
check "tier moves the content" grep -q '"storageTier":"glacier"' <<<"$out"
out=$("$sihlicon" --hub "$hub" --json scrub)
check "scrub finds nothing wrong" grep -q '"problems":\[\]' <<<"$out"

"$sihlicon" --hub "$hub" car export "$big" "$work/big.car" --as alice
other="$work/other"
"$sihlicon" --hub "$other" init >/dev/null
check "car import prints the root" test "$("$sihlicon" --hub "$other" car import "$work/big.car")" = "$big"
"$sihlicon" --hub "$other" get "$big" -o "$work/again.bin"
check "imported content reads back" cmp -s "$work/big.bin" "$work/again.bin"

"$sihlicon" --hub "$hub" rm "$big" --as alice >/dev/null 2>&1; rc=$?
check "rm of referenced content is a conflict" test "$rc" -eq 1
hello=bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e
out=$("$sihlicon" --hub "$hub" --json rm "$hello" --as alice)
check "rm --json reports the deletion" grep -q '"success":true' <<<"$out"
err=$("$sihlicon" --hub "$hub" stat "$hello" --as alice 2>&1 >/dev/null)
check "removed content is not found" grep -q '^sihlicon: not_found:' <<<"$err"
"$sihlicon" --hub "$hub" stat not-a-cid >/dev/null 2>&1; rc=$?
check "a malformed CID is an error" test "$rc" -eq 1
"$sihlicon" --hub "$hub" get >/dev/null 2>&1; rc=$?
check "get without a CID is a usage error" test "$rc" -eq 2

out=$("$sihlicon" --hub "$hub" --json community add choir ann)
check "community add lists the member's communities" grep -q '"communities":\["choir"\]' <<<"$out"
out=$("$sihlicon" --hub "$hub" --json community rm choir ann)
check "community rm removes the membership" grep -q '"communities":\[\]' <<<"$out"
out=$("$sihlicon" --hub "$hub" --json quota ann)
check "quota shows the seed's 100 MB per hour by default" grep -q '"uploadBytesPerHour":100000000' <<<"$out"
out=$("$sihlicon" --hub "$hub" --json quota ann --per-hour 10 --total 1000)
check "quota sets the limits" grep -q '"uploadBytesPerHour":10,"totalBytes":1000' <<<"$out"
printf 'more than ten bytes' >"$work/eleven.txt"
"$sihlicon" --hub "$hub" put "$work/eleven.txt" --owner ann >/dev/null 2>"$work/err"; rc=$?
check "a put over quota is refused" test "$rc" -eq 1
check "the refusal is quota_exceeded" grep -q 'quota_exceeded' "$work/err"

finish "cas cli"
