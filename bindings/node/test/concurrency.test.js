// SPDX-License-Identifier: Apache-2.0
// Many Promises in flight at once: puts, gets and CIDs run on the thread pool together, and
// synchronous calls on the main thread go on meanwhile.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');

const sihlicon = require('..');
const { openHub, job } = require('./helpers.js');

test('100 puts in flight at once all resolve, then 100 gets return the same bytes', async (t) => {
  const { hub } = await openHub(t, { hub: { scheduler: { submissionsPerHour: 0 } } });
  const payloads = Array.from({ length: 100 }, (_, i) => Buffer.alloc(10_000 + i * 997, i));
  const puts = payloads.map((data, i) => hub.contentStore.put(data, `owner-${i % 7}`, { fileName: `f${i}` }));
  // The main thread is free while they run: synchronous calls interleave.
  for (let i = 0; i < 20; i++) hub.scheduler.submit(job(), 'ann');
  const manifests = await Promise.all(puts);
  assert.equal(new Set(manifests.map((m) => m.contentId)).size, 100);
  const gets = manifests.map((m) => hub.contentStore.get(m.contentId, m.owner));
  const contents = await Promise.all(gets);
  contents.forEach((data, i) => assert.ok(data.equals(payloads[i]), `content ${i}`));
  assert.equal(hub.scheduler.jobs({ owner: 'ann', limit: 100 }).length, 20);
});

test('100 mixed Promises in flight (puts, gets, CIDs, a seal) settle with the right values', async (t) => {
  const { hub } = await openHub(t);
  const first = await hub.contentStore.put(Buffer.from('first'), 'ann');
  const work = [];
  for (let i = 0; i < 100; i++) {
    const data = Buffer.from(`payload ${i}`);
    switch (i % 4) {
      case 0: work.push(hub.contentStore.put(data, 'ann').then((m) => m.fileSizeBytes === data.length)); break;
      case 1: work.push(hub.contentStore.get(first.contentId, 'ann').then((b) => b.toString() === 'first')); break;
      case 2: work.push(sihlicon.computeCid(data).then((cid) => cid.startsWith('bafkrei'))); break;
      default: work.push(hub.contentStore.get('bafkreiaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'ann')
        .then(() => false, (error) => error.code === 'invalid_argument' || error.code === 'not_found'));
    }
  }
  work.push(hub.settlement.sealEpoch().then((e) => e.status === 'finalized'));
  const results = await Promise.all(work);
  assert.equal(results.length, 101);
  assert.ok(results.every(Boolean));
});
