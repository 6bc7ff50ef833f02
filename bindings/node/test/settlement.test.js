// SPDX-License-Identifier: Apache-2.0
// Settlement: the journal (transfers, pending, top-ups, withdrawals, accounts, history) and
// epochs (sealEpoch as a Promise, bundles, receipts checked with no hub).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');

const sihlicon = require('..');
const { openHub, job, rejects } = require('./helpers.js');

test('top-ups, transfers, pending transfers, withdrawals, accounts and history', async (t) => {
  const { hub } = await openHub(t);
  const m = hub.settlement;
  const deposit = m.topUp('ann', '10.00', '0xfeed');
  assert.equal(deposit.amount, '10.000000');
  assert.equal(deposit.kind, 'deposit');
  assert.equal(m.topUp('ann', '10.00', '0xfeed').exists, true);
  await rejects(assert, () => m.topUp('ann', '11.00', '0xfeed'), 'conflict');
  const moved = m.transfer({ id: 'gift-1', debit: 'client/ann/USD', credit: { kind: 'client', owner: 'bob' },
    amount: '2.50', kind: 'transfer', reference: 'birthday' });
  assert.equal(moved.status, 'posted');
  assert.equal(m.account({ kind: 'client', owner: 'bob' }).balance, '2.500000');
  const held = m.transfer({ id: 'hold-1', debit: 'client/ann/USD', credit: 'client/bob/USD',
    amount: '1.00', pending: true });
  assert.equal(held.status, 'pending');
  assert.equal(m.account('client/ann/USD').available, '6.500000');
  assert.equal(m.postPending('hold-1-post', 'hold-1', '0.40').amount, '0.400000');
  const second = m.transfer({ id: 'hold-2', debit: 'client/ann/USD', credit: 'client/bob/USD',
    amount: '1.00', pending: true });
  assert.equal(m.voidPending('hold-2-void', second.id).status, 'voided');
  await rejects(assert, () => m.voidPending('hold-2-again', second.id), 'conflict');
  assert.equal(m.account('client/ann/USD').balance, '7.100000');
  await rejects(assert, () => m.transfer({ id: 'too-much', debit: 'client/ann/USD',
    credit: 'client/bob/USD', amount: '100.00' }), 'insufficient_funds');
  const out = m.withdraw('client', 'bob', '1.00', 'bob-out-1', { externalReference: '0xbeef' });
  assert.equal(out.kind, 'withdrawal');
  assert.equal(m.transferById('bob-out-1').id, 'bob-out-1');
  await rejects(assert, () => m.transferById('none'), 'not_found');
  assert.deepEqual(m.accounts('client').map((a) => a.owner).sort(), ['ann', 'bob']);
  assert.ok(m.accounts().length >= 3);
  const history = m.history('client/ann/USD', 10);
  assert.equal(history[0].transferId, 'hold-1-post');
  assert.equal(history.at(-1).txType, 'deposit');
  await rejects(assert, () => m.account('client/nobody/USD'), 'not_found');
  await rejects(assert, () => m.transfer({ id: 'x', debit: 'client/ann/USD', credit: 'client/bob/USD',
    amount: 1 }), 'invalid_argument', 'amount');
  await rejects(assert, () => m.account('client-ann'), 'invalid_argument', 'account');
});

test('charged jobs reserve, charge and show their charge', async (t) => {
  const { hub } = await openHub(t, { hub: { settlement: { chargeJobs: true } } });
  const m = hub.settlement;
  await rejects(assert, () => hub.scheduler.submit(job(), 'ann'), 'insufficient_funds');
  m.topUp('ann', '1.00', 'tx-1');
  const submitted = hub.scheduler.submit(job(), 'ann');
  assert.deepEqual(m.jobCharge(submitted.jobId), { amount: '0.100000', currency: 'USD', state: 'reserved' });
  const [claimed] = hub.scheduler.claim('worker-1');
  hub.scheduler.complete(submitted.jobId, claimed.lease.token, {});
  assert.equal(m.jobCharge(submitted.jobId).state, 'charged');
  assert.equal(m.jobCharge('job-unknown'), null);
  assert.deepEqual(m.priceOf('ocr'), { amount: '0.100000', currency: 'USD' });
});

test('sealEpoch signs the epoch; receipts verify with no hub, and a tampered one does not', async (t) => {
  const { hub, clock } = await openHub(t);
  const m = hub.settlement;
  const s = hub.scheduler;
  const active = m.currentEpoch();
  assert.equal(active.status, 'active');
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const submitted = s.submit(job(), 'ann');
    const [claimed] = s.claim('worker-1');
    s.complete(submitted.jobId, claimed.lease.token, { resultHash: String(i).repeat(64) });
    ids.push(submitted.jobId);
  }
  clock.advanceMs(1000);
  const sealed = await m.sealEpoch();
  assert.equal(sealed.epoch_id, active.epoch_id);
  assert.equal(sealed.status, 'finalized');
  assert.equal(sealed.jobs_count, 3);
  assert.equal(sealed.signer, m.operatorAddress());
  assert.equal(m.epoch(sealed.epoch_id).jobs_merkle_root, sealed.jobs_merkle_root);
  assert.equal(m.epochs().length, 2);  // the sealed one and the new active one
  assert.deepEqual(m.epochJobs(sealed.epoch_id).map((j) => j.job_id), [...ids].sort());
  assert.equal(m.epochPayouts(sealed.epoch_id)[0].worker, 'worker-1');
  const bundle = m.epochBundle(sealed.epoch_id);
  assert.equal(JSON.parse(bundle.summaryJson).jobs_merkle_root, sealed.jobs_merkle_root);
  assert.equal(m.index().epochs[0].epoch_id, sealed.epoch_id);
  assert.equal(await m.sealDueEpoch(), null);

  for (const id of ids) {
    const receipt = m.receipt(id);
    const check = sihlicon.verifyReceipt(receipt, m.operatorAddress());
    assert.deepEqual(check, { valid: true, problem: '', jobId: id, epochId: sealed.epoch_id,
      signer: m.operatorAddress() });
    assert.equal(sihlicon.verifyReceipt(JSON.stringify(receipt)).valid, true);
  }
  const receipt = m.receipt(ids[0]);
  const tampered = { ...receipt, leaf: receipt.leaf.replace('"client":"ann"', '"client":"eve"') };
  const bad = sihlicon.verifyReceipt(tampered);
  assert.equal(bad.valid, false);
  assert.notEqual(bad.problem, '');
  assert.equal(sihlicon.verifyReceipt('{not json').valid, false);
  const other = '0x' + '1'.repeat(40);
  assert.equal(sihlicon.verifyReceipt(receipt, other).valid, false);
  await rejects(assert, () => sihlicon.verifyReceipt(receipt, '0x12'), 'invalid_argument', 'expectedSigner');
  await rejects(assert, () => m.receipt('job-unknown'), 'not_found');
  const pendingJob = s.submit(job(), 'ann');
  const [claimed] = s.claim('worker-1');
  s.complete(pendingJob.jobId, claimed.lease.token, {});
  await rejects(assert, () => m.receipt(pendingJob.jobId), 'conflict');
  assert.equal(sihlicon.proofOfExecution('job-1', 'ab', 'worker-1').length, 64);
});
