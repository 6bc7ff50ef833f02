// SPDX-License-Identifier: Apache-2.0
// WorkerAgent: the library's agent run from Node, with its own executors or a JavaScript one.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');

const sihlicon = require('..');
const { openHub, rejects } = require('./helpers.js');

const HARDWARE = { cpuCores: 2, memoryBytes: 4 * 1024 ** 3 };

function nativeJob(command) {
  return {
    jobType: 'custom',
    jobName: 'agent test',
    workloadConfig: {
      containerImage: 'native',
      command,
      resources: { cpu: '1', memory: '64Mi' },
      timeoutSeconds: 30,
    },
    hubId: 'zurich-1',
  };
}

// Polls until the job leaves the queue and its running states, or 20 s pass.
async function settled(hub, jobId, states = ['completed', 'failed', 'dead_letter']) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const record = hub.scheduler.job(jobId);
    if (states.includes(record.status)) return record;
    if (Date.now() > deadline) assert.fail(`job ${jobId} is still ${record.status}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('an agent runs a native job as a process and completes it with its outputs', async (t) => {
  const { hub } = await openHub(t);
  const events = [];
  const agent = hub.workerAgent({
    workerId: 'agent-1', hubId: 'zurich-1', hardware: HARDWARE, pollIntervalMs: 20,
    onEvent: (line) => events.push(line),
  });
  assert.equal(agent.status().state, 'stopped');
  const submitted = hub.scheduler.submit(
    nativeJob(['sh', '-c', 'printf heat > "$SIHLICON_OUTPUT_DIR/out.txt"']), 'ann');
  const worker = await agent.start();
  assert.equal(worker.workerId, 'agent-1');
  await rejects(assert, () => agent.start(), 'conflict');
  const done = await settled(hub, submitted.jobId);
  assert.equal(done.status, 'completed', done.errorMessage ?? '');
  assert.equal(done.outputDataRefs.length, 1);
  const bytes = await hub.contentStore.get(done.outputDataRefs[0], 'ann');
  assert.equal(Buffer.from(bytes).toString(), 'heat');
  // The agent counts the completion just after the hub has stored it.
  for (let i = 0; i < 1000 && agent.status().completed !== 1; ++i) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const status = agent.status();
  assert.equal(status.state, 'running');
  assert.equal(status.completed, 1);
  assert.equal(status.workerId, 'agent-1');
  await agent.stop();
  assert.equal(agent.status().state, 'stopped');
  await agent.stop();  // stopping twice is harmless
  assert.ok(events.length > 0, 'onEvent heard the agent');
  assert.equal(hub.scheduler.worker('agent-1').status, 'offline');
});

test('a JavaScript executor runs each attempt; its files become the outputs', async (t) => {
  const { hub } = await openHub(t);
  const seen = [];
  const agent = hub.workerAgent({
    workerId: 'agent-js', hubId: 'zurich-1', hardware: HARDWARE, pollIntervalMs: 20,
    executor: async (request, stopped) => {
      seen.push(request);
      assert.equal(stopped(), false);
      await fs.promises.writeFile(path.join(request.outputDir, 'answer.txt'), '42');
      return { outcome: 'succeeded', exitCode: 0 };
    },
  });
  const submitted = hub.scheduler.submit(nativeJob(['true']), 'ann');
  await agent.start();
  const done = await settled(hub, submitted.jobId);
  await agent.stop();
  assert.equal(done.status, 'completed', done.errorMessage ?? '');
  assert.equal(seen.length, 1);
  assert.equal(seen[0].job.jobId, submitted.jobId);
  assert.equal(seen[0].attempt, 1);
  const bytes = await hub.contentStore.get(done.outputDataRefs[0], 'ann');
  assert.equal(Buffer.from(bytes).toString(), '42');
});

test('an executor that throws or answers nonsense fails the attempt with its reason', async (t) => {
  const { hub } = await openHub(t);
  let calls = 0;
  const agent = hub.workerAgent({
    workerId: 'agent-bad', hubId: 'zurich-1', hardware: HARDWARE, pollIntervalMs: 20,
    executor: () => {
      calls += 1;
      if (calls === 1) throw new Error('the model file is missing');
      return { outcome: 'exploded' };
    },
  });
  const first = hub.scheduler.submit({ ...nativeJob(['true']), maxAttempts: 1 }, 'ann');
  await agent.start();
  const failed = await settled(hub, first.jobId, ['failed', 'dead_letter']);
  assert.match(failed.errorMessage, /the model file is missing/);
  const second = hub.scheduler.submit({ ...nativeJob(['true']), maxAttempts: 1 }, 'ann');
  const nonsense = await settled(hub, second.jobId, ['failed', 'dead_letter']);
  assert.match(nonsense.errorMessage, /outcome/);
  await agent.stop();
});

test('bad agent options are refused, naming the option', async (t) => {
  const { hub } = await openHub(t);
  assert.throws(() => hub.workerAgent({ hubId: 'zurich-1', colour: 'red' }),
    (error) => error.code === 'invalid_argument' && error.field === 'colour');
  assert.throws(() => hub.workerAgent({}),
    (error) => error.code === 'invalid_argument' && error.field === 'hubId');
  assert.throws(() => hub.workerAgent({ hubId: 'zurich-1', executor: 'run.sh' }),
    (error) => error.code === 'invalid_argument' && error.field === 'executor');
  const zero = hub.workerAgent({ hubId: 'zurich-1', slots: 0, hardware: HARDWARE });
  await rejects(assert, () => zero.start(), 'invalid_argument', 'slots');
  assert.equal(zero.status().state, 'stopped');
  const lost = hub.workerAgent({ hubId: 'nowhere', hardware: HARDWARE });
  await rejects(assert, () => lost.start(), 'not_found');
  await rejects(assert, () => lost.stop(-1), 'invalid_argument', 'graceMs');
  assert.throws(() => sihlicon.WorkerAgent.prototype.status.call(hub.scheduler), TypeError);
});

test('closing the hub stops its running agents first', async (t) => {
  const { hub } = await openHub(t);
  const agent = hub.workerAgent({
    workerId: 'agent-close', hubId: 'zurich-1', hardware: HARDWARE, pollIntervalMs: 20,
  });
  await agent.start();
  await hub.close();
  assert.equal(agent.status().state, 'stopped');
  await agent.stop();
  await rejects(assert, () => agent.start(), 'conflict');
  assert.throws(() => hub.workerAgent({ hubId: 'zurich-1' }),
    (error) => error.code === 'conflict');
});

test('stopping an agent tells a running JavaScript executor, and the job goes back', async (t) => {
  const { hub } = await openHub(t);
  let started;
  const running = new Promise((resolve) => { started = resolve; });
  const agent = hub.workerAgent({
    workerId: 'agent-stop', hubId: 'zurich-1', hardware: HARDWARE, pollIntervalMs: 20,
    executor: async (request, stopped) => {
      started();
      while (!stopped()) await new Promise((resolve) => setTimeout(resolve, 10));
      return { outcome: 'cancelled', message: 'asked to stop' };
    },
  });
  const submitted = hub.scheduler.submit(nativeJob(['true']), 'ann');
  await agent.start();
  await running;
  assert.equal(agent.status().running.length, 1);
  assert.equal(agent.status().running[0].jobId, submitted.jobId);
  await agent.stop(0);
  const record = hub.scheduler.job(submitted.jobId);
  assert.notEqual(record.status, 'running');
  assert.notEqual(record.status, 'completed');
});

test('a native job runs sandboxed: it cannot read the operator key', async (t) => {
  const { hub, directory } = await openHub(t);
  const agent = hub.workerAgent({ workerId: 'agent-s', hubId: 'zurich-1', hardware: HARDWARE, pollIntervalMs: 20 });
  const job = nativeJob(['sh', '-c', 'cat "$HUB/operator.key"']);
  job.workloadConfig.env = { HUB: directory };
  const submitted = hub.scheduler.submit({ ...job, maxAttempts: 1 }, 'ann');
  await agent.start();
  const done = await settled(hub, submitted.jobId);
  await agent.stop();
  assert.equal(done.status, 'failed');
  assert.match(done.errorMessage, /No such file or directory/);
  const preload = nativeJob(['true']);
  preload.workloadConfig.env = { LD_PRELOAD: '/tmp/x.so' };
  assert.throws(() => hub.scheduler.submit(preload, 'ann'),
    (error) => error.code === 'invalid_argument' && /LD_PRELOAD/.test(error.message));
});

test('native jobs off get no native job; off the allow-list or without bwrap they fail with the reason', async (t) => {
  const { hub, directory } = await openHub(t);
  const run = async (options, command) => {
    const submitted = hub.scheduler.submit({ ...nativeJob(command), maxAttempts: 3 }, 'ann');
    const agent = hub.workerAgent({ workerId: 'agent-r', hubId: 'zurich-1', hardware: HARDWARE,
      pollIntervalMs: 20, ...options });
    await agent.start();
    const done = await settled(hub, submitted.jobId);
    await agent.stop();
    return done;
  };
  // Native jobs off: the agent registers no native executor and is handed no native job (it
  // used to be handed it and fail it); the job waits queued.
  const off = hub.scheduler.submit({ ...nativeJob(['true']), maxAttempts: 3 }, 'ann');
  const offAgent = hub.workerAgent({ workerId: 'agent-off', hubId: 'zurich-1', hardware: HARDWARE,
    pollIntervalMs: 20, nativeJobs: false });
  assert.deepEqual((await offAgent.start()).executors, []);
  await new Promise((resolve) => setTimeout(resolve, 200));
  await offAgent.stop();
  const waiting = hub.scheduler.job(off.jobId);
  assert.equal(waiting.status, 'queued');
  assert.equal(waiting.attempts, 0);
  hub.scheduler.cancel(off.jobId, 'ann');
  let done = await run({ allowedCommands: ['true'] }, ['sh', '-c', 'true']);
  assert.match(done.errorMessage, /'sh' is not a program worker agent-r allows \(allowed: true\)/);
  assert.equal((await run({ allowedCommands: ['true'] }, ['true'])).status, 'completed');
  done = await run({ bwrapProgram: '/nonexistent/bwrap' }, ['true']);
  assert.match(done.errorMessage, /cannot make one/);
  done = await run({ bwrapProgram: '/nonexistent/bwrap', unsandboxedNative: true }, ['true']);
  assert.equal(done.status, 'completed');
  const inside = hub.workerAgent({ hubId: 'zurich-1', hardware: HARDWARE,
    workRoot: path.join(directory, 'agent') });
  await rejects(assert, () => inside.start(), 'invalid_argument', 'workRoot');
  assert.throws(() => hub.workerAgent({ hubId: 'zurich-1', nativeJobs: 'no' }),
    (error) => error.code === 'invalid_argument' && error.field === 'nativeJobs');
});
