// SPDX-License-Identifier: Apache-2.0
// SihliconClient: the seed's SDK shape over an embedded hub.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');

const { SihliconClient, SihliconError } = require('..');
const { START, openHub, job, rejects } = require('./helpers.js');

test('compute: submit, get, list and cancel as the client\'s user', async (t) => {
  const { hub } = await openHub(t);
  const client = new SihliconClient({ hub, user: 'ann' });
  const submitted = await client.compute.submit(job({ hubId: 'zurich-1' }));
  assert.equal(submitted.status, 'queued');
  assert.equal(submitted.owner, 'ann');
  assert.equal((await client.compute.get(submitted.jobId)).jobId, submitted.jobId);
  assert.deepEqual((await client.compute.list({ hubId: 'zurich-1' })).map((j) => j.jobId), [submitted.jobId]);
  const bob = new SihliconClient({ hub, user: 'bob' });
  await rejects(assert, () => bob.compute.get(submitted.jobId), 'not_found', 'jobId');
  await rejects(assert, () => bob.compute.cancel(submitted.jobId), 'not_found');
  assert.deepEqual(await bob.compute.list({ hubId: 'zurich-1' }), []);
  assert.equal((await client.compute.cancel(submitted.jobId)).status, 'cancelled');
  await rejects(assert, () => client.compute.list({}), 'invalid_argument', 'hubId');
  await rejects(assert, () => client.compute.submit({ jobType: 'ocr' }), 'invalid_argument');
});

test('storage: upload Buffers and Blobs, get the manifest, download, list and delete', async (t) => {
  const { hub } = await openHub(t);
  const client = new SihliconClient({ hub, user: 'ann' });
  const manifest = await client.storage.upload(Buffer.from('%PDF-1.7 ledger'), {
    fileName: 'document.pdf', storageTier: 'cold', accessLevel: 'community', minReplicas: 1,
  });
  assert.equal(manifest.storageTier, 'cold');
  assert.equal(manifest.accessLevel, 'community');
  assert.equal((await client.storage.get(manifest.contentId)).fileName, 'document.pdf');
  assert.equal((await client.storage.download(manifest.contentId)).toString(), '%PDF-1.7 ledger');
  const blob = new Blob(['page two'], { type: 'text/plain' });
  const fromBlob = await client.storage.upload(blob);
  assert.equal(fromBlob.mimeType, 'text/plain');
  assert.equal((await client.storage.download(fromBlob.contentId, { offset: 5 })).toString(), 'two');
  assert.equal((await client.storage.list()).length, 2);
  await client.storage.delete(manifest.contentId);
  await rejects(assert, () => client.storage.get(manifest.contentId), 'not_found');
  await rejects(assert, () => new SihliconClient({ hub, user: 'eve' }).storage.download(fromBlob.contentId),
    'not_found');
});

test('heat: getCredits, getStats and settle', async (t) => {
  const { hub, clock } = await openHub(t);
  const client = new SihliconClient({ hub, user: 'operator' });
  hub.heatLedger.record({ hubId: 'zurich-1', tag: 'boiler', thermalKwh: '10', at: START });
  clock.advanceMs(3_600_000);
  const credits = await client.heat.getCredits('zurich-1');
  assert.equal(credits.totalHeatKwh, 10);
  assert.equal(credits.heatCreditChf, 50);
  assert.equal((await client.heat.getCredits('zurich-1', { start: START + 1, end: START + 2 })).totalHeatKwh, 0);
  assert.equal((await client.heat.getStats('zurich-1')).unsettledCreditChf, 50);
  const settled = await client.heat.settle({ hubId: 'zurich-1', periodStart: START, periodEnd: START + 3_600_000 });
  assert.equal(settled.settledCreditChf, 50);
  assert.equal((await client.heat.getStats('zurich-1')).periodCount, 1);
  await rejects(assert, () => client.heat.getCredits(''), 'invalid_argument', 'hubId');
});

test('the client needs an open hub and a user', () => {
  assert.throws(() => new SihliconClient({ hub: {}, user: 'ann' }), TypeError);
  assert.throws(() => new SihliconClient({ hub: null, user: 'ann' }), TypeError);
  assert.throws(() => new SihliconClient({ hub: { scheduler: {} }, user: '' }), SihliconError);
});
