#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// The no-op job lifecycle over HTTP (issue 27's benchmark), beside, in the same run, the
// in-process lifecycle through the addon and BullMQ workers on a local redis-server (the
// batch shape of ../node/lifecycle.mjs, whose code this shares: ../node/common.mjs).
//
// Remote: a fresh hub in a temporary folder (`sihlicon init`, `settings set
// submissionsPerHour 0` and `apiRequestsPerHour 0`, `hub register`, one worker token per agent and a client token, all
// with the CLI), served by `sihlicon serve` (a Release build; --cli PATH). AGENTS agent
// processes (agent.mjs, default 8), each with its own worker token and one HTTP keep-alive
// connection (HTTP/1.1 written by http.mjs), register their worker, then claim batches
// (POST /api/v1/workers/{id}/claim {"max": B}) and complete each job claimed (POST
// /api/v1/jobs/{id}/complete), with a heartbeat every 10 s. --connections C (default 1): each
// agent completes the jobs of a batch over C keep-alive connections at once, as an agent
// running several jobs at a time would. The server runs --threads T threads, default one per
// agent connection: a request's handler holds its thread while the hub commits, and the hub's
// group commit puts the completions of all waiting threads in one fsync (with serve's default
// of 2 threads, at most 2).
//   --submit before (default): the JOBS jobs are submitted before the clock starts, through
//       the addon on the hub's folder while no server runs; the timed part is claim and
//       complete only, so it is compared with the in-process run's claim+complete time.
//   --submit client: a client process (client.mjs) submits them over HTTP (POST /api/compute,
//       4 keep-alive connections) while the agents run; the timed part is the whole lifecycle,
//       compared with the in-process run's whole time.
// The rate is jobs completed per second of the timed part. Also printed: the claim requests'
// p50/p99 latency over HTTP (the agents' view, empty claims included) and the server's RSS
// sampled every second (first, max, last), and the CPU seconds the server and the agents used
// in the timed part (they share the machine's CPUs). --remote-only skips the in-process and
// BullMQ runs (for comparing two builds of the server: --cli).
//   --minutes N: instead of JOBS, the remote lifecycle runs N minutes with the client
//       submitting (at most BACKLOG jobs ahead of completions) and the RSS is printed each
//       minute: the flat-memory check (N = 10). The in-process and BullMQ runs then take JOBS.
// Durability: `sihlicon serve` opens the hub with the hub's defaults, power_loss (every
// commit fsynced) and no write log (it has no commit interval option); the in-process run
// uses the same, and once more with the write log (commitIntervalMs, --commit-interval,
// default 10) as ../node/lifecycle.mjs does. Redis: appendonly yes, appendfsync always unless
// --redis-fsync everysec.
//
//   cmake --preset release && cmake --build build/release --target sihlicon_cli
//   npm install --prefix bindings/node && npm install --prefix benchmarks/node
//   node benchmarks/server/lifecycle.mjs [--cli build/release/sihlicon] [--jobs N] [--batch B]
//        [--agents A] [--connections C] [--complete batch|each] [--submit before|client] [--minutes N] [--threads T]
//        [--commit-interval MS] [--redis-fsync always|everysec] [--keep] [--remote-only]
//
// Targets (issue 27): remote at least 2x BullMQ and at least 0.5x in-process. Not part of any
// test command or CI job: keep it runnable. README.md has measured figures.
import { execFileSync, fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { Hub } from '../../bindings/node/index.mjs';
import {
  benchHubSpec, bullBatched, format, freePort, positiveInteger, rate, request, sihliconBatched,
  startRedis,
} from '../node/common.mjs';
import { Histogram } from './http.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repository = path.resolve(here, '..', '..');
const { values } = parseArgs({
  options: {
    cli: { type: 'string', default: path.join(repository, 'build', 'release', 'sihlicon') },
    jobs: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '100' },
    agents: { type: 'string', default: '8' },
    connections: { type: 'string', default: '1' },
    complete: { type: 'string', default: 'batch' },
    submit: { type: 'string', default: 'before' },
    minutes: { type: 'string', default: '0' },
    threads: { type: 'string' },
    backlog: { type: 'string', default: '5000' },
    'commit-interval': { type: 'string', default: '10' },
    'redis-fsync': { type: 'string', default: 'always' },
    keep: { type: 'boolean', default: false },
    'remote-only': { type: 'boolean', default: false },
  },
});
const JOBS = positiveInteger('jobs', values.jobs);
const BATCH = positiveInteger('batch', values.batch);
const AGENTS = positiveInteger('agents', values.agents);
// The server's threads: one per agent connection unless told (a request's handler holds its thread while
// the hub commits, and the hub's group commit batches the completions whose threads wait).
const CONNECTIONS = positiveInteger('connections', values.connections);
const THREADS = values.threads === undefined ? AGENTS * CONNECTIONS : positiveInteger('threads', values.threads);
const BACKLOG = positiveInteger('backlog', values.backlog);
const COMMIT_INTERVAL = positiveInteger('commit-interval', values['commit-interval']);
const MINUTES = values.minutes === '0' ? 0 : positiveInteger('minutes', values.minutes);
const SUBMIT = MINUTES ? 'client' : values.submit;
// How agents complete a claimed batch: one request per job (POST /api/v1/jobs/{id}/complete),
// or the whole batch in one request and one transaction (POST /api/v1/workers/{id}/complete).
const COMPLETE = values.complete;
if (!['batch', 'each'].includes(COMPLETE)) {
  console.error('--complete must be batch or each');
  process.exit(2);
}
if (!['before', 'client'].includes(SUBMIT)) {
  console.error('--submit must be before or client');
  process.exit(2);
}
if (!fs.existsSync(values.cli)) {
  console.error(`no sihlicon CLI at ${values.cli} (build the release preset or pass --cli)`);
  process.exit(2);
}

