// SPDX-License-Identifier: Apache-2.0
// examples/node/quickstart.mjs runs start to finish and checks its receipt.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { tempDir } = require('./helpers.js');

test('the quickstart submits, runs, credits heat, seals and verifies a receipt', () => {
  const directory = tempDir();
  try {
    const script = path.join(__dirname, '..', '..', '..', 'examples', 'node', 'quickstart.mjs');
    const output = execFileSync(process.execPath, [script, path.join(directory, 'hub')], { encoding: 'utf8' });
    assert.match(output, /submitted job-\S+: queued/);
    assert.match(output, /completed: 0\.8 kWh in, 0\.72 kWh of heat out/);
    assert.match(output, /epoch epoch-000001 sealed by 0x[0-9a-fA-F]{40}; receipt of job-\S+: valid/);
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
});
