// SPDX-License-Identifier: Apache-2.0
// Hub: open (a Promise), info, the clock, close waiting for calls in flight, and the options.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const sihlicon = require('..');
const { START, tempDir, openHub, rejects } = require('./helpers.js');

test('Hub.open creates a hub and resolves to a Hub with its four services', async (t) => {
  const { hub, directory } = await openHub(t);
  assert.ok(hub instanceof sihlicon.Hub);
  assert.equal(hub.directory, directory);
  assert.ok(hub.scheduler instanceof sihlicon.Scheduler);
  assert.ok(hub.contentStore instanceof sihlicon.ContentStore);
  assert.ok(hub.heatLedger instanceof sihlicon.HeatLedger);
  assert.ok(hub.settlement instanceof sihlicon.Settlement);
  const info = hub.info();
  assert.equal(info.schemaVersion, sihlicon.Hub.latestSchemaVersion);
  assert.equal(info.counts.hubs, 1);
  assert.equal(info.counts.workers, 1);
  assert.match(info.instanceId, /^hub-/);
  assert.ok(fs.existsSync(path.join(directory, 'hub.db')));
  assert.equal(hub.isClosed(), false);
});

test('the hub reads time from the ManualClock it was given', async (t) => {
  const { hub, clock } = await openHub(t);
  assert.equal(hub.nowMs(), START);
  clock.advanceMs(1500);
  assert.equal(clock.nowMs(), START + 1500);
  assert.equal(hub.nowMs(), START + 1500);
  clock.setMs('2026-02-01T00:00:00Z');
  assert.equal(hub.nowMs(), Date.parse('2026-02-01T00:00:00Z'));
  clock.setMs(new Date(START));
  assert.equal(hub.nowMs(), START);
});

test('a closed hub refuses every call with conflict, and closing twice is harmless', async () => {
  const directory = tempDir();
  const hub = await sihlicon.Hub.open(directory);
  await hub.close();
  assert.equal(hub.isClosed(), true);
  await hub.close();
  await rejects(assert, () => hub.info(), 'conflict');
  await rejects(assert, () => hub.scheduler.hubs(), 'conflict');
  await rejects(assert, () => hub.contentStore.put(Buffer.from('x'), 'ann'), 'conflict');
  await rejects(assert, () => hub.settlement.sealEpoch(), 'conflict');
  fs.rmSync(directory, { recursive: true, force: true });
});

test('a hub with a write log (commitIntervalMs) reads its writes and commits them at close',
  async () => {
    const directory = tempDir();
    const log = path.join(directory, 'hub.db-log');
    const hub = await sihlicon.Hub.open(directory,
      { durability: 'process_crash', commitIntervalMs: 3_600_000 });
    await hub.contentStore.put(Buffer.from('kept'), 'ann');
    // Acknowledged from the write log, which starts with a record ("SIHW") until committed.
    const waiting = () => fs.readFileSync(log).subarray(0, 4).toString('latin1') === 'SIHW';
    assert.ok(waiting());
    assert.equal(hub.contentStore.list('ann').length, 1);
    await hub.close();
    assert.ok(!waiting());
    const again = await sihlicon.Hub.open(directory);
    assert.equal(again.contentStore.list('ann').length, 1);
    await again.close();
    fs.rmSync(directory, { recursive: true, force: true });
  });

test('close waits for the puts in flight, which all complete', async () => {
  const directory = tempDir();
  const hub = await sihlicon.Hub.open(directory, { durability: 'process_crash' });
  const puts = [];
  for (let i = 0; i < 20; i++) puts.push(hub.contentStore.put(Buffer.alloc(100_000, i), 'ann'));
  const closing = hub.close();
  const manifests = await Promise.all(puts);
  await closing;
  assert.equal(manifests.length, 20);
  const again = await sihlicon.Hub.open(directory);
  assert.equal(again.contentStore.list('ann').length, 20);
  await again.close();
  fs.rmSync(directory, { recursive: true, force: true });
});