// ---- the remote hub ----------------------------------------------------------------------------

function cli(hubDir, ...args) {
  return execFileSync(values.cli, ['--hub', hubDir, '--json', ...args], { encoding: 'utf8' });
}

// The CPU seconds (user + system) a process has used so far.
function cpuSeconds(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;  // utime, stime in clock ticks (USER_HZ 100)
}

function rssKib(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]);
}

async function waitForPort(port, child) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sihlicon serve exited (${child.exitCode})`);
    const up = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return;
    if (Date.now() > deadline) throw new Error('sihlicon serve did not listen within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// A child process's next message that satisfies `test`.
function nextMessage(child, test) {
  return new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (test(message)) {
        child.off('message', onMessage);
        resolve(message);
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`${child.spawnargs.join(' ')} exited (${code})`)));
  });
}

async function remoteLifecycle(folder) {
  const hubDir = path.join(folder, 'hub');
  cli(hubDir, 'init');
  cli(hubDir, 'settings', 'set', 'submissionsPerHour', '0');
  // The client that submits over HTTP must not meet the contract's 1000 requests per hour.
  if (SUBMIT === 'client') cli(hubDir, 'settings', 'set', 'apiRequestsPerHour', '0');
  cli(hubDir, 'hub', 'register', JSON.stringify(benchHubSpec));
  const workerTokens = Array.from({ length: AGENTS }, (_, i) =>
    JSON.parse(cli(hubDir, 'token', 'create', `agent-${i}`, '--role', 'worker',
      '--worker-id', `agent-${i}`)).token);
  const clientToken = JSON.parse(cli(hubDir, 'token', 'create', 'bench-client', '--role', 'client')).token;
  if (SUBMIT === 'before') {
    const hub = await Hub.open(hubDir, { createIfMissing: false });
    const requests = Array.from({ length: 1000 }, () => request);
    for (let submitted = 0; submitted < JOBS; submitted += 1000) {
      hub.scheduler.submitMany(requests.slice(0, Math.min(1000, JOBS - submitted)), 'bench-client');
    }
    await hub.close();
  }

  const port = await freePort();
  const server = spawn(values.cli, ['--hub', hubDir, 'serve', '--listen', `127.0.0.1:${port}`,
    '--threads', String(THREADS)], { stdio: ['ignore', 'ignore', 'inherit'] });
  const serverExited = new Promise((resolve) => server.once('exit', resolve));
  // Never left behind, whatever ends this process.
  process.once('exit', () => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  });
  const children = [];
  try {
    await waitForPort(port, server);
    const url = `http://127.0.0.1:${port}`;
    const agents = workerTokens.map((token, i) => fork(path.join(here, 'agent.mjs'),
      [url, `agent-${i}`, String(BATCH), String(CONNECTIONS), COMPLETE], { env: { ...process.env, SIHLICON_TOKEN: token } }));
    children.push(...agents);
    const client = SUBMIT === 'client'
      ? fork(path.join(here, 'client.mjs'), [url, '4'], { env: { ...process.env, SIHLICON_TOKEN: clientToken } })
      : null;
    if (client) children.push(client);
    await Promise.all(children.map((child) => nextMessage(child, (m) => m.ready)));

    const target = MINUTES ? Infinity : JOBS;
    let completed = 0;
    let ended = 0;
    let finished;
    let failed;
    const allDone = new Promise((resolve, reject) => { finished = resolve; failed = reject; });
    for (const child of children) {
      child.once('exit', (code) => {
        if (code !== 0 && !ended) failed(new Error(`${child.spawnargs.slice(1, 3).join(' ')} exited (${code})`));
      });
    }
    const rss = [rssKib(server.pid)];
    const serverCpu = cpuSeconds(server.pid);
    let lastMinute = 0;
    const started = performance.now();
    const sampler = setInterval(() => {
      rss.push(rssKib(server.pid));
      const minute = Math.floor((performance.now() - started) / 60_000);
      if (MINUTES && minute > lastMinute) {
        lastMinute = minute;
        console.log(`  minute ${minute}: ${format(completed)} jobs completed, server RSS ${format(rss.at(-1) / 1024)} MiB`);
      }
      if (MINUTES && performance.now() - started >= MINUTES * 60_000) {
        ended = performance.now();
        finished();
      }
    }, 1000);
    for (const agent of agents) {
      agent.on('message', (message) => {
        if (!message.completed || message.done) return;
        completed += message.completed;
        if (client && client.connected && !ended) client.send({ allow: Math.min(target, completed + BACKLOG) });
        if (completed >= target && !ended) {
          ended = performance.now();
          finished();
        }
      });
    }
    if (client) client.send({ allow: Math.min(target, BACKLOG) });
    for (const child of children) child.send('go');
    try {
      await allDone;
    } finally {
      clearInterval(sampler);
    }
    rss.push(rssKib(server.pid));
    const serverCpuUsed = cpuSeconds(server.pid) - serverCpu;

    const latencies = new Histogram();
    const reports = agents.map((agent) => nextMessage(agent, (m) => m.done));
    const clientDone = client ? nextMessage(client, (m) => m.done) : null;
    for (const child of children) child.send('stop');
    let agentsCpu = 0;
    for (const report of await Promise.all(reports)) {
      latencies.merge(report.claims);
      agentsCpu += report.cpuSeconds;
    }
    if (clientDone) await clientDone;
    await Promise.all(children.map((child) => new Promise((resolve) => {
      if (child.connected) child.disconnect();
      if (child.exitCode !== null) resolve();
      else child.once('exit', resolve);
    })));
    return {
      completed, elapsed: ended - started, rss, latencies, serverCpuUsed, agentsCpu,
      async verify() {
        // After the server stopped: every job the agents completed is completed in hub.db.
        const stats = JSON.parse(cli(hubDir, 'job', 'stats'));
        return stats;
      },
      stopServer: async () => {
        server.kill('SIGTERM');
        return serverExited;
      },
    };
  } catch (error) {
    for (const child of children) child.kill();
    server.kill('SIGTERM');
    await serverExited;
    throw error;
  }
}

