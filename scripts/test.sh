#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds and runs every test: formatting check, the `dev` preset (debug, warnings as errors),
# the installed package consumed by examples/cpp/, the `asan` preset (AddressSanitizer +
# UndefinedBehaviorSanitizer), the `tsan` preset (ThreadSanitizer) and a bounded run of every
# libFuzzer target (scripts/fuzz.sh). Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
# The peers our wire formats are checked against (npm ethers, multiformats, ...), pinned by
# tests/interop/package-lock.json.
npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error

echo "== format"
mapfile -t sources < <(git ls-files --cached --others --exclude-standard \
  '*.cpp' '*.hpp' '*.c' '*.h' | grep -v '^build/')
clang-format --dry-run --Werror "${sources[@]}"

echo "== dev: build and test"
cmake --preset dev
cmake --build --preset dev
ctest --preset dev

echo "== install, then build examples/cpp against the installed package"
prefix="$PWD/build/dev/prefix"
rm -rf "$prefix" build/examples-cpp
cmake --install build/dev --prefix "$prefix"
cmake -S examples/cpp -B build/examples-cpp -G Ninja -DCMAKE_PREFIX_PATH="$prefix"
cmake --build build/examples-cpp
rm -rf build/examples-cpp/hub
build/examples-cpp/quickstart build/examples-cpp/hub
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --modversion sihlicon

echo "== build examples/c (the C ABI, compiled as C11) against the installed package"
rm -rf build/examples-c
cmake -S examples/c -B build/examples-c -G Ninja -DCMAKE_PREFIX_PATH="$prefix"
cmake --build build/examples-c
build/examples-c/quickstart build/examples-c/hub
# The same program as a plain C build with pkg-config (sihlicon-c: no C++ flags).
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cc -std=c11 -Wall -Wextra -Werror examples/c/quickstart.c $(pkg-config --cflags --libs sihlicon-c) \
  -Wl,-rpath,"$prefix/lib" -o build/examples-c/quickstart-pkg-config
rm -rf build/examples-c/hub
build/examples-c/quickstart-pkg-config build/examples-c/hub
unset PKG_CONFIG_PATH

echo "== python: pip install the package into build/python-venv, then pytest and mypy --strict"
# The build backend and the test tools come from PyPI by name. --no-build-isolation keeps the
# venv's pybind11 at a fixed path, so pip's CMake build (build/python/, Release, only the
# library's objects and the module) is incremental from one run to the next.
python3 -m venv build/python-venv
venv="$PWD/build/python-venv/bin"
"$venv/python" -m pip install --quiet --disable-pip-version-check \
  scikit-build-core pybind11 pytest mypy eth-account multiformats
"$venv/python" -m pip install --quiet --disable-pip-version-check --no-build-isolation .
"$venv/pytest" -q -p no:cacheprovider bindings/python/tests
"$venv/mypy" --strict --cache-dir build/python-venv/mypy-cache examples/python bindings/python/sihlicon

echo "== node: npm ci builds the addon (CMake, this node's headers), then npm test"
npm ci --prefix bindings/node --no-audit --no-fund --loglevel=error
npm test --prefix bindings/node

echo "== asan: build and test"
cmake --preset asan
cmake --build --preset asan
ctest --preset asan

echo "== tsan: build and test (ThreadSanitizer; the kill -9 harness runs in dev and asan)"
cmake --preset tsan
cmake --build --preset tsan
ctest --preset tsan

echo "== fuzz: every libFuzzer target from its seed corpus, 15 s each"
scripts/fuzz.sh
