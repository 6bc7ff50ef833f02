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
out=$("$sihlicon" --hub "$hub" --json put "$work/big.bin" --owner alice --tier glacier --mime-type text/plain)
check "a re-put with other metadata updates the manifest" grep -q '"storageTier":"glacier","accessLevel":"private".*' <<<"$out"
check "a re-put in another tier leaves no block in the old one" \
  test -z "$(find "$hub" -path '*/hot/*' -type f ! -path '*/.staging/*')"
out=$("$sihlicon" --hub "$hub" --json stat "$big" --as alice)
check "the updated manifest is stored" grep -q '"mimeType":"text/plain"' <<<"$out"
err=$("$sihlicon" --hub "$hub" --json put "$work/big.bin" --owner alice --source-hub hub-nowhere 2>&1 >/dev/null)
check "a sourceHubId naming no hub is refused naming the field" grep -q 'sourceHubId .hub-nowhere.*"code":"not_found"' <<<"$err"

"$sihlicon" --hub "$hub" get "$big" --as alice -o "$work/back.bin"
check "get returns the bytes" cmp -s "$work/big.bin" "$work/back.bin"
out=$("$sihlicon" --hub "$hub" get "$big" --as alice --offset 262140 --length 8 | od -An -tx1 | tr -d ' \n')
check "get reads a range" test "$out" = "$(tail -c +262141 "$work/big.bin" | head -c 8 | od -An -tx1 | tr -d ' \n')"
err=$("$sihlicon" --hub "$hub" --json get "$big" --as mallory 2>&1 >/dev/null); rc=$?
check "a stranger may not read private content" grep -q '"code":"not_found"' <<<"$err"
unknown=$("$sihlicon" cid "$work/hello.txt" --chunk-size 4)
err_unknown=$("$sihlicon" --hub "$hub" --json get "$unknown" --as mallory 2>&1 >/dev/null)
check "private content looks exactly like unknown content" \
  test "${err//$big/CID}" = "${err_unknown//$unknown/CID}"
out=$("$sihlicon" --hub "$hub" --json stat "$big" --as alice)
check "stat --json shows the size" grep -q '"fileSizeBytes":700000' <<<"$out"
out=$("$sihlicon" --hub "$hub" --json ls --as mallory)
check "ls shows a stranger only public content" test "$(grep -o contentId <<<"$out" | wc -l)" -eq 1

out=$("$sihlicon" --hub "$hub" ref set model@1.0 "$big" --as alice)
check "ref set prints the reference" grep -q "model@1.0 $big" <<<"$out"
check "ref get resolves the latest" test "$("$sihlicon" --hub "$hub" ref get model --as alice)" = "$big"
out=$("$sihlicon" --hub "$hub" --json ref ls model --as alice)
check "ref ls --json lists the versions" grep -q '"version":"1.0"' <<<"$out"
err=$("$sihlicon" --hub "$hub" ref get model --as mallory 2>&1 >/dev/null); rc=$?
check "ref get hides a reference to private content" grep -q '^sihlicon: not_found:' <<<"$err"
check "ref ls hides it too" test "$("$sihlicon" --hub "$hub" --json ref ls model --as mallory)" = "[]"

out=$("$sihlicon" --hub "$hub" --json tier "$big" glacier --as alice)
check "tier moves the content" grep -q '"storageTier":"glacier"' <<<"$out"
out=$("$sihlicon" --hub "$hub" --json scrub)
check "scrub finds nothing wrong" grep -q '"problems":\[\]' <<<"$out"

"$sihlicon" --hub "$hub" car export "$big" "$work/big.car" --as alice
# Refused reads touch nothing: an existing output file stays byte for byte, no temp file.
mkdir "$work/keep" && printf 'precious' >"$work/keep/out.bin"
"$sihlicon" --hub "$hub" get "$big" --as mallory -o "$work/keep/out.bin" 2>/dev/null; rc=$?
check "a refused get -o fails" test "$rc" -eq 1
"$sihlicon" --hub "$hub" get "$unknown" --as alice -o "$work/keep/out.bin" 2>/dev/null
"$sihlicon" --hub "$hub" car export "$big" "$work/keep/out.bin" --as mallory 2>/dev/null; rc=$?
check "a refused car export fails" test "$rc" -eq 1
check "refused reads leave the file as it was" test "$(cat "$work/keep/out.bin")" = precious
check "refused reads leave no temporary file" test "$(ls -A "$work/keep")" = out.bin
"$sihlicon" --hub "$hub" get "$big" --as alice -o "$work/keep/out.bin"
check "a successful get -o replaces the file" cmp -s "$work/big.bin" "$work/keep/out.bin"

other="$work/other"
"$sihlicon" --hub "$other" init >/dev/null
check "car import prints the root" test "$("$sihlicon" --hub "$other" car import "$work/big.car")" = "$big"
"$sihlicon" --hub "$other" get "$big" -o "$work/again.bin"
check "imported content reads back" cmp -s "$work/big.bin" "$work/again.bin"

"$sihlicon" --hub "$hub" rm "$big" --as alice >/dev/null 2>&1; rc=$?
check "rm of content another name points at succeeds" test "$rc" -eq 0
err=$("$sihlicon" --hub "$hub" ref get model@1.0 --as alice 2>&1 >/dev/null)
check "the dangling reference is not found" grep -q '^sihlicon: not_found:' <<<"$err"
"$sihlicon" --hub "$hub" ref rm model@1.0 --as mallory 2>/dev/null; rc=$?
check "ref rm by a stranger fails" test "$rc" -eq 1
out=$("$sihlicon" --hub "$hub" --json ref rm model@1.0 --as alice)
check "ref rm by the name's owner removes it" grep -q '"removed":true' <<<"$out"
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
check "community add (as the operator) lists the member's communities" grep -q '"communities":\["choir"\]' <<<"$out"
err=$("$sihlicon" --hub "$hub" --json community add choir mallory --as mallory 2>&1 >/dev/null)
check "a stranger may not join a community" grep -q '"code":"permission_denied"' <<<"$err"
"$sihlicon" --hub "$hub" community add choir bob --as ann >/dev/null
out=$("$sihlicon" --hub "$hub" --json community ls ann --as bob)
check "a member adds others and sees shared communities" grep -q '"communities":\["choir"\]' <<<"$out"
out=$("$sihlicon" --hub "$hub" --json community ls ann --as mallory)
check "a stranger sees none of them" grep -q '"communities":\[\]' <<<"$out"
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
