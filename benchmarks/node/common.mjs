// SPDX-License-Identifier: Apache-2.0
//
// What the Node benchmarks share (lifecycle.mjs here, ../server/lifecycle.mjs): the no-op job,
// the in-process lifecycle through the addon, BullMQ on a local redis-server which this module
// starts (127.0.0.1, a free port, its own folder) and stops, and the figures' formatting.
// bullmq is resolved from this folder's node_modules (npm install here).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { Queue, Worker } from 'bullmq';

import { Hub } from '../../bindings/node/index.mjs';

import { benchHubSpec, benchWorkerSpec, request } from './specs.mjs';

export { benchHubSpec, benchWorkerSpec, request } from './specs.mjs';

export function rate(count, ms) {
  return count / (ms / 1000);
}

export function format(value) {
  return Math.round(value).toLocaleString('en-US');
}

// A positive integer option, or exit 2 naming it.
export function positiveInteger(name, text) {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) {
    console.error(`--${name} must be a positive integer`);
    process.exit(2);
  }
  return value;
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// ---- sihlicon in process -----------------------------------------------------------------------

// A fresh hub in `folder` with the bench hub and one worker; options: durability,
// commitIntervalMs.
export async function openBenchHub(folder, { durability = 'power_loss', commitIntervalMs = 0 } = {}) {
  const hub = await Hub.open(path.join(folder, 'hub'), {
    durability,
    commitIntervalMs,
    scheduler: { submissionsPerHour: 0, leaseDurationMs: 600_000 },
  });
  hub.scheduler.registerHub(benchHubSpec);
  hub.scheduler.registerWorker(benchWorkerSpec('bench-worker'));
  return hub;
}

// (a) one call per step: submit one job, claim it, complete it, and again. Resolves to the ms.
export async function sihliconOneByOne(folder, jobs, options) {
  const hub = await openBenchHub(folder, options);
  const s = hub.scheduler;
  const started = performance.now();
  for (let i = 0; i < jobs; i++) {
    s.submit(request, 'bench');
    const [claimed] = s.claim('bench-worker');
    s.complete(claimed.lease.jobId, claimed.lease.token, { energyMwh: 1 });
  }
  const done = s.jobs({ status: 'completed', limit: 1000 }).length;
  const elapsed = performance.now() - started;
  await hub.close();
  if (done !== Math.min(jobs, 1000)) throw new Error(`sihlicon completed ${done} jobs, expected ${jobs}`);
  return elapsed;
}

// (b) batches: submitMany / claim(max batch) / completeMany, one transaction each. Resolves to
// { elapsed, claimCompleteMs }: the whole time and the part spent claiming and completing.
export async function sihliconBatched(folder, jobs, batch, options) {
  const hub = await openBenchHub(folder, options);
  const s = hub.scheduler;
  const requests = Array.from({ length: batch }, () => request);
  let completed = 0;
  let submitMs = 0;
  const started = performance.now();
  while (completed < jobs) {
    const size = Math.min(batch, jobs - completed);
    const submitStarted = performance.now();
    s.submitMany(size === batch ? requests : requests.slice(0, size), 'bench');
    submitMs += performance.now() - submitStarted;
    const claimed = s.claim('bench-worker', size);
    s.completeMany(claimed.map((c) => ({ jobId: c.lease.jobId, token: c.lease.token, energyMwh: 1 })));
    completed += claimed.length;
  }
  s.jobs({ status: 'completed', limit: 1 });  // commits what the write log still holds
  const elapsed = performance.now() - started;
  await hub.close();
  return { elapsed, claimCompleteMs: elapsed - submitMs };
}

// ---- BullMQ on redis-server --------------------------------------------------------------------

// Starts redis-server in folder/redis with its append-only file and `appendfsync fsync`.
// Resolves to { connection, stop() }.
export async function startRedis(folder, fsync) {
  const port = await freePort();
  const dir = path.join(folder, 'redis');
  fs.mkdirSync(dir);
  const child = spawn('redis-server', [
    '--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '',
    '--appendonly', 'yes', '--appendfsync', fsync, '--protected-mode', 'yes',
    '--daemonize', 'no', '--logfile', path.join(dir, 'redis.log'),
  ], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}); see ${dir}/redis.log`);
    const up = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write('PING\r\n');
      });
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
      socket.once('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) throw new Error('redis-server did not answer within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    connection: { host: '127.0.0.1', port, maxRetriesPerRequest: null },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

// (a) Queue.add / Worker.getNextJob / Job.moveToCompleted (BullMQ's manual processing).
export async function bullOneByOne(connection, name, jobs) {
  const queue = new Queue(name, { connection });
  const worker = new Worker(name, null, { connection, autorun: false });
  const token = 'bench-worker';
  await queue.waitUntilReady();
  await worker.waitUntilReady();
  const started = performance.now();
  for (let i = 0; i < jobs; i++) {
    await queue.add('no-op', { i }, { removeOnComplete: false });
    const job = await worker.getNextJob(token);
    await job.moveToCompleted('done', token, false);
  }
  const elapsed = performance.now() - started;
  const counts = await queue.getJobCounts('completed');
  await worker.close();
  await queue.close();
  if (counts.completed !== jobs) throw new Error(`BullMQ completed ${counts.completed} jobs, expected ${jobs}`);
  return elapsed;
}

// (b) addBulk in batches and a Worker with concurrency `batch` running a no-op processor.
export async function bullBatched(connection, name, jobs, batch) {
  const queue = new Queue(name, { connection });
  await queue.waitUntilReady();
  let completed = 0;
  let finish;
  const allDone = new Promise((resolve) => { finish = resolve; });
  const worker = new Worker(name, async () => 'done', { connection, concurrency: batch, autorun: false });
  worker.on('completed', () => {
    completed += 1;
    if (completed === jobs) finish();
  });
  await worker.waitUntilReady();
  const started = performance.now();
  worker.run();
  for (let added = 0; added < jobs; added += batch) {
    const size = Math.min(batch, jobs - added);
    await queue.addBulk(Array.from({ length: size }, (_, i) => ({ name: 'no-op', data: { i: added + i } })));
  }
  await allDone;
  const elapsed = performance.now() - started;
  await worker.close();
  await queue.close();
  return elapsed;
}
