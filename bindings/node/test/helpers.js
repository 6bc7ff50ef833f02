// SPDX-License-Identifier: Apache-2.0
// Shared by the tests: a hub in a fresh temporary directory, with a site and a worker.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const sihlicon = require('..');

const START = Date.parse('2026-01-05T08:00:00Z');

function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'sihlicon-node-'));
}

// Opens a hub on a ManualClock (at START unless `start`), registers hub "zurich-1" (90 % heat
// recovery) and worker "worker-1" on it. `t.after` removes it all.
async function openHub(t, options = {}) {
  const directory = tempDir();
  const clock = new sihlicon.ManualClock(options.start ?? START);
  const hub = await sihlicon.Hub.open(directory, {
    clock,
    durability: 'process_crash',
    ...options.hub,
  });
  hub.scheduler.registerHub({
    hubId: 'zurich-1', name: 'Zurich 1', site: 'sihlquai', region: 'CH',
    heatRecoveryPpm: 900000, powerCapacityW: 20000,
  });
  hub.scheduler.registerWorker({ workerId: 'worker-1', hubId: 'zurich-1', executors: ['native', 'container'], cpu: '8', memory: '16Gi' });
  t.after(async () => {
    await hub.close();
    fs.rmSync(directory, { recursive: true, force: true });
  });
  return { hub, clock, directory };
}

function job(overrides = {}) {
  return {
    jobType: 'ocr',
    jobName: 'Process historical ledger',
    workloadConfig: { containerImage: 'tesseract/tesseract:latest', resources: { cpu: '1', memory: '1Gi' } },
    ...overrides,
  };
}

// Asserts that `work` throws (or rejects with) a SihliconError with `code` (and `field`).
async function rejects(assert, work, code, field) {
  await assert.rejects(async () => work(), (error) => {
    assert.ok(error instanceof sihlicon.SihliconError, `${error} is a SihliconError`);
    assert.equal(error.code, code, error.message);
    if (field !== undefined) assert.equal(error.field, field, error.message);
    return true;
  });
}

module.exports = { START, tempDir, openHub, job, rejects };
