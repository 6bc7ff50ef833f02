// SPDX-License-Identifier: Apache-2.0
// Settlement: the journal (transfers, pending, top-ups, withdrawals, accounts, history), demand
// pricing, the operator key, the marketplace, reputation and epochs (sealEpoch as a Promise,
// bundles, receipts checked with no hub).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const test = require('node:test');
const assert = require('node:assert/strict');

const sihlicon = require('..');
const { openHub, job, rejects, tempDir } = require('./helpers.js');

test('a top-up past the int64 balance is refused naming the account and changes nothing', async (t) => {
  const { hub } = await openHub(t);
  const m = hub.settlement;
  m.topUp('carol', '9223372036854.775807', 'tx-max');
  await rejects(assert, () => m.topUp('carol', '0.000001', 'tx-one'), 'invalid_argument', 'amount');
  assert.throws(() => m.topUp('carol', '0.000001', 'tx-one'), /client\/carol\/USD/);
  assert.equal(m.account('client/carol/USD').balance, '9223372036854.775807');
  await rejects(assert, () => m.transferById('deposit:tx-one'), 'not_found');
});

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
  // Epoch 1 links to no previous root.
  assert.equal(sealed.previous_root, null);
  assert.equal(JSON.parse(bundle.summaryJson).previous_root, null);
  assert.equal(m.index().epochs[0].epoch_id, sealed.epoch_id);
  assert.equal(await m.sealDueEpoch(), null);

  for (const id of ids) {
    const receipt = m.receipt(id);
    const check = sihlicon.verifyReceipt(receipt, m.operatorAddress());
    assert.deepEqual(check, { status: 'valid', valid: true, signerTrusted: true, problem: '',
      jobId: id, epochId: sealed.epoch_id, signer: m.operatorAddress() });
    assert.equal(sihlicon.verifyReceipt(JSON.stringify(receipt), m.trustedSigners()).valid, true);
    // No trusted signer: consistent only with the key it carries. Never valid.
    const alone = sihlicon.verifyReceipt(JSON.stringify(receipt));
    assert.equal(alone.valid, false);
    assert.equal(alone.status, 'unverified');
    assert.equal(alone.signerTrusted, false);
    assert.match(alone.problem, /unverified/);
  }
  const receipt = m.receipt(ids[0]);
  assert.deepEqual(m.trustedSigners(), [m.operatorAddress()]);
  assert.equal(sihlicon.verifyReceipt(receipt, ['0x' + '1'.repeat(40), m.operatorAddress()]).valid, true);
  // A repeated member name is invalid, not read with the last value.
  const doubled = '{"job_id":"job-other",' + JSON.stringify(receipt).slice(1);
  const refused = sihlicon.verifyReceipt(doubled, m.operatorAddress());
  assert.equal(refused.status, 'invalid');
  assert.match(refused.problem, /duplicate member name/);
  const tampered = { ...receipt, leaf: receipt.leaf.replace('"client":"ann"', '"client":"eve"') };
  const bad = sihlicon.verifyReceipt(tampered, m.operatorAddress());
  assert.equal(bad.valid, false);
  assert.notEqual(bad.problem, '');
  assert.equal(sihlicon.verifyReceipt('{not json').valid, false);
  const other = '0x' + '1'.repeat(40);
  assert.equal(sihlicon.verifyReceipt(receipt, other).valid, false);
  assert.equal(sihlicon.verifyReceipt(receipt, other).status, 'invalid');
  await rejects(assert, () => sihlicon.verifyReceipt(receipt, '0x12'), 'invalid_argument', 'trustedSigners');
  await rejects(assert, () => sihlicon.verifyReceipt(receipt, ['0x12']), 'invalid_argument', 'trustedSigners[0]');
  await rejects(assert, () => m.receipt('job-unknown'), 'not_found');
  const pendingJob = s.submit(job(), 'ann');
  const [claimed] = s.claim('worker-1');
  s.complete(pendingJob.jobId, claimed.lease.token, {});
  await rejects(assert, () => m.receipt(pendingJob.jobId), 'conflict');
  assert.equal(sihlicon.proofOfExecution('job-1', 'ab', 'worker-1').length, 64);
});

