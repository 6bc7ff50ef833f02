// SPDX-License-Identifier: Apache-2.0
// Interop with independent peers from npm: epoch signatures recovered by ethers (EIP-191), and
// CIDs recomputed by multiformats from the same bytes.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { verifyMessage, getAddress, keccak256, toUtf8Bytes } from 'ethers';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';

import { Hub, ManualClock, computeCid, eip191Sign, eip191Verify, proofOfExecution } from '../index.mjs';

async function openHub(t) {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'sihlicon-node-interop-'));
  const hub = await Hub.open(directory, { clock: new ManualClock(Date.parse('2026-01-05T08:00:00Z')) });
  t.after(async () => {
    await hub.close();
    fs.rmSync(directory, { recursive: true, force: true });
  });
  hub.scheduler.registerHub({ hubId: 'zurich-1', name: 'Zurich', site: 's', region: 'CH', heatRecoveryPpm: 900000, powerCapacityW: 20000 });
  hub.scheduler.registerWorker({ workerId: 'worker-1', hubId: 'zurich-1', executors: ['native', 'container'], cpu: '4', memory: '8Gi' });
  return hub;
}

async function rawCid(bytes) {
  return CID.create(1, raw.code, await sha256.digest(bytes)).toString();
}

test('ethers recovers the operator from each sealed epoch\'s SUMMARY.json signature', async (t) => {
  const hub = await openHub(t);
  const s = hub.scheduler;
  for (let epoch = 0; epoch < 3; epoch++) {
    for (let i = 0; i <= epoch; i++) {
      const submitted = s.submit({ jobType: 'ocr', jobName: `job ${epoch}.${i}`,
        workloadConfig: { containerImage: 'tesseract/tesseract:latest' } }, 'ann');
      const [claimed] = s.claim('worker-1');
      s.complete(submitted.jobId, claimed.lease.token, { resultHash: keccak256(toUtf8Bytes(submitted.jobId)).slice(2) });
    }
    const sealed = await hub.settlement.sealEpoch();
    const bundle = hub.settlement.epochBundle(sealed.epoch_id);
    assert.equal(sealed.signer, getAddress(sealed.signer));  // EIP-55 form
    assert.equal(verifyMessage(bundle.summaryJson, sealed.signature), sealed.signer);
    // SIGNATURE.txt: the signer's address, then the signature, one per line.
    const [signer, signature] = bundle.signatureTxt.trim().split('\n');
    assert.equal(signer, hub.settlement.operatorAddress());
    assert.equal(signature, sealed.signature);
    assert.equal(verifyMessage(bundle.summaryJson, signature), signer);
    // A receipt's embedded summary and signature recover the same signer.
    const [leaf] = hub.settlement.epochJobs(sealed.epoch_id);
    const receipt = hub.settlement.receipt(leaf.job_id);
    assert.equal(verifyMessage(receipt.summary, receipt.signature), sealed.signer);
    // One changed byte of the summary recovers someone else.
    assert.notEqual(verifyMessage(bundle.summaryJson + ' ', sealed.signature), sealed.signer);
    // The epoch's files are stored under the CIDs multiformats computes for their bytes.
    for (const [name, text] of [['SUMMARY.json', bundle.summaryJson], ['jobs.json', bundle.jobsJson],
      ['agents.json', bundle.agentsJson], ['SIGNATURE.txt', bundle.signatureTxt]]) {
      assert.equal(sealed.artifacts[name], await rawCid(new TextEncoder().encode(text)), name);
    }
  }
});

test('multiformats computes the CIDs of single-block content, and parses multi-block ones', async (t) => {
  const hub = await openHub(t);
  for (const size of [0, 1, 1000, 262_144]) {
    const bytes = Buffer.alloc(size, size % 256);
    const manifest = await hub.contentStore.put(bytes, 'ann');
    assert.equal(manifest.contentId, await rawCid(bytes), `size ${size}`);
    assert.equal(await computeCid(bytes), manifest.contentId);
  }
  const big = Buffer.alloc(1_000_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) % 256;
  const manifest = await hub.contentStore.put(big, 'ann');
  const cid = CID.parse(manifest.contentId);
  assert.equal(cid.version, 1);
  assert.equal(cid.code, 0x70);  // dag-pb: a UnixFS file of several blocks
  assert.equal(cid.multihash.code, sha256.code);
  assert.equal(cid.multihash.digest.length, 32);
  assert.equal(cid.toString(), manifest.contentId);
  assert.equal(await computeCid(big), manifest.contentId);
  // Each 256 KiB leaf of it is a raw block whose CID multiformats computes the same way.
  const leaf = big.subarray(0, 262_144);
  assert.equal(await computeCid(leaf), await rawCid(leaf));
});

