#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// The no-op job lifecycle (submit -> claim -> complete) through the sihlicon addon, and in the
// same run the same lifecycle with BullMQ on a local redis-server, which this program starts
// (127.0.0.1, a free port, its own temporary folder) and stops. Prints both throughputs and
// their ratio (issue #10's target: sihlicon at least 5x BullMQ, while durable on disk). The
// code of both lifecycles is in common.mjs, shared with ../server/lifecycle.mjs.
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
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import {
  bullBatched, bullOneByOne, format, positiveInteger, rate, sihliconBatched, sihliconOneByOne,
  startRedis,
} from './common.mjs';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '100' },
    durability: { type: 'string', default: 'power_loss' },
    'redis-fsync': { type: 'string', default: 'always' },
    'commit-interval': { type: 'string', default: '10' },
  },
});
const COMMIT_INTERVAL = positiveInteger('commit-interval', values['commit-interval']);
const JOBS = positiveInteger('jobs', values.jobs);
const BATCH = positiveInteger('batch', values.batch);
const durability = values.durability;

// ---- main --------------------------------------------------------------------------------------

const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'sihlicon-node-bench-'));
let redis;
try {
  console.log(`no-op lifecycle (submit -> claim -> complete), ${format(JOBS)} jobs, batch ${BATCH}; ` +
    `node ${process.version}, ${os.cpus().length} CPUs, folder ${folder}`);
  console.log(`sihlicon durability ${values.durability}; redis-server appendonly yes, appendfsync ${values['redis-fsync']}`);
  redis = await startRedis(folder, values['redis-fsync']);

  const rows = [];
  const logged = `, write log ${COMMIT_INTERVAL} ms`;
  const bullA = rate(JOBS, await bullOneByOne(redis.connection, 'one-by-one', JOBS));
  rows.push(['(a) one call per step', rate(JOBS, await sihliconOneByOne(path.join(folder, 'a'), JOBS, { durability })), bullA]);
  rows.push([`(a)${logged}`,
    rate(JOBS, await sihliconOneByOne(path.join(folder, 'a-log'), JOBS,
      { durability, commitIntervalMs: COMMIT_INTERVAL })), bullA]);
  const bullB = rate(JOBS, await bullBatched(redis.connection, 'batched', JOBS, BATCH));
  rows.push([`(b) batches of ${BATCH}`, rate(JOBS, (await sihliconBatched(path.join(folder, 'b'), JOBS, BATCH, { durability })).elapsed), bullB]);
  rows.push([`(b)${logged}`,
    rate(JOBS, (await sihliconBatched(path.join(folder, 'b-log'), JOBS, BATCH,
      { durability, commitIntervalMs: COMMIT_INTERVAL })).elapsed), bullB]);

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
