#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// A hub in a few lines: open it, register a site and a worker, submit a job the way the
// seed's POST /api/compute does, run it, store its output, read the heat credits, seal the
// epoch and check a job's receipt with no hub at all.
//
//   node examples/node/quickstart.mjs [hub-directory]    (default: a new temporary folder)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The package (bindings/node, built by `npm install` there); an application depending on
// `sihlicon` imports it by name.
import { Hub, SihliconClient, verifyReceipt } from '../../bindings/node/index.mjs';

const directory = process.argv[2] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'sihlicon-quickstart-'));
const hub = await Hub.open(directory);
console.log(`hub: ${hub.directory}`);
try {
  const { scheduler, heatLedger, settlement } = hub;
  if (!scheduler.hubs().some((h) => h.hubId === 'zurich-1')) {
    scheduler.registerHub({ hubId: 'zurich-1', name: 'Zurich Sihlquai', site: 'sihlquai', region: 'CH',
      heatRecoveryPpm: 900_000, powerCapacityW: 20_000 });
  }
  scheduler.registerWorker({ workerId: 'worker-1', hubId: 'zurich-1', executors: ['native', 'container'], cpu: '8', memory: '16Gi' });

  // The seed's SDK shape, as a Next.js API route would use it.
  const client = new SihliconClient({ hub, user: 'ann' });
  const input = await client.storage.upload(Buffer.from('Zürich, 1891: 42 bales of cotton\n'),
    { fileName: 'page-1.txt', mimeType: 'text/plain' });
  const job = await client.compute.submit({
    jobType: 'ocr', jobName: 'Process historical ledger',
    workloadConfig: { containerImage: 'tesseract/tesseract:latest', resources: { cpu: '2', memory: '2Gi' } },
    inputDataRefs: [input.contentId],
  });
  console.log(`submitted ${job.jobId}: ${job.status}`);

  // A worker's side: claim, run (here: upper-case the page), store the output, complete.
  const [claimed] = scheduler.claim('worker-1');
  const page = await hub.contentStore.get(input.contentId, 'ann');
  const output = await hub.contentStore.put(Buffer.from(page.toString().toUpperCase()), 'ann');
  const done = scheduler.complete(claimed.lease.jobId, claimed.lease.token,
    { outputDataRefs: [output.contentId], energyKwh: '0.8', resultHash: output.contentId });
  console.log(`completed: ${done.actualComputeKwh} kWh in, ${done.heatGeneratedKwh} kWh of heat out`);

  const credits = await client.heat.getCredits('zurich-1');
  console.log(`heat credit so far: ${credits.heatCreditChf} centimes ${credits.currency} for ${credits.totalHeatKwh} kWh`);

  const epoch = await settlement.sealEpoch();
  const receipt = settlement.receipt(job.jobId);
  // Checked against the operator's published keys, never the key the receipt carries.
  const check = verifyReceipt(JSON.stringify(receipt), settlement.trustedSigners());
  console.log(`epoch ${epoch.epoch_id} sealed by ${epoch.signer}; receipt of ${check.jobId}: ${check.valid ? 'valid' : check.problem}`);
  if (!check.valid) process.exitCode = 1;
} finally {
  await hub.close();
}
