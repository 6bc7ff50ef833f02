#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// The no-op job lifecycle (submit -> claim -> complete) through the sihlicon addon, and in the
// same run the same lifecycle with BullMQ on a local redis-server, which this program starts
// (127.0.0.1, a free port, its own temporary folder) and stops. Prints both throughputs and
// their ratio (issue #10's target: sihlicon at least 5x BullMQ, while durable on disk).
//
// Two shapes, each measured for both:
//   (a) one call per step: submit one job, claim it, complete it, and again. sihlicon:
//       scheduler.submit / claim / complete. BullMQ: Queue.add / Worker.getNextJob /
//       Job.moveToCompleted (its manual-processing API: the same three steps).
//   (b) batches of B: sihlicon submitMany / claim(max B) / completeMany (one transaction each);
//       BullMQ addBulk and a Worker with concurrency B running a no-op processor.
// Durability: sihlicon at the hub's default (power_loss: every commit fsynced) unless
// --durability process_crash; Redis with its append-only file and `appendfsync always` unless
// --redis-fsync everysec (Redis's own default policy, which may lose the last second).
// sihlicon runs twice: committing every write to hub.db, and with the hub's write log
// (commitIntervalMs, --commit-interval, default 10): a write returns once it is in hub.db-log,
// which keeps it through the same crashes. Each sihlicon time ends with a read, which commits
// what the log still holds, so every job is in hub.db when the clock stops.
//
//   cd benchmarks/node && npm install && node lifecycle.mjs [--jobs N] [--batch B]
//        [--durability power_loss|process_crash] [--redis-fsync always|everysec]
//        [--commit-interval MS]
//
// Needs: the addon (npm install in bindings/node), redis-server on the PATH
// (scripts/setup.sh installs it) and npm bullmq (npm install here).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { Queue, Worker } from 'bullmq';

import { Hub } from '../../bindings/node/index.mjs';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '100' },
    durability: { type: 'string', default: 'power_loss' },
    'redis-fsync': { type: 'string', default: 'always' },
    'commit-interval': { type: 'string', default: '10' },
  },
});
const COMMIT_INTERVAL = Number(values['commit-interval']);
if (!Number.isSafeInteger(COMMIT_INTERVAL) || COMMIT_INTERVAL < 1) {
  console.error('--commit-interval must be a positive integer (milliseconds)');
  process.exit(2);
}
const JOBS = Number(values.jobs);
const BATCH = Number(values.batch);
if (!Number.isSafeInteger(JOBS) || JOBS < 1 || !Number.isSafeInteger(BATCH) || BATCH < 1) {
  console.error('--jobs and --batch must be positive integers');
  process.exit(2);
}

const request = {
  jobType: 'custom',
  jobName: 'no-op',
  workloadConfig: { containerImage: 'busybox:latest', resources: { cpu: '1' } },
};

function rate(count, ms) {
  return count / (ms / 1000);
}