test('eip191Sign signs as ethers verifies; eip191Verify checks what ethers signs', async () => {
  const { Wallet } = await import('ethers');
  const wallet = Wallet.createRandom();
  const proof = proofOfExecution('job-1', 'result-1', 'worker-1');
  const signature = eip191Sign(wallet.privateKey, proof);
  assert.equal(verifyMessage(proof, signature), wallet.address);
  assert.equal(signature, await wallet.signMessage(proof));  // RFC 6979: the same bytes
  assert.equal(eip191Verify(proof, await wallet.signMessage(proof), wallet.address), true);
  assert.equal(eip191Verify(Buffer.from(proof), signature, wallet.address), true);
  assert.equal(eip191Verify('another message', signature, wallet.address), false);
  assert.equal(eip191Verify(proof, signature, Wallet.createRandom().address), false);
  assert.throws(() => eip191Sign('0x12', proof), (e) => e.code === 'invalid_argument' && e.field === 'privateKey');
  assert.throws(() => eip191Verify(proof, '0x12', wallet.address), (e) => e.code === 'invalid_argument' && e.field === 'signature');
});

test('with requireWorkerSignatures a completion needs the worker\'s EIP-191 signature', async (t) => {
  const { Wallet } = await import('ethers');
  const wallet = Wallet.createRandom();
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'sihlicon-node-signed-'));
  const hub = await Hub.open(directory, { clock: new ManualClock(Date.parse('2026-01-05T08:00:00Z')),
    settlement: { requireWorkerSignatures: true } });
  t.after(async () => {
    await hub.close();
    fs.rmSync(directory, { recursive: true, force: true });
  });
  assert.equal(hub.settlement.options().requireWorkerSignatures, true);
  hub.scheduler.registerHub({ hubId: 'zurich-1', name: 'Zurich', site: 's', region: 'CH', heatRecoveryPpm: 900000, powerCapacityW: 20000 });
  hub.scheduler.registerWorker({ workerId: 'worker-1', hubId: 'zurich-1', executors: ['native', 'container'], cpu: '4', memory: '8Gi',
    labels: { address: wallet.address } });
  const submitted = hub.scheduler.submit({ jobType: 'ocr', jobName: 'a', workloadConfig: { containerImage: 'x/y:z' } }, 'ann');
  const [claimed] = hub.scheduler.claim('worker-1');
  assert.throws(() => hub.scheduler.complete(submitted.jobId, claimed.lease.token, { resultHash: 'result-1' }),
    (e) => e.code === 'invalid_argument' && e.field === 'workerSignature');
  const proof = proofOfExecution(submitted.jobId, 'result-1', 'worker-1');
  const done = hub.scheduler.complete(submitted.jobId, claimed.lease.token,
    { resultHash: 'result-1', workerSignature: await wallet.signMessage(proof) });
  assert.equal(done.status, 'completed');
});

test('an agent with workerKey signs its completions; a hub requiring signatures takes them', async (t) => {
  const { Wallet } = await import('ethers');
  const wallet = Wallet.createRandom();
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'sihlicon-node-agent-key-'));
  const hub = await Hub.open(directory, { clock: new ManualClock(Date.parse('2026-01-05T08:00:00Z')),
    settlement: { requireWorkerSignatures: true } });
  t.after(async () => {
    await hub.close();
    fs.rmSync(directory, { recursive: true, force: true });
  });
  hub.scheduler.registerHub({ hubId: 'zurich-1', name: 'Zurich', site: 's', region: 'CH', heatRecoveryPpm: 900000, powerCapacityW: 20000 });
  const options = {
    workerId: 'agent-key', hubId: 'zurich-1', hardware: { cpuCores: 2, memoryBytes: 4 * 1024 ** 3 },
    pollIntervalMs: 20,
    executor: async (request) => {
      await fs.promises.writeFile(path.join(request.outputDir, 'answer.txt'), '42');
      return { outcome: 'succeeded', exitCode: 0 };
    },
  };
  const digits = wallet.privateKey.slice(2);
  assert.throws(() => hub.workerAgent({ ...options, workerKey: `zz${digits.slice(2)}` }),
    (e) => e.code === 'invalid_argument' && e.field === 'workerKey' && !e.message.includes(digits.slice(2, 18)));
  assert.throws(() => hub.workerAgent({ ...options, workerKey: new Uint8Array(31) }),
    (e) => e.code === 'invalid_argument' && e.field === 'workerKey');
  for (const workerKey of [wallet.privateKey, Buffer.from(digits, 'hex')]) {
    const agent = hub.workerAgent({ ...options, workerKey });
    const worker = await agent.start();
    // The address ethers derives from the same key.
    assert.equal(worker.labels.address, wallet.address);
    const submitted = hub.scheduler.submit({ jobType: 'ocr', jobName: 'a', workloadConfig: { containerImage: 'x/y:z' } }, 'ann');
    let record = hub.scheduler.job(submitted.jobId);
    for (let i = 0; i < 1000 && !['completed', 'failed'].includes(record.status); ++i) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      record = hub.scheduler.job(submitted.jobId);
    }
    await agent.stop();
    // Completed on a hub that checks each completion's EIP-191 signature of the proof.
    assert.equal(record.status, 'completed', record.errorMessage ?? '');
  }
});
