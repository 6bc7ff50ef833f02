#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// Builds build/Release/sihlicon.node with CMake from the repository's own sources (run by
// `npm install`, and by `npm run build` after a change). Offline: the Node-API headers are
// the ones installed with this node (<prefix>/include/node, or SIHLICON_NODE_INCLUDE_DIR),
// node-addon-api's come from node_modules. The CMake build tree is kept in build/cmake, so a
// rebuild recompiles only what changed; ccache is used when it is on the PATH.
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const packageDir = path.resolve(__dirname, '..');
const repository = path.resolve(packageDir, '..', '..');
const buildDir = path.join(packageDir, 'build', 'cmake');
const output = path.join(packageDir, 'build', 'Release', 'sihlicon.node');

function fail(message) {
  console.error(`sihlicon: ${message}`);
  process.exit(1);
}

function onPath(program) {
  try {
    execFileSync(program, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const nodeInclude =
  process.env.SIHLICON_NODE_INCLUDE_DIR ||
  path.resolve(path.dirname(process.execPath), '..', 'include', 'node');
if (!fs.existsSync(path.join(nodeInclude, 'node_api.h'))) {
  fail(`no node_api.h in ${nodeInclude}: install this node's headers ` +
       '(Debian: they come with nodejs / libnode-dev) or set SIHLICON_NODE_INCLUDE_DIR');
}
const addonApi = require('node-addon-api').include_dir;
if (!fs.existsSync(path.join(repository, 'CMakeLists.txt'))) {
  fail(`the library's sources are not at ${repository}`);
}
if (!onPath('cmake')) {
  fail('cmake is not on the PATH (scripts/setup.sh at the repository root installs it)');
}

const configure = [
  '-S', repository, '-B', buildDir,
  `-DCMAKE_BUILD_TYPE=${process.env.SIHLICON_BUILD_TYPE || 'Release'}`,
  '-DSIHLICON_BUILD_NODE=ON',
  '-DSIHLICON_BUILD_TESTS=OFF',
  '-DSIHLICON_BUILD_BENCHMARKS=OFF',
  '-DSIHLICON_BUILD_CLI=OFF',
  `-DSIHLICON_NODE_INCLUDE_DIR=${nodeInclude}`,
  `-DSIHLICON_NODE_ADDON_API_DIR=${addonApi}`,
];
if (onPath('ninja')) configure.push('-G', 'Ninja');
if (onPath('ccache')) {
  configure.push('-DCMAKE_CXX_COMPILER_LAUNCHER=ccache', '-DCMAKE_C_COMPILER_LAUNCHER=ccache');
}
if (process.env.SIHLICON_SANITIZE) configure.push(`-DSIHLICON_SANITIZE=${process.env.SIHLICON_SANITIZE}`);
if (fs.existsSync(path.join(buildDir, 'CMakeCache.txt'))) {
  // Keep the generator of the existing tree; refresh the cache variables only.
  const i = configure.indexOf('-G');
  if (i >= 0) configure.splice(i, 2);
}
const jobs = process.env.SIHLICON_BUILD_JOBS || String(os.availableParallelism?.() ?? os.cpus().length);
const run = (args) => execFileSync('cmake', args, { stdio: 'inherit' });
try {
  run(configure);
  run(['--build', buildDir, '--target', 'sihlicon_node', '--parallel', jobs]);
} catch (error) {
  fail(`the build failed (${error.message})`);
}
fs.mkdirSync(path.dirname(output), { recursive: true });
fs.copyFileSync(path.join(buildDir, 'bindings', 'node', 'sihlicon.node'), output);
console.log(`sihlicon: built ${path.relative(process.cwd(), output) || output}`);