test('Hub.open rejects bad options and a missing hub with named errors', async () => {
  const directory = tempDir();
  await rejects(assert, () => sihlicon.Hub.open(directory, { durability: 'never' }),
    'invalid_argument', 'durability');
  await rejects(assert, () => sihlicon.Hub.open(directory, { integrityCheck: 'deep' }),
    'invalid_argument', 'integrityCheck');
  await rejects(assert, () => sihlicon.Hub.open(directory, { readerConnections: 0 }),
    'invalid_argument', 'readerConnections');
  await rejects(assert, () => sihlicon.Hub.open(directory, { scheduler: { leaseMs: 5 } }),
    'invalid_argument', 'scheduler.leaseMs');
  await rejects(assert, () => sihlicon.Hub.open(directory, { settlement: { currency: 'XYZ' } }),
    'invalid_argument', 'settlement.currency');
  await rejects(assert, () => sihlicon.Hub.open(directory, { busyTimeoutMs: 1.5 }),
    'invalid_argument', 'busyTimeoutMs');
  await rejects(assert, () => sihlicon.Hub.open(directory, { commitIntervalMs: -1 }),
    'invalid_argument', 'commitIntervalMs');
  await rejects(assert, () => sihlicon.Hub.open(path.join(directory, 'none'),
    { createIfMissing: false }), 'not_found');
  await assert.rejects(() => sihlicon.Hub.open(directory, { clock: {} }), TypeError);
  fs.writeFileSync(path.join(directory, 'hub.db'), 'not a database, just text '.repeat(200));
  await rejects(assert, () => sihlicon.Hub.open(directory), 'integrity');
  fs.rmSync(directory, { recursive: true, force: true });
});

test('options given at open reach the scheduler and settlement', async (t) => {
  const { hub } = await openHub(t, {
    hub: {
      scheduler: { leaseDurationMs: 5000, submissionsPerHour: 0 },
      settlement: { chargeJobs: true, currency: 'CHF', defaultPrice: '0.20', prices: { ocr: '0.15' } },
    },
  });
  assert.equal(hub.scheduler.options().leaseDurationMs, 5000);
  assert.equal(hub.scheduler.options().submissionsPerHour, 0);
  assert.deepEqual(hub.settlement.priceOf('ocr'), { amount: '0.15', currency: 'CHF' });
  assert.deepEqual(hub.settlement.priceOf('custom'), { amount: '0.20', currency: 'CHF' });
});

test('hub settings are stored, changed by the operator only, validated and audited', async (t) => {
  const { hub, directory, clock } = await openHub(t, { hub: { settlement: { chargeJobs: true } } });
  assert.equal(hub.settings().chargeJobs, true);
  assert.equal(hub.settings().preferenceWindowMs, 60000);
  assert.equal(hub.setSetting('defaultPrice', '0.25').defaultPrice, '0.250000');
  assert.deepEqual(hub.settlement.priceOf('ocr'), { amount: '0.250000', currency: 'USD' });
  assert.equal(hub.updateSettings({ epochDurationMs: 3600000 }).epochDurationMs, 3600000);
  await rejects(assert, () => hub.setSetting('chargeJobs', 'false', 'alice'), 'permission_denied', 'by');
  await rejects(assert, () => hub.setSetting('workPoolPpm', '2000000'), 'invalid_argument', 'workPoolPpm');
  await rejects(assert, () => hub.updateSettings({ nope: 1 }), 'invalid_argument', 'nope');
  assert.equal(hub.settings().chargeJobs, true);
  const history = hub.settingsHistory().filter((change) => change.by === 'operator');
  assert.deepEqual(history.map((change) => [change.key, change.old, change.new]),
    [['defaultPrice', '0.100000', '0.250000'], ['epochDurationMs', 86400000, 3600000]]);
  // A second Hub on the directory (as another process would) reads the same settings, and
  // initial settings given to it are ignored: the hub exists.
  const other = await sihlicon.Hub.open(directory, { clock, settlement: { defaultPrice: '9.00' } });
  try {
    assert.equal(other.settings().defaultPrice, '0.250000');
    other.setSetting('prices.ocr', '0.05');
    assert.deepEqual(hub.settlement.priceOf('ocr'), { amount: '0.050000', currency: 'USD' });
  } finally {
    await other.close();
  }
});
