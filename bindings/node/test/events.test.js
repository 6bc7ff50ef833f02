// SPDX-License-Identifier: Apache-2.0
// The hub's event log from Node: eventsAfter as each principal reads it, and subscribe
// following events that another process writes.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const path = require('node:path');

const { openHub, job } = require('./helpers.js');

test('eventsAfter gives each reader the events that concern it, in order', async (t) => {
  const { hub } = await openHub(t);
  const first = hub.lastEventSequence();
  const ann = hub.scheduler.submit(job(), 'ann');
  hub.scheduler.submit(job(), 'bob');
  const mine = hub.eventsAfter({ after: first, principal: 'ann' });
  assert.deepEqual(mine.map((e) => [e.kind, e.subject, e.client]), [['job.queued', ann.jobId, 'ann']]);
  const all = hub.eventsAfter({ after: first });
  assert.equal(all.length, 2);
  assert.ok(all[0].sequence < all[1].sequence);
  assert.equal(all[0].payload.to, 'queued');
  assert.deepEqual(hub.eventsAfter({ after: first, principal: 'mallory' }), []);
  assert.throws(() => hub.eventsAfter({ limit: 0 }), /limit/);
});

test('subscribe follows the events another process writes, in order, once', async (t) => {
  const { hub, directory } = await openHub(t);
  const seen = [];
  const subscription = hub.subscribe((event) => seen.push(event), { principal: 'ann' });
  const script = `
    const { Hub } = require(${JSON.stringify(path.join(__dirname, '..'))});
    const job = ${JSON.stringify(job())};
    (async () => {
      const hub = await Hub.open(process.argv[1]);
      for (const owner of ['ann', 'bob', 'ann', 'ann']) hub.scheduler.submit(job, owner);
      await hub.close();
    })().catch((error) => { console.error(error); process.exit(1); });`;
  await new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script, directory], (error) => (error ? reject(error) : resolve()));
  });
  const deadline = Date.now() + 10000;
  while (seen.length < 3 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await subscription.stop();
  assert.equal(seen.length, 3);
  assert.ok(seen.every((event) => event.kind === 'job.queued' && event.client === 'ann'));
  assert.ok(seen[0].sequence < seen[1].sequence && seen[1].sequence < seen[2].sequence);
  assert.equal(new Set(seen.map((event) => event.subject)).size, 3);
  assert.equal(subscription.position, seen[2].sequence);
});
