// SPDX-License-Identifier: Apache-2.0
// Scheduler: every method, synchronous, over a hub on a ManualClock.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');

const { START, openHub, job, rejects } = require('./helpers.js');

test('hubs: register, update, read, list, grid state and heat demand', async (t) => {
  const { hub } = await openHub(t);
  const s = hub.scheduler;
  const basel = s.registerHub(JSON.stringify({ hubId: 'basel-1', name: 'Basel', site: 'rhine', region: 'CH' }));
  assert.equal(basel.hubId, 'basel-1');
  assert.equal(basel.gridSignal, 'normal');
  assert.equal(s.updateHub({ hubId: 'basel-1', name: 'Basel 1', site: 'rhine', region: 'CH',
    powerCapacityW: 5000 }).powerCapacityW, 5000);
  assert.equal(s.hub('basel-1').name, 'Basel 1');
  assert.deepEqual(s.hubs().map((h) => h.hubId).sort(), ['basel-1', 'zurich-1']);
  const curtailed = s.setGridState('basel-1', { signal: 'curtail', powerBudgetW: 100,
    validUntil: START + 60_000 });
  assert.equal(curtailed.gridSignal, 'curtail');
  assert.equal(curtailed.powerBudgetW, 100);
  assert.equal(curtailed.gridValidUntil, new Date(START + 60_000).toISOString());
  const warm = s.setHeatDemand('basel-1', 3000, new Date(START + 3_600_000));
  assert.equal(warm.heatDemandW, 3000);
  assert.equal(s.setHeatDemand('basel-1', 0).heatDemandW, 0);
  await rejects(assert, () => s.registerHub({ hubId: 'basel-1', name: 'B', site: 'x', region: 'CH' }), 'conflict');
  await rejects(assert, () => s.hub('nowhere'), 'not_found');
  await rejects(assert, () => s.setGridState('basel-1', { signal: 'stormy' }), 'invalid_argument', 'signal');
});

test('workers: register, heartbeat, status, read and list', async (t) => {
  const { hub, clock } = await openHub(t);
  const s = hub.scheduler;
  const gpu = s.registerWorker({ hubId: 'zurich-1', executors: ['native', 'container'], cpu: '16', memory: '64Gi',
    gpus: [{ model: 'A100', vram: '80Gi' }], labels: { arch: 'x86_64' } });
  assert.match(gpu.workerId, /^worker-/);
  assert.equal(gpu.cpuMillicores, 16000);
  assert.deepEqual(gpu.labels, { arch: 'x86_64' });
  clock.advanceMs(1000);
  const beat = s.heartbeat(gpu.workerId, { utilisationPpm: 250000, powerDrawW: 300 });
  assert.equal(beat.utilisationPpm, 250000);
  assert.equal(beat.powerDrawW, 300);
  assert.equal(beat.lastHeartbeatAt, new Date(START + 1000).toISOString());
  assert.equal(s.setWorkerStatus(gpu.workerId, 'draining').status, 'draining');
  assert.equal(s.worker(gpu.workerId).status, 'draining');
  assert.equal(s.workers().length, 2);
  assert.equal(s.workers('zurich-1').length, 2);
  assert.equal(s.workers('elsewhere').length, 0);
  await rejects(assert, () => s.registerWorker({ hubId: 'zurich-1', executors: ['native', 'container'], cpu: '0', memory: '1Gi' }),
    'invalid_argument', 'cpu');
  await rejects(assert, () => s.registerWorker({ hubId: 'nowhere', cpu: '1', memory: '1Gi' }), 'not_found');
  await rejects(assert, () => s.heartbeat('worker-none', {}), 'not_found');
  // Executors pass through and show in the record; none given means native only.
  assert.deepEqual(gpu.executors, ['native', 'container']);
  assert.deepEqual(s.registerWorker({ workerId: 'plain', hubId: 'zurich-1', cpu: '1' }).executors, ['native']);
  await rejects(assert, () => s.registerWorker({ hubId: 'zurich-1', cpu: '1', executors: ['native', 'vm'] }),
    'invalid_argument', 'executors[1]');
});

