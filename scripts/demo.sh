#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds sihlicon (release), installs it under build/release/prefix, builds the embedding
# example examples/cpp/ against it and runs a whole hub day on an embedded hub in ./demo-hub (an
# SQLite file and a blob folder; nothing else to start): a worker agent runs real commands on
# stored inputs, energy and heat are recorded, heat is settled, an epoch sealed and a receipt
# verified. Then shows the hub as an operator sees it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target sihlicon sihlicon_cli
prefix="$PWD/build/release/prefix"
cmake --install build/release --prefix "$prefix" >/dev/null
cmake -S examples/cpp -B build/demo -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build build/demo

echo
rm -rf demo-hub
build/demo/quickstart demo-hub
echo
for command in "info" "job list --owner demo-client --limit 4" "heat stats zurich-pool" \
  "epoch show --epoch epoch-000001"; do
  echo "\$ sihlicon --hub demo-hub $command"
  # shellcheck disable=SC2086
  "$prefix/bin/sihlicon" --hub demo-hub $command
  echo
done
