#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Installs from Debian's packages everything that building, testing and running sihlicon needs,
# and only what is missing. Safe to run any number of times; both README commands call it.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev
  libsqlite3-dev sqlite3 libfmt-dev libxxhash-dev doctest-dev libssl-dev libsecp256k1-dev
  clang-format
  clang libclang-rt-14-dev  # libFuzzer (scripts/fuzz.sh)
  python3 python3-venv python3-dev  # the Python package: pip builds it in a venv (test.sh)
  redis-server  # benchmarks/node: the BullMQ reference runs on a local Redis
  bubblewrap  # the sandbox of the worker agent's native jobs
  openssl curl  # the server's tests: a TLS certificate made by the test, requests to `serve`
)
# Node.js and npm run the interoperability tests against peer implementations (SPECS.md).
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v go >/dev/null 2>&1 || packages+=(golang-go)  # transparency-dev/merkle, RFC 9162 peer
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]}"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
fi