test('heartbeats carry GPU stats, checked against the registered GPUs', async (t) => {
  const { hub } = await openHub(t);
  const s = hub.scheduler;
  const gpu = s.registerWorker({ hubId: 'zurich-1', cpu: '8', gpus: [{ model: 'L4', vram: '1Gi' }] });
  const beat = s.heartbeat(gpu.workerId, { gpus: [{ utilisationPpm: 750000, vramUsed: 1024 }] });
  assert.deepEqual(beat.gpuStats, [{ utilisationPpm: 750000, vramUsed: 1024 }]);
  assert.deepEqual(s.worker(gpu.workerId).gpuStats, [{ utilisationPpm: 750000, vramUsed: 1024 }]);
  await rejects(assert, () => s.heartbeat(gpu.workerId, { gpus: [{ vramUsed: 2 ** 30 + 1 }] }),
    'invalid_argument', 'gpus[0].vramUsed');
  await rejects(assert, () => s.heartbeat(gpu.workerId, { gpus: [{}, {}] }), 'invalid_argument', 'gpus');
  await rejects(assert, () => s.heartbeat(gpu.workerId, { gpu: [] }), 'invalid_argument', 'gpu');
  assert.deepEqual(s.worker(gpu.workerId).gpuStats, [{ utilisationPpm: 750000, vramUsed: 1024 }]);
  assert.deepEqual(s.heartbeat(gpu.workerId).gpuStats, []);
});

test('the job lifecycle: submit, claim, renew, complete, events and stats', async (t) => {
  const { hub, clock } = await openHub(t);
  const s = hub.scheduler;
  const submitted = s.submit(job({ hubId: 'zurich-1', estimatedComputeKwh: 0.5 }), 'ann');
  assert.equal(submitted.status, 'queued');
  assert.equal(submitted.owner, 'ann');
  assert.equal(submitted.estimatedComputeKwh, 0.5);
  assert.equal(s.queueStats('zurich-1').byStatus.queued, 1);
  const placements = s.explain(submitted.jobId);
  assert.deepEqual(placements.find((p) => p.workerId === 'worker-1'),
    { hubId: 'zurich-1', workerId: 'worker-1', eligible: true, reasons: [], expectedHeatKwh: 0.45 });
  const [claimed] = s.claim('worker-1');
  assert.equal(claimed.job.jobId, submitted.jobId);
  assert.equal(claimed.job.status, 'running');
  assert.equal(claimed.lease.workerId, 'worker-1');
  assert.equal(claimed.lease.attempt, 1);
  clock.advanceMs(10_000);
  const renewed = s.renew(submitted.jobId, claimed.lease.token);
  assert.ok(Date.parse(renewed.expiresAt) > Date.parse(claimed.lease.expiresAt));
  clock.advanceMs(50_000);
  const done = s.complete(submitted.jobId, claimed.lease.token, {
    outputDataRefs: ['bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'],
    energyKwh: '1.25', resultHash: 'ab'.repeat(32), metrics: { pages: 12 },
  });
  assert.equal(done.status, 'completed');
  assert.equal(done.actualComputeKwh, 1.25);
  assert.equal(done.heatGeneratedKwh, 1.125);
  assert.deepEqual(done.outputDataRefs, ['bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy']);
  assert.equal(s.job(submitted.jobId).status, 'completed');
  assert.deepEqual(s.events(submitted.jobId).map((e) => e.to), ['queued', 'running', 'completed']);
  assert.equal(s.queueStats('zurich-1').byStatus.completed, 1);
  // A repeat with the same token and payload returns the job; a stale token is refused.
  await rejects(assert, () => s.complete(submitted.jobId, 'f'.repeat(32), {}), 'conflict');
});

test('inputs as users write them: ipfs:// and CIDv0 are stored as CIDv1; estimates are bounded', async (t) => {
  const { hub } = await openHub(t);
  const s = hub.scheduler;
  const v0 = 'QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR';
  const v1 = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';
  const submitted = s.submit(job({ inputDataRefs: [`ipfs://${v0}`, v0] }), 'ann');
  assert.deepEqual(submitted.inputDataRefs, [v1, v1]);
  await rejects(assert, () => s.submit(job({ inputDataRefs: ['ipfs://nope'] }), 'ann'),
    'invalid_argument', 'inputDataRefs[0]');
  await rejects(assert, () => s.submit(job({ estimatedComputeKwh: 100001 }), 'ann'),
    'invalid_argument', 'estimatedComputeKwh');
});

