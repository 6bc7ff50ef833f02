#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The shared library's ABI surface: its SONAME carries the ABI major version, and it exports
# only sihlicon's own symbols. Usage: exports_test.sh LIBRARY ABI_MAJOR
set -uo pipefail
library="$1"
abi="$2"
passed=0
failed=0

soname=$(readelf -d "$library" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
if [ "$soname" = "libsihlicon.so.$abi" ]; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAILED: SONAME is '$soname', expected libsihlicon.so.$abi"; fi

exported=$(nm -D --defined-only -C "$library")
foreign=$(cut -d' ' -f3- <<<"$exported" |
  grep -v -E '^(sihlicon::|typeinfo for sihlicon::|typeinfo name for sihlicon::|vtable for sihlicon::|sih_)' |
  grep -v -E '^(SIHLICON_|_init$|_fini$)')
if [ -z "$foreign" ]; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAILED: symbols exported that are not sihlicon's:"; echo "$foreign" | head -20; fi

if grep -q 'sihlicon::Hub::open' <<<"$exported"; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAILED: sihlicon::Hub::open is not exported"; fi

# Exceptions are caught and interfaces subclassed across the library boundary: their type
# information must be exported (a version-script regression once hid it).
for symbol in 'typeinfo for sihlicon::Error' 'typeinfo for sihlicon::Clock' 'vtable for sihlicon::ManualClock'; do
  if grep -q "$symbol" <<<"$exported"; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAILED: $symbol is not exported"; fi
done

if grep -q 'store::Database' <<<"$exported"; then
  failed=$((failed + 1)); echo "FAILED: internal store::Database is exported"; else passed=$((passed + 1)); fi

echo "abi: $passed passed, $failed failed"
test "$failed" -eq 0