function format(value) {
  return Math.round(value).toLocaleString('en-US');
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// ---- sihlicon ----------------------------------------------------------------------------------

async function openHub(folder, commitIntervalMs) {
  const hub = await Hub.open(path.join(folder, 'hub'), {
    durability: values.durability,
    commitIntervalMs,
    scheduler: { submissionsPerHour: 0, leaseDurationMs: 600_000 },
  });
  hub.scheduler.registerHub({ hubId: 'bench', name: 'Bench', site: 'bench', region: 'CH',
    powerCapacityW: 1_000_000_000 });
  hub.scheduler.registerWorker({ workerId: 'bench-worker', hubId: 'bench', cpu: '100000', memory: '1Ti' });
  return hub;
}

async function sihliconOneByOne(folder, commitIntervalMs) {
  const hub = await openHub(folder, commitIntervalMs);
  const s = hub.scheduler;
  const started = performance.now();
  for (let i = 0; i < JOBS; i++) {
    s.submit(request, 'bench');
    const [claimed] = s.claim('bench-worker');
    s.complete(claimed.lease.jobId, claimed.lease.token, { energyMwh: 1 });
  }
  const done = s.jobs({ status: 'completed', limit: 1000 }).length;
  const elapsed = performance.now() - started;
  await hub.close();
  if (done !== Math.min(JOBS, 1000)) throw new Error(`sihlicon completed ${done} jobs, expected ${JOBS}`);
  return elapsed;
}

async function sihliconBatched(folder, commitIntervalMs) {
  const hub = await openHub(folder, commitIntervalMs);
  const s = hub.scheduler;
  const requests = Array.from({ length: BATCH }, () => request);
  let completed = 0;
  const started = performance.now();
  while (completed < JOBS) {
    const size = Math.min(BATCH, JOBS - completed);
    s.submitMany(size === BATCH ? requests : requests.slice(0, size), 'bench');
    const claimed = s.claim('bench-worker', size);
    s.completeMany(claimed.map((c) => ({ jobId: c.lease.jobId, token: c.lease.token, energyMwh: 1 })));
    completed += claimed.length;
  }
  s.jobs({ status: 'completed', limit: 1 });  // commits what the write log still holds
  const elapsed = performance.now() - started;
  await hub.close();
  return elapsed;
}

// ---- BullMQ on redis-server --------------------------------------------------------------------

async function startRedis(folder) {
  const port = await freePort();
  const dir = path.join(folder, 'redis');
  fs.mkdirSync(dir);
  const child = spawn('redis-server', [
    '--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '',
    '--appendonly', 'yes', '--appendfsync', values['redis-fsync'], '--protected-mode', 'yes',
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

async function bullOneByOne(connection, name) {
  const queue = new Queue(name, { connection });
  const worker = new Worker(name, null, { connection, autorun: false });
  const token = 'bench-worker';
  await queue.waitUntilReady();
  await worker.waitUntilReady();
  const started = performance.now();
  for (let i = 0; i < JOBS; i++) {
    await queue.add('no-op', { i }, { removeOnComplete: false });
    const job = await worker.getNextJob(token);
    await job.moveToCompleted('done', token, false);
  }
  const elapsed = performance.now() - started;
  const counts = await queue.getJobCounts('completed');
  await worker.close();
  await queue.close();
  if (counts.completed !== JOBS) throw new Error(`BullMQ completed ${counts.completed} jobs, expected ${JOBS}`);
  return elapsed;
}

async function bullBatched(connection, name) {
  const queue = new Queue(name, { connection });
  await queue.waitUntilReady();
  let completed = 0;
  let finish;
  const allDone = new Promise((resolve) => { finish = resolve; });
  const worker = new Worker(name, async () => 'done', { connection, concurrency: BATCH, autorun: false });
  worker.on('completed', () => {
    completed += 1;
    if (completed === JOBS) finish();
  });
  await worker.waitUntilReady();
  const started = performance.now();
  worker.run();
  for (let added = 0; added < JOBS; added += BATCH) {
    const size = Math.min(BATCH, JOBS - added);
    await queue.addBulk(Array.from({ length: size }, (_, i) => ({ name: 'no-op', data: { i: added + i } })));
  }
  await allDone;
  const elapsed = performance.now() - started;
  await worker.close();
  await queue.close();
  return elapsed;
}

// ---- main --------------------------------------------------------------------------------------

const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'sihlicon-node-bench-'));
let redis;
try {
  console.log(`no-op lifecycle (submit -> claim -> complete), ${format(JOBS)} jobs, batch ${BATCH}; ` +
    `node ${process.version}, ${os.cpus().length} CPUs, folder ${folder}`);
  console.log(`sihlicon durability ${values.durability}; redis-server appendonly yes, appendfsync ${values['redis-fsync']}`);
  redis = await startRedis(folder);

  const rows = [];
  const logged = `, write log ${COMMIT_INTERVAL} ms`;
  const bullA = rate(JOBS, await bullOneByOne(redis.connection, 'one-by-one'));
  rows.push(['(a) one call per step', rate(JOBS, await sihliconOneByOne(path.join(folder, 'a'), 0)), bullA]);
  rows.push([`(a)${logged}`,
    rate(JOBS, await sihliconOneByOne(path.join(folder, 'a-log'), COMMIT_INTERVAL)), bullA]);
  const bullB = rate(JOBS, await bullBatched(redis.connection, 'batched'));
  rows.push([`(b) batches of ${BATCH}`, rate(JOBS, await sihliconBatched(path.join(folder, 'b'), 0)), bullB]);
  rows.push([`(b)${logged}`,
    rate(JOBS, await sihliconBatched(path.join(folder, 'b-log'), COMMIT_INTERVAL)), bullB]);

  console.log('');
  console.log('shape                        sihlicon jobs/s    BullMQ jobs/s    ratio (target >= 5x)');
  for (const [shape, ours, theirs] of rows) {
    const ratio = ours / theirs;
    console.log(`${shape.padEnd(28)} ${format(ours).padStart(15)} ${format(theirs).padStart(16)}` +
      `    ${ratio.toFixed(2)}x ${ratio >= 5 ? 'met' : 'NOT met'}`);
  }
} finally {
  if (redis) await redis.stop();
  fs.rmSync(folder, { recursive: true, force: true });
}