test('jobs lists by the worker that ran a job and by dead letter', async (t) => {
  const { hub } = await openHub(t);
  const s = hub.scheduler;
  const dead = s.submit(job({ maxAttempts: 1 }), 'ann');
  const [claimed] = s.claim('worker-1');
  assert.equal(s.fail(dead.jobId, claimed.lease.token, 'boom').deadLetter, true);
  const waiting = s.submit(job(), 'ann');
  assert.deepEqual(s.jobs({ workerId: 'worker-1' }).map((j) => j.jobId), [dead.jobId]);
  assert.deepEqual(s.jobs({ deadLetter: true }).map((j) => j.jobId), [dead.jobId]);
  assert.deepEqual(s.jobs({ deadLetter: false }).map((j) => j.jobId), [waiting.jobId]);
  await rejects(assert, () => s.jobs({ deadLetter: 'yes' }), 'invalid_argument', 'deadLetter');
});

test('hubId prefers a hub for a window, constraints.pinHub pins; a hub lists what ran on it', async (t) => {
  const { hub, clock } = await openHub(t);
  const s = hub.scheduler;
  s.registerHub({ hubId: 'lake', name: 'Lake', site: 'lake', region: 'CH' });  // no worker
  const preferred = s.submit(job({ hubId: 'lake' }), 'ann');
  const pinned = s.submit(job({ constraints: { pinHub: 'lake' } }), 'ann');
  assert.equal(preferred.pinHub, null);
  assert.equal(preferred.preferUntil, new Date(START + 60_000).toISOString());
  assert.equal(pinned.hubId, 'lake');
  assert.equal(pinned.pinHub, 'lake');
  assert.deepEqual(s.claim('worker-1', 10), []);
  clock.advanceMs(60_000);
  assert.deepEqual(s.claim('worker-1', 10).map((c) => c.job.jobId), [preferred.jobId]);
  const ran = s.job(preferred.jobId);
  assert.equal(ran.runHubId, 'zurich-1');
  assert.equal(ran.workerId, 'worker-1');
  assert.deepEqual(s.jobs({ hubId: 'lake' }).map((j) => j.jobId), [preferred.jobId, pinned.jobId]);
  assert.deepEqual(s.jobs({ hubId: 'zurich-1' }).map((j) => j.jobId), [preferred.jobId]);
  await rejects(assert, () => s.submit(job({ hubId: 'zurich-1', constraints: { pinHub: 'lake' } }), 'ann'),
    'invalid_argument', 'constraints.pinHub');
  await rejects(assert, () => s.submit(job({ constraints: { pinHub: 'nowhere' } }), 'ann'),
    'not_found', 'constraints.pinHub');
});

test('submitMany and completeMany are all or none', async (t) => {
  const { hub } = await openHub(t, { hub: { scheduler: { submissionsPerHour: 0 } } });
  const s = hub.scheduler;
  const jobs = s.submitMany([job(), JSON.stringify(job({ jobName: 'second' })), job()], 'ann');
  assert.equal(jobs.length, 3);
  await rejects(assert, () => s.submitMany([job(), job({ jobType: 'knitting' })], 'ann'),
    'invalid_argument', 'jobType');
  assert.equal(s.jobs({ owner: 'ann' }).length, 3);
  const claimed = s.claim('worker-1', 3);
  assert.equal(claimed.length, 3);
  await rejects(assert, () => s.completeMany([
    { jobId: claimed[0].lease.jobId, token: claimed[0].lease.token },
    { jobId: claimed[1].lease.jobId, token: 'f'.repeat(32) },
  ]), 'conflict');
  assert.equal(s.job(claimed[0].lease.jobId).status, 'running');
  const done = s.completeMany(claimed.map((c) => ({ jobId: c.lease.jobId, token: c.lease.token, energyMwh: 1000 })));
  assert.deepEqual(done.map((j) => j.status), ['completed', 'completed', 'completed']);
});