test('a receipt self-signed by a fresh key over a made-up epoch is never valid', async (t) => {
  const { hub } = await openHub(t);
  const forger = (await openHub(t)).hub;
  const runAndSeal = async (h) => {
    const submitted = h.scheduler.submit(job(), 'ann');
    const [claimed] = h.scheduler.claim('worker-1');
    h.scheduler.complete(submitted.jobId, claimed.lease.token, {});
    await h.settlement.sealEpoch();
    return submitted.jobId;
  };
  await runAndSeal(hub);
  const forged = forger.settlement.receipt(await runAndSeal(forger));
  assert.notEqual(forger.settlement.operatorAddress(), hub.settlement.operatorAddress());
  const alone = sihlicon.verifyReceipt(forged);
  assert.equal(alone.status, 'unverified');
  assert.equal(alone.valid, false);
  const against = sihlicon.verifyReceipt(forged, hub.settlement.trustedSigners());
  assert.equal(against.status, 'invalid');
  assert.equal(against.valid, false);
  assert.match(against.problem, /not a trusted signer/);
  assert.equal(sihlicon.verifyReceipt(forged, forger.settlement.trustedSigners()).valid, true);
});

const OPERATOR_KEY = '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318';

test('a charged job\'s price follows the demand for its queue, and chargeOf shows why', async (t) => {
  const { hub } = await openHub(t, { hub: { settlement: {
    chargeJobs: true, demandMinPpm: 800000, demandMaxPpm: 2000000, demandFullQueueDepth: 2 } } });
  const m = hub.settlement;
  const options = m.options();
  assert.equal(options.demandMinPpm, 800000);
  assert.equal(options.demandMaxPpm, 2000000);
  assert.equal(options.demandFullQueueDepth, 2);
  assert.equal(options.chargeJobs, true);
  assert.equal(options.defaultPrice, '0.100000');
  m.topUp('ann', '1.00', 'tx-1');
  const idle = hub.scheduler.submit(job(), 'ann');
  assert.deepEqual(m.chargeOf(idle.jobId), {
    jobId: idle.jobId, client: 'ann', jobType: 'ocr', basePrice: '0.100000', multiplierPpm: 800000,
    price: '0.080000', currency: 'USD', queueDepth: 0, utilisationPpm: 0, status: 'reserved' });
  // One job ahead of a queue full at two: demand (500,000 + 0) / 2, so 1.1×.
  const busier = m.chargeOf(hub.scheduler.submit(job(), 'ann').jobId);
  assert.equal(busier.queueDepth, 1);
  assert.equal(busier.multiplierPpm, 1100000);
  assert.equal(busier.price, '0.110000');
  assert.equal(m.jobCharge(idle.jobId).amount, '0.080000');
  assert.equal(m.chargeOf('job-unknown'), null);
});

test('demand options out of order or of the wrong type are refused at open', async (t) => {
  const directory = tempDir();
  t.after(() => fs.rmSync(directory, { recursive: true, force: true }));
  await rejects(assert, () => sihlicon.Hub.open(directory, {
    settlement: { demandMinPpm: 2000000, demandMaxPpm: 1000000 } }), 'invalid_argument',
    'settlement.demandMaxPpm');
  await rejects(assert, () => sihlicon.Hub.open(directory, {
    settlement: { demandFullQueueDepth: 'deep' } }), 'invalid_argument', 'settlement.demandFullQueueDepth');
});

test('the operator key is generated or imported into the key file', async (t) => {
  const { hub, directory } = await openHub(t);
  const m = hub.settlement;
  const keyFile = m.operatorKeyFile();
  assert.equal(keyFile, path.join(directory, 'operator.key'));
  assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
  const first = m.operatorAddress();
  const generated = m.generateOperatorKey();
  assert.notEqual(generated, first);
  assert.equal(m.operatorAddress(), generated);
  const imported = m.importOperatorKey(OPERATOR_KEY);
  assert.equal(imported, '0x2c7536E3605D9C16a7a3D7b1898e529396a65c23');
  assert.equal(fs.readFileSync(keyFile, 'utf8').trim(), OPERATOR_KEY);
  await rejects(assert, () => m.importOperatorKey('0x12'), 'invalid_argument', 'key');
  await rejects(assert, () => m.importOperatorKey(42), 'invalid_argument', 'key');
  assert.equal(m.operatorAddress(), imported);
  const sealed = await m.sealEpoch();
  assert.equal(sealed.signer, imported);
  await rejects(assert, () => m.generateOperatorKey(), 'conflict', 'key');
  await rejects(assert, () => m.generateOperatorKey({ replaceSigner: 'yes' }), 'invalid_argument', 'replaceSigner');
  assert.notEqual(m.generateOperatorKey({ replaceSigner: true }), imported);
  assert.equal(m.epoch(sealed.epoch_id).signer, imported);  // sealed epochs keep their signature
});