// ---- main --------------------------------------------------------------------------------------

const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'sihlicon-server-bench-'));
let redis;
try {
  const shape = MINUTES ? `${MINUTES} minutes` : `${format(JOBS)} jobs`;
  console.log(`no-op lifecycle over HTTP: ${shape}, ${AGENTS} agents (${CONNECTIONS} connection${CONNECTIONS > 1 ? 's' : ''} each) claiming batches of ${BATCH}, ` +
    `jobs submitted ${SUBMIT === 'before' ? 'before the clock starts (timed: claim + complete)' : 'by a client process over HTTP (timed: submit + claim + complete)'}; ` +
    `server ${values.cli} --threads ${THREADS}; node ${process.version}, ${os.cpus().length} CPUs, folder ${folder}`);
  console.log(`durability power_loss (the hub's default, every commit fsynced), no write log; ` +
    `redis-server appendonly yes, appendfsync ${values['redis-fsync']}`);

  const remote = await remoteLifecycle(path.join(folder, 'remote'));
  const exitCode = await remote.stopServer();
  const stats = await remote.verify();

  if (values['remote-only']) {
    console.log(`remote (HTTP) ${format(rate(remote.completed, remote.elapsed))} jobs/s; claim p50 ` +
      `${remote.latencies.quantile(0.5).toFixed(2)} ms, p99 ${remote.latencies.quantile(0.99).toFixed(2)} ms; ` +
      `CPU server ${remote.serverCpuUsed.toFixed(1)} s, agents ${remote.agentsCpu.toFixed(1)} s; ` +
      `load ${os.loadavg()[0].toFixed(1)}; ${JSON.stringify(stats.byStatus)}`);
  } else {
    const inProcess = await sihliconBatched(path.join(folder, 'in-process'), JOBS, BATCH, {});
    const inProcessLog = await sihliconBatched(path.join(folder, 'in-process-log'), JOBS, BATCH,
      { commitIntervalMs: COMMIT_INTERVAL });
    redis = await startRedis(folder, values['redis-fsync']);
    const bull = rate(JOBS, await bullBatched(redis.connection, 'batched', JOBS, BATCH));

    const remoteRate = rate(remote.completed, remote.elapsed);
    const inProcessMs = (run) => (SUBMIT === 'before' ? run.claimCompleteMs : run.elapsed);
    const inProcessRate = rate(JOBS, inProcessMs(inProcess));
    const inProcessLogRate = rate(JOBS, inProcessMs(inProcessLog));
    const part = SUBMIT === 'before' ? 'claim+complete' : 'whole';
    console.log('');
    console.log(`remote (HTTP)             ${format(remoteRate).padStart(8)} jobs/s  ` +
      `(${format(remote.completed)} jobs in ${(remote.elapsed / 1000).toFixed(2)} s; server exit ${exitCode})`);
    console.log(`${`in-process, ${part}`.padEnd(26)}${format(inProcessRate).padStart(8)} jobs/s  ` +
      `(batches of ${BATCH}; whole lifecycle ${format(rate(JOBS, inProcess.elapsed))} jobs/s)`);
    console.log(`  with write log ${String(COMMIT_INTERVAL).padStart(3)} ms ${format(inProcessLogRate).padStart(8)} jobs/s  ` +
      `(whole lifecycle ${format(rate(JOBS, inProcessLog.elapsed))} jobs/s)`);
    console.log(`BullMQ (redis-server)     ${format(bull).padStart(8)} jobs/s  (addBulk + Worker concurrency ${BATCH})`);
    console.log('');
    const toBull = remoteRate / bull;
    const toInProcess = remoteRate / inProcessRate;
    console.log(`remote / BullMQ           ${toBull.toFixed(2)}x  (target >= 2: ${toBull >= 2 ? 'met' : 'NOT met'})`);
    console.log(`remote / in-process       ${toInProcess.toFixed(2)}x  (target >= 0.5: ${toInProcess >= 0.5 ? 'met' : 'NOT met'}; ` +
      `against the write-log run ${(remoteRate / inProcessLogRate).toFixed(2)}x)`);
    console.log(`claim latency over HTTP   p50 ${remote.latencies.quantile(0.5).toFixed(2)} ms, ` +
      `p99 ${remote.latencies.quantile(0.99).toFixed(2)} ms (${format(remote.latencies.total)} claims, batches of ${BATCH})`);
    const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;
    console.log(`server RSS, every second  first ${mib(remote.rss[0])}, max ${mib(Math.max(...remote.rss))}, ` +
      `last ${mib(remote.rss.at(-1))} (${remote.rss.length} samples)`);
    console.log(`CPU in the timed part      server ${remote.serverCpuUsed.toFixed(1)} s, agents ${remote.agentsCpu.toFixed(1)} s ` +
      `(of ${(remote.elapsed / 1000).toFixed(1)} s wall on ${os.cpus().length} CPUs; load average ${os.loadavg()[0].toFixed(1)})`);
    console.log(`hub after the run         ${JSON.stringify(stats.byStatus ?? stats)}`);
  }
} finally {
  if (redis) await redis.stop();
  if (values.keep) console.log(`kept ${folder}`);
  else fs.rmSync(folder, { recursive: true, force: true });
}