test('fail retries after back-off, requeue and cancel, tick promotes due jobs', async (t) => {
  const { hub, clock } = await openHub(t);
  const s = hub.scheduler;
  const first = s.submit(job({ maxAttempts: 2, backoffMs: 1000 }), 'ann');
  let [claimed] = s.claim('worker-1');
  const failed = s.fail(first.jobId, claimed.lease.token, 'out of paper');
  assert.equal(failed.status, 'pending');
  assert.equal(failed.waitReason, 'backoff');
  clock.advanceMs(1000);
  assert.equal(s.tick(), 1);
  assert.equal(s.job(first.jobId).status, 'queued');
  [claimed] = s.claim('worker-1');
  const final = s.fail(first.jobId, claimed.lease.token, 'still no paper', false);
  assert.equal(final.status, 'failed');
  assert.equal(final.errorMessage, 'still no paper');
  assert.equal(s.requeue(first.jobId, 'operator', 'paper refilled').status, 'queued');
  const cancelled = s.cancel(first.jobId, 'ann', 'no longer needed');
  assert.equal(cancelled.status, 'cancelled');
  await rejects(assert, () => s.cancel(first.jobId, 'ann'), 'conflict');
  await rejects(assert, () => s.requeue(first.jobId, 'operator'), 'conflict');
  const later = s.submit(job({ scheduledAt: new Date(START + 60_000).toISOString() }), 'ann');
  assert.equal(later.status, 'pending');
  assert.equal(later.waitReason, 'scheduled');
  clock.advanceMs(60_000);
  s.tick();
  assert.equal(s.job(later.jobId).status, 'queued');
});

test('jobs lists with filters and pages', async (t) => {
  const { hub } = await openHub(t, { hub: { scheduler: { submissionsPerHour: 0 } } });
  const s = hub.scheduler;
  for (let i = 0; i < 5; i++) s.submit(job({ hubId: 'zurich-1' }), i % 2 === 0 ? 'ann' : 'bob');
  assert.equal(s.jobs().length, 5);
  assert.equal(s.jobs({ owner: 'ann' }).length, 3);
  assert.equal(s.jobs({ hubId: 'zurich-1', status: 'queued' }).length, 5);
  assert.equal(s.jobs({ status: 'completed' }).length, 0);
  const page = s.jobs({ limit: 2 });
  assert.equal(page.length, 2);
  const rest = s.jobs({ limit: 10, after: page[1].jobId });
  assert.equal(rest.length, 3);
  await rejects(assert, () => s.jobs({ status: 'lost' }), 'invalid_argument', 'status');
});

test('options and setOptions; the seed\'s rate limit answers quota_exceeded', async (t) => {
  const { hub } = await openHub(t);
  const s = hub.scheduler;
  assert.equal(s.options().submissionsPerHour, 10);
  for (let i = 0; i < 10; i++) s.submit(job(), 'ann');
  await rejects(assert, () => s.submit(job(), 'ann'), 'quota_exceeded');
  // The rate limit is a hub setting, not a process option.
  await rejects(assert, () => s.setOptions({ submissionsPerHour: 11 }), 'invalid_argument',
    'scheduler.submissionsPerHour');
  assert.equal(s.setOptions({ leaseDurationMs: 90000 }).leaseDurationMs, 90000);
  assert.equal(hub.setSetting('submissionsPerHour', '11').submissionsPerHour, 11);
  assert.equal(s.options().submissionsPerHour, 11);
  assert.equal(s.submit(job(), 'ann').status, 'queued');
  await rejects(assert, () => s.setOptions({ unknown: 1 }), 'invalid_argument', 'scheduler.unknown');
});

test('submit refuses a job spec over 1 MiB of JSON, naming jobSpec, and stores nothing', async (t) => {
  const { hub } = await openHub(t);
  const s = hub.scheduler;
  const padded = JSON.stringify(job()) + ' '.repeat(1 << 20);
  await rejects(assert, () => s.submit(padded, 'ann'), 'invalid_argument', 'jobSpec');
  await rejects(assert, () => s.submit(job({ jobName: 'x'.repeat(1 << 20) }), 'ann'),
    'invalid_argument', 'jobSpec');
  await rejects(assert, () => s.submitMany([job(), padded], 'ann'), 'invalid_argument', 'jobSpec');
  assert.deepEqual(s.jobs(), []);
  // Just under the limit, the same request is accepted.
  const fits = JSON.stringify(job()) + ' '.repeat((1 << 20) - JSON.stringify(job()).length);
  assert.equal(s.submit(fits, 'ann').owner, 'ann');
});