test('a hub operator is topped up; deposits, withdrawals and expiry are totalled', async (t) => {
  const { hub, clock } = await openHub(t);
  const m = hub.settlement;
  const pool = { kind: 'hub_operator', owner: 'zurich-1' };
  const deposit = m.topUp(pool, '10.00', 'wire-1');
  assert.equal(deposit.creditAccount, 'hub_operator/zurich-1/USD');
  assert.equal(deposit.kind, 'deposit');
  assert.equal(m.topUp(pool, '10.00', 'wire-1').exists, true);
  await rejects(assert, () => m.topUp(pool, '11.00', 'wire-1'), 'conflict');
  assert.equal(m.account(pool).balance, '10.000000');
  await rejects(assert, () => m.topUp({ kind: 'worker', owner: 'worker-1' }, '1.00', 'wire-2'),
    'invalid_argument', 'kind');
  await rejects(assert, () => m.topUp({ ...pool, currency: 'CHF' }, '1.00', 'wire-3', 'USD'),
    'invalid_argument', 'currency');
  m.topUp('ann', '2.00', 'tx-1');
  m.withdraw('client', 'ann', '0.50', 'ann-out-1');
  assert.deepEqual(m.deposits(), { USD: '12.000000' });
  assert.deepEqual(m.withdrawals(), { USD: '0.500000' });
  m.transfer({ id: 'hold-1', debit: 'client/ann/USD', credit: 'client/bob/USD', amount: '1.00',
    pending: true, timeoutAt: clock.nowMs() + 60000 });
  assert.equal(m.expirePending(), 0);
  clock.advanceMs(120000);
  assert.equal(m.expirePending(), 1);
  assert.equal(m.transferById('hold-1').status, 'expired');
});

test('a market transaction reserves its total, then pays it or releases it', async (t) => {
  const { hub } = await openHub(t);
  hub.scheduler.registerHub({ hubId: 'basel-1', name: 'Basel 1', site: 'rhein', region: 'CH',
    heatRecoveryPpm: 900000, powerCapacityW: 20000 });
  const m = hub.settlement;
  m.topUp({ kind: 'hub_operator', owner: 'zurich-1' }, '10.00', 'wire-1');
  const heat = { id: 'm-1', type: 'heat', buyerHub: 'zurich-1', sellerHub: 'basel-1', quantity: 5000,
    unitPrice: '0.001', reference: 'order-7' };
  const created = m.createMarketTransaction(heat);
  assert.equal(created.status, 'pending');
  assert.equal(created.unit, 'Wh');
  assert.equal(created.total, '5.000000');
  assert.equal(created.transferId, 'market:m-1:reserve');
  assert.equal(created.resolutionId, null);
  assert.equal(m.account('hub_operator/zurich-1/USD').available, '5.000000');
  assert.equal(m.createMarketTransaction(heat).id, 'm-1');
  await rejects(assert, () => m.createMarketTransaction({ ...heat, quantity: 1 }), 'conflict', 'id');
  const settled = m.settleMarketTransaction('m-1');
  assert.equal(settled.status, 'settled');
  assert.equal(settled.resolutionId, 'market:m-1:settle');
  assert.equal(typeof settled.resolvedAt, 'string');
  assert.equal(m.account('hub_operator/basel-1/USD').balance, '5.000000');
  assert.equal(m.settleMarketTransaction('m-1').status, 'settled');
  await rejects(assert, () => m.cancelMarketTransaction('m-1'), 'conflict', 'id');
  m.createMarketTransaction({ id: 'm-2', type: 'compute', buyerHub: 'zurich-1', sellerHub: 'basel-1',
    quantity: 2, unitPrice: '1.00' });
  const cancelled = m.cancelMarketTransaction('m-2');
  assert.equal(cancelled.status, 'cancelled');
  assert.equal(cancelled.unit, 'job');
  assert.equal(m.account('hub_operator/zurich-1/USD').available, '5.000000');
  assert.deepEqual(m.marketTransaction('m-2'), cancelled);
  assert.deepEqual(m.marketTransactions({ hub: 'basel-1' }).map((x) => x.id), ['m-2', 'm-1']);
  assert.deepEqual(m.marketTransactions({ status: 'settled' }).map((x) => x.id), ['m-1']);
  assert.deepEqual(m.marketTransactions({ type: 'compute', limit: 1 }).map((x) => x.id), ['m-2']);
  assert.deepEqual(m.marketTransactions().map((x) => x.id), ['m-2', 'm-1']);
  await rejects(assert, () => m.marketTransactions({ limit: 0 }), 'invalid_argument', 'limit');
  await rejects(assert, () => m.marketTransactions({ status: 'open' }), 'invalid_argument', 'status');
});

