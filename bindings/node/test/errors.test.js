// SPDX-License-Identifier: Apache-2.0
// The error mapping (every ErrorCode a caller can provoke arrives as a SihliconError with its
// .code and .field) and the type tags (a method called on a foreign object throws).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');

const sihlicon = require('..');
const { openHub, job, rejects } = require('./helpers.js');

test('errors carry the library\'s code, the field at fault and its message', async (t) => {
  const { hub } = await openHub(t);
  let caught;
  try {
    hub.scheduler.submit(job({ workloadConfig: { containerImage: 'x', resources: { memory: 'lots' } } }), 'ann');
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof sihlicon.SihliconError);
  assert.ok(caught instanceof Error);
  assert.equal(caught.name, 'SihliconError');
  assert.equal(caught.code, sihlicon.ErrorCode.INVALID_ARGUMENT);
  assert.equal(caught.field, 'workloadConfig.resources.memory');
  assert.match(caught.message, /workloadConfig\.resources\.memory.*lots/);
  assert.match(caught.stack, /errors\.test\.js/);
});

test('fields are named as this API spells them, in .field and in the message', async (t) => {
  const { hub } = await openHub(t);
  let caught;
  try {
    hub.settlement.createMarketTransaction({ id: 'm-1', type: 'heat', buyerHub: 'zurich-1',
      sellerHub: 'zurich-1', quantity: 1, unitPrice: '1.00' });
  } catch (error) {
    caught = error;
  }
  assert.equal(caught.code, 'invalid_argument');
  assert.equal(caught.field, 'sellerHub');  // the library's record says seller_hub
  assert.match(caught.message, /sellerHub/);
  assert.doesNotMatch(caught.message, /seller_hub/);
  // A path keeps the keys the caller chose.
  try {
    hub.scheduler.submit(job({ workloadConfig: { containerImage: 'x', resources: { memory: 'lots' } } }), 'ann');
  } catch (error) {
    caught = error;
  }
  assert.equal(caught.field, 'workloadConfig.resources.memory');
});

test('every code a caller can provoke is mapped', async (t) => {
  const { hub } = await openHub(t, { hub: { settlement: { chargeJobs: true } } });
  const codes = sihlicon.ErrorCode;
  await rejects(assert, () => hub.scheduler.job('job-none'), codes.NOT_FOUND, 'jobId');
  await rejects(assert, () => hub.scheduler.registerHub({ hubId: 'zurich-1', name: 'Z', site: 's', region: 'CH' }),
    codes.CONFLICT);
  await rejects(assert, () => hub.scheduler.submit(job(), 'ann'), codes.INSUFFICIENT_FUNDS);
  const secret = await hub.contentStore.put(Buffer.from('secret'), 'ann');
  await rejects(assert, () => hub.contentStore.get(secret.contentId, 'eve'), codes.NOT_FOUND, 'contentId');
  const open = await hub.contentStore.put(Buffer.from('open'), 'ann', { accessLevel: 'public' });
  await rejects(assert, () => hub.contentStore.remove(open.contentId, 'eve'), codes.PERMISSION_DENIED);
  hub.contentStore.setQuota('eve', { uploadBytesPerHour: 1 });
  await rejects(assert, () => hub.contentStore.put(Buffer.from('too big'), 'eve'), codes.QUOTA_EXCEEDED);
  await rejects(assert, () => hub.scheduler.claim(42), codes.INVALID_ARGUMENT, 'workerId');
  await rejects(assert, () => hub.scheduler.claim('worker-1', 1.5), codes.INVALID_ARGUMENT, 'max');
  await rejects(assert, () => hub.scheduler.claim('worker-1', 2 ** 60), codes.INVALID_ARGUMENT, 'max');
  assert.equal(hub.scheduler.claim('worker-1', 2n).length, 0);  // BigInt integers are accepted
  await rejects(assert, () => hub.scheduler.submit(42), codes.INVALID_ARGUMENT, 'request');
  await rejects(assert, () => hub.heatLedger.credits('zurich-1', 'yesterday'), codes.INVALID_ARGUMENT, 'start');
  await rejects(assert, () => hub.heatLedger.credits('zurich-1', new Date(NaN)), codes.INVALID_ARGUMENT, 'start');
  assert.deepEqual(Object.values(codes).sort(), ['busy', 'conflict', 'insufficient_funds', 'integrity',
    'internal', 'invalid_argument', 'io', 'not_found', 'permission_denied', 'quota_exceeded']);
});

test('a method called on a foreign object throws a TypeError instead of misreading it', async (t) => {
  const { hub } = await openHub(t);
  const foreign = [hub.contentStore, hub.heatLedger, hub.settlement, hub, {}, Object.create(sihlicon.Scheduler.prototype)];
  for (const object of foreign) {
    assert.throws(() => sihlicon.Scheduler.prototype.job.call(object, 'job-1'),
      { name: 'TypeError', message: 'not a sihlicon.Scheduler' });
  }
  assert.throws(() => sihlicon.HeatLedger.prototype.stats.call(hub.scheduler, 'zurich-1'), TypeError);
  assert.throws(() => sihlicon.Hub.prototype.info.call(hub.settlement), TypeError);
  assert.throws(() => sihlicon.ManualClock.prototype.nowMs.call(hub), TypeError);
  // A Promise-returning method rejects instead.
  await assert.rejects(sihlicon.ContentStore.prototype.put.call(hub.scheduler, Buffer.from('x'), 'ann'), TypeError);
  await assert.rejects(sihlicon.Settlement.prototype.sealEpoch.call({}), TypeError);
  // Handles are made by the library only.
  for (const cls of [sihlicon.Hub, sihlicon.Scheduler, sihlicon.ContentStore, sihlicon.HeatLedger, sihlicon.Settlement]) {
    assert.throws(() => new cls(), TypeError);
  }
  await assert.rejects(sihlicon.Hub.open('/tmp/x', { clock: hub }), TypeError);
});

test('a non-ASCII CID is refused with a message that never cuts a character', async (t) => {
  const { hub } = await openHub(t);
  // The message shows 120 bytes of the value: at one of these offsets each character lands
  // across that limit.
  for (let prefix = 110; prefix < 124; prefix++) {
    for (const character of ['é', '€', '🔥']) {
      const cid = 'baf' + 'y'.repeat(prefix - 3) + character.repeat(4);
      let caught;
      try {
        await hub.contentStore.get(cid, 'ann');
      } catch (error) {
        caught = error;
      }
      assert.ok(caught instanceof sihlicon.SihliconError, String(caught));
      assert.equal(caught.code, 'invalid_argument');
      assert.ok(!caught.message.includes('\ufffd'), caught.message);
    }
  }
});

test('a job name with a control character, or JSON repeating a name, is refused', async (t) => {
  const { hub } = await openHub(t);
  for (const jobName of ['two\nlines', 'bell\u0007', 'rlo\u202eexe', 'c1\u0085']) {
    await rejects(assert, () => hub.scheduler.submit(job({ jobName }), 'ann'), 'invalid_argument', 'jobName');
  }
  const text = '{"jobType":"ocr","jobName":"a","jobName":"b","workloadConfig":{"containerImage":"i"}}';
  let caught;
  try {
    hub.scheduler.submit(text, 'ann');
  } catch (error) {
    caught = error;
  }
  assert.equal(caught.code, 'invalid_argument');
  assert.match(caught.message, /duplicate member name/);
});
