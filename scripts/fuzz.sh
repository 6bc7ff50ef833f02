#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the libFuzzer targets (the `fuzz` preset: Clang, AddressSanitizer + UBSan) and runs
# each for FUZZ_SECONDS (default 15) from its committed seed corpus in tests/fuzz/corpus/.
# New inputs go to build/fuzz/corpus/, never into the repository. A crash stops the script
# with the reproducer's path; make it a regression test and a corpus entry.
#   FUZZ_SECONDS=600 scripts/fuzz.sh          # longer, on demand
#   scripts/fuzz.sh fuzz_car                  # one target
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-15}"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(fuzz_cid fuzz_dag_pb fuzz_job_spec fuzz_receipt fuzz_car fuzz_car_import fuzz_capi_json)
fi
for target in "${targets[@]}"; do
  work="build/fuzz/corpus/$target"
  mkdir -p "$work" "build/fuzz/findings"
  log="build/fuzz/$target.log"
  if ! build/fuzz/tests/fuzz/"$target" "$work" "tests/fuzz/corpus/$target" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="build/fuzz/findings/$target-" >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz: $target found a failure; reproducer in build/fuzz/findings/" >&2
    exit 1
  fi
  runs=$(grep -o 'Done [0-9]* runs' "$log" | grep -o '[0-9]*' || echo "?")
  echo "fuzz: $target: $runs executions in $seconds s, no failure"
done