test('a market transaction with a bad field writes nothing', async (t) => {
  const { hub } = await openHub(t);
  hub.scheduler.registerHub({ hubId: 'basel-1', name: 'Basel 1', site: 'rhein', region: 'CH',
    heatRecoveryPpm: 900000, powerCapacityW: 20000 });
  const m = hub.settlement;
  m.topUp({ kind: 'hub_operator', owner: 'zurich-1' }, '1.00', 'wire-1');
  const request = { id: 'm-1', type: 'energy', buyerHub: 'zurich-1', sellerHub: 'basel-1', quantity: 1,
    unitPrice: '0.50' };
  await rejects(assert, () => m.createMarketTransaction({ ...request, quantity: 0 }), 'invalid_argument', 'quantity');
  await rejects(assert, () => m.createMarketTransaction({ ...request, quantity: 1.5 }), 'invalid_argument', 'quantity');
  await rejects(assert, () => m.createMarketTransaction({ ...request, unitPrice: 2 }), 'invalid_argument', 'unitPrice');
  await rejects(assert, () => m.createMarketTransaction({ ...request, type: 'gold' }), 'invalid_argument', 'type');
  await rejects(assert, () => m.createMarketTransaction({ ...request, sellerHub: 'nowhere' }), 'not_found', 'sellerHub');
  await rejects(assert, () => m.createMarketTransaction({ ...request, quantity: 3 }), 'insufficient_funds');
  await rejects(assert, () => m.settleMarketTransaction('m-1'), 'not_found', 'id');
  await rejects(assert, () => m.marketTransaction('m-1'), 'not_found', 'id');
  assert.deepEqual(m.marketTransactions(), []);
  assert.equal(m.account('hub_operator/zurich-1/USD').available, '1.000000');
});

test('reputation counts a worker\'s ended attempts and sums them per hub', async (t) => {
  const { hub } = await openHub(t);
  const s = hub.scheduler;
  s.registerWorker({ workerId: 'worker-2', hubId: 'zurich-1', executors: ['native', 'container'], cpu: '8', memory: '16Gi' });
  for (let i = 0; i < 2; i++) {
    const submitted = s.submit(job(), 'ann');
    const [claimed] = s.claim('worker-1');
    s.complete(submitted.jobId, claimed.lease.token, {});
  }
  const m = hub.settlement;
  const worker = m.workerReputation('worker-1');
  assert.equal(worker.subject, 'worker');
  assert.equal(worker.id, 'worker-1');
  assert.deepEqual([worker.attempts, worker.successes, worker.onTime], [2, 2, 2]);
  assert.equal(worker.successRatePpm, 1000000);
  assert.equal(worker.onTimeRatePpm, 1000000);
  const newcomer = m.workerReputation('worker-2');
  assert.deepEqual([newcomer.attempts, newcomer.successRatePpm], [0, 0]);
  const site = m.hubReputation('zurich-1');
  assert.equal(site.subject, 'hub');
  assert.deepEqual([site.attempts, site.successes], [2, 2]);
  assert.deepEqual(m.reputations().map((r) => r.id), ['worker-1', 'worker-2']);
  assert.deepEqual(m.reputations('hub').map((r) => r.id), ['zurich-1']);
  await rejects(assert, () => m.workerReputation('worker-99'), 'not_found', 'workerId');
  await rejects(assert, () => m.hubReputation('nowhere'), 'not_found', 'hubId');
  await rejects(assert, () => m.reputations('team'), 'invalid_argument', 'subject');
});

test('a payout is pending until withdrawn; each epoch signs the previous root', async (t) => {
  const { hub } = await openHub(t, { hub: { settlement: { chargeJobs: true } } });
  const m = hub.settlement;
  m.topUp('ann', '1.00', 'tx-1');
  const submitted = hub.scheduler.submit(job(), 'ann');
  const [claimed] = hub.scheduler.claim('worker-1');
  hub.scheduler.complete(submitted.jobId, claimed.lease.token, { resultHash: 'r'.repeat(64) });
  const sealed = await m.sealEpoch();
  const [payout] = m.epochPayouts(sealed.epoch_id);
  assert.equal(payout.total_payout, '0.093000');
  assert.equal(payout.status, 'pending');
  assert.equal(sealed.total_distributed, '0.093000');
  m.withdraw('worker', 'worker-1', '0.093000', 'payout-out-1', { externalReference: '0xl1' });
  assert.equal(m.epochPayouts(sealed.epoch_id)[0].status, 'paid');
  const next = await m.sealEpoch();
  assert.equal(next.previous_root, sealed.jobs_merkle_root);
  assert.equal(JSON.parse(m.epochBundle(next.epoch_id).summaryJson).previous_root, sealed.jobs_merkle_root);
});
