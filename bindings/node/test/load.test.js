// SPDX-License-Identifier: Apache-2.0
// The package loads from CommonJS and from ESM, and both give the same objects.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');

const sihlicon = require('..');

test('the CommonJS entry exports the addon and the client', () => {
  for (const name of ['Hub', 'ManualClock', 'Scheduler', 'ContentStore', 'HeatLedger',
    'Settlement', 'verifyReceipt', 'computeCid', 'proofOfExecution', 'SihliconClient']) {
    assert.equal(typeof sihlicon[name], 'function', name);
  }
  assert.match(sihlicon.version, /^\d+\.\d+\.\d+/);
});

test('the ESM entry exports the same objects', async () => {
  const esm = await import('../index.mjs');
  assert.equal(esm.Hub, sihlicon.Hub);
  assert.equal(esm.default, sihlicon);
  assert.equal(esm.SihliconError, sihlicon.SihliconError);
});
