// SPDX-License-Identifier: Apache-2.0
// examples/node/rest-server.mjs over loopback: every route of the seed's contract, the
// multipart upload, the error shape and status codes, and the rate-limit headers.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ContentStore, HeatLedger, Hub, ManualClock, Server, SihliconError } from '../index.mjs';
import { startServer, API_REQUESTS_PER_HOUR } from '../../../examples/node/rest-server.mjs';

const START = Date.parse('2026-01-05T08:00:00Z');
const ANN = 'sihlhack_session=secret-ann';
const BOB = 'sihlhack_session=secret-bob';
const OPERATOR = 'sihlhack_session=secret-op';

async function serve(t) {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'sihlicon-node-rest-'));
  const clock = new ManualClock(START);
  const hub = await Hub.open(directory, { clock, durability: 'process_crash' });
  hub.scheduler.registerHub({ hubId: 'zurich-1', name: 'Zurich', site: 's', region: 'CH',
    heatRecoveryPpm: 900000, powerCapacityW: 20000 });
  const server = await startServer(hub, {
    sessions: { 'secret-ann': 'ann', 'secret-bob': 'bob', 'secret-op': 'olga' },
    operators: ['olga'],
  });
  const base = `http://127.0.0.1:${server.address().port}`;
  t.after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await hub.close();
    fs.rmSync(directory, { recursive: true, force: true });
  });
  const call = async (method, url, { cookie = ANN, json, body, headers = {} } = {}) => {
    const init = { method, headers: { ...headers } };
    if (cookie) init.headers.cookie = cookie;
    if (json !== undefined) {
      init.body = JSON.stringify(json);
      init.headers['content-type'] = 'application/json';
    } else if (body !== undefined) {
      init.body = body;
    }
    const response = await fetch(base + url, init);
    return { status: response.status, headers: response.headers, body: await response.json() };
  };
  return { hub, clock, call, base };
}

const ocr = {
  jobType: 'ocr', jobName: 'Process historical ledger', hubId: 'zurich-1',
  workloadConfig: { containerImage: 'tesseract/tesseract:latest', command: ['tesseract', '/input/page.png', '/output'],
    resources: { cpu: '2', memory: '2Gi' } },
  estimatedComputeKwh: 0.5, priority: 10,
};

test('compute: hubId prefers a hub; GET /api/compute?hubId= lists the jobs preferring and run on it', async (t) => {
  const { hub, clock, call } = await serve(t);
  hub.scheduler.registerHub({ hubId: 'lake', name: 'Lake', site: 'l', region: 'CH' });  // no worker
  hub.scheduler.registerWorker({ workerId: 'bee-01', hubId: 'zurich-1', cpu: '8', memory: '16Gi',
    executors: ['native', 'container'] });
  const { body } = await call('POST', '/api/compute', { json: { ...ocr, hubId: 'lake' } });
  assert.deepEqual(hub.scheduler.claim('bee-01'), []);
  clock.advanceMs(60_000);
  assert.equal(hub.scheduler.claim('bee-01')[0].job.jobId, body.jobId);
  for (const where of ['lake', 'zurich-1']) {
    const listed = await call('GET', `/api/compute?hubId=${where}`);
    assert.deepEqual(listed.body.jobs.map((j) => j.jobId), [body.jobId], where);
    assert.equal(listed.body.jobs[0].runHubId, 'zurich-1');
  }
  const pinned = await call('POST', '/api/compute', { json: { ...ocr, hubId: 'lake', constraints: { pinHub: 'lake' } } });
  assert.equal(pinned.status, 200);
  assert.equal((await call('GET', `/api/compute/${pinned.body.jobId}`)).body.job.pinHub, 'lake');
  const unknown = await call('POST', '/api/compute', { json: { ...ocr, hubId: undefined, constraints: { pinHub: 'nowhere' } } });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.details.field, 'constraints.pinHub');
});

test('compute: submit, status, list and cancel with the seed\'s shapes', async (t) => {
  const { call } = await serve(t);
  const submitted = await call('POST', '/api/compute', { json: ocr });
  assert.equal(submitted.status, 200);
  assert.equal(submitted.body.success, true);
  const { jobId } = submitted.body;
  const status = await call('GET', `/api/compute/${jobId}`);
  assert.equal(status.body.job.jobId, jobId);
  assert.equal(status.body.job.status, 'queued');
  const list = await call('GET', '/api/compute?hubId=zurich-1&status=queued&limit=5');
  assert.deepEqual(list.body.jobs.map((j) => j.jobId), [jobId]);
  assert.deepEqual((await call('GET', '/api/compute?hubId=zurich-1', { cookie: BOB })).body.jobs, []);
  assert.equal((await call('GET', `/api/compute/${jobId}`, { cookie: BOB })).status, 404);
  assert.equal((await call('DELETE', `/api/compute/${jobId}`, { cookie: BOB })).status, 404);
  const cancelled = await call('DELETE', `/api/compute/${jobId}`);
  assert.deepEqual(cancelled.body, { success: true, message: 'Job cancelled' });
  const again = await call('DELETE', `/api/compute/${jobId}`);
  assert.equal(again.status, 409);
  assert.equal(again.body.details.code, 'conflict');
});

test('validation errors are 400 with {error, details}; the seed\'s other codes follow', async (t) => {
  const { call } = await serve(t);
  const bad = await call('POST', '/api/compute', { json: { ...ocr, workloadConfig: { containerImage: 'x', resources: { memory: 'lots' } } } });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /workloadConfig\.resources\.memory/);
  assert.deepEqual(bad.body.details, { code: 'invalid_argument', field: 'workloadConfig.resources.memory' });
  assert.equal((await call('POST', '/api/compute', { body: '{not json', headers: { 'content-type': 'application/json' } })).status, 400);
  assert.equal((await call('GET', '/api/compute')).body.details.field, 'hubId');
  assert.equal((await call('GET', '/api/compute?hubId=zurich-1&status=lost')).status, 400);
  assert.equal((await call('GET', '/api/compute?hubId=zurich-1&limit=many')).status, 400);
  const anonymous = await call('GET', '/api/compute?hubId=zurich-1', { cookie: null });
  assert.equal(anonymous.status, 401);
  assert.deepEqual(anonymous.body, { error: 'not authenticated' });
  assert.equal((await call('GET', '/api/compute?hubId=zurich-1', { cookie: 'sihlhack_session=forged' })).status, 401);
  assert.equal((await call('GET', '/api/nothing')).status, 404);
  const wrong = await call('PUT', '/api/compute');
  assert.equal(wrong.status, 405);
  assert.deepEqual(wrong.body.details, { allow: ['GET', 'POST'] });
  // The seed's 10 submissions per hour: the 11th is 429 from the library's limit.
  for (let i = 0; i < 10; i++) assert.equal((await call('POST', '/api/compute', { cookie: BOB, json: ocr })).status, 200);
  const limited = await call('POST', '/api/compute', { cookie: BOB, json: ocr });
  assert.equal(limited.status, 429);
  assert.equal(limited.body.details.code, 'quota_exceeded');
});

test('request bodies are read by the library\'s strict parser', async (t) => {
  const { call } = await serve(t);
  const text = JSON.stringify({ ...ocr, jobName: 'Process ledger' });
  const headers = { 'content-type': 'application/json' };
  const bodies = [
    '{"jobName":"first",' + text.slice(1),  // a repeated member name
    text.replace('"Process', '"\\ud800Process'),  // a lone surrogate escape
    Buffer.concat([Buffer.from(text.slice(0, 20)), Buffer.from([0xff]), Buffer.from(text.slice(20))]),
  ];
  for (const body of bodies) {
    const answer = await call('POST', '/api/compute', { body, headers });
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    assert.equal(answer.body.details.field, 'body');
  }
  const listed = await call('GET', '/api/compute?hubId=zurich-1');
  assert.equal(listed.body.jobs.length, 0);
});

test('storage: multipart upload, manifest, access control and delete', async (t) => {
  const { call } = await serve(t);
  const form = new FormData();
  form.append('file', new Blob(['%PDF-1.7 a ledger page'], { type: 'application/pdf' }), 'document.pdf');
  form.append('metadata', JSON.stringify({ storageTier: 'cold', accessLevel: 'community', minReplicas: 1,
    metadata: { year: 1891 } }));
  const uploaded = await call('POST', '/api/storage', { body: form });
  assert.equal(uploaded.status, 200);
  const { manifest } = uploaded.body;
  assert.equal(manifest.fileName, 'document.pdf');
  assert.equal(manifest.fileSizeBytes, 22);
  assert.equal(manifest.storageTier, 'cold');
  assert.equal(manifest.accessLevel, 'community');
  assert.deepEqual(manifest.metadata, { year: 1891 });
  assert.match(manifest.contentId, /^bafkrei/);
  assert.ok(!Number.isNaN(Date.parse(manifest.createdAt)));
  const read = await call('GET', `/api/storage?contentId=${manifest.contentId}`);
  assert.deepEqual(read.body.manifest, manifest);
  // Content bob may not read looks unknown to him (no existence oracle): 404, not 403.
  assert.equal((await call('GET', `/api/storage?contentId=${manifest.contentId}`, { cookie: BOB })).status, 404);
  assert.equal((await call('DELETE', `/api/storage?contentId=${manifest.contentId}`, { cookie: BOB })).status, 404);
  assert.deepEqual((await call('DELETE', `/api/storage?contentId=${manifest.contentId}`)).body,
    { success: true, message: 'Content deleted' });
  assert.equal((await call('GET', `/api/storage?contentId=${manifest.contentId}`)).status, 404);
  // Bad uploads.
  const unknownHub = new FormData();
  unknownHub.append('file', new Blob(['x']), 'x.txt');
  unknownHub.append('metadata', JSON.stringify({ sourceHubId: 'atlantis' }));
  const refused = await call('POST', '/api/storage', { body: unknownHub });
  assert.equal(refused.status, 404);
  assert.equal(refused.body.details.field, 'sourceHubId');
  const noFile = new FormData();
  noFile.append('metadata', '{}');
  assert.deepEqual((await call('POST', '/api/storage', { body: noFile })).body.details, { field: 'file' });
  const badMeta = new FormData();
  badMeta.append('file', new Blob(['x']), 'x.txt');
  badMeta.append('metadata', JSON.stringify({ storageTier: 'tape' }));
  assert.equal((await call('POST', '/api/storage', { body: badMeta })).body.details.field, 'storageTier');
  const unknown = new FormData();
  unknown.append('file', new Blob(['x']), 'x.txt');
  unknown.append('metadata', JSON.stringify({ colour: 'red' }));
  // The core's codec names the unknown field (PutOptions::from_json).
  assert.equal((await call('POST', '/api/storage', { body: unknown })).body.details.field, 'colour');
  assert.equal((await call('POST', '/api/storage', { json: { file: 'x' } })).status, 400);
  assert.equal((await call('GET', '/api/storage?contentId=not-a-cid')).status, 400);
});

test('heat: credits, stats and settle (operators only)', async (t) => {
  const { hub, clock, call } = await serve(t);
  hub.heatLedger.record({ hubId: 'zurich-1', tag: 'boiler', thermalKwh: '10', at: START });
  clock.advanceMs(3_600_000);
  const credits = await call('GET', '/api/heat/credits?hubId=zurich-1');
  assert.equal(credits.body.credit.totalHeatKwh, 10);
  assert.equal(credits.body.credit.heatCreditChf, 50);
  const period = `start=${new Date(START).toISOString()}&end=${new Date(START + 1000).toISOString()}`;
  assert.equal((await call('GET', `/api/heat/credits?hubId=zurich-1&${period}`)).body.credit.totalHeatKwh, 10);
  assert.equal((await call('GET', '/api/heat/credits?hubId=zurich-1&start=yesterday')).body.details.field, 'start');
  assert.equal((await call('GET', '/api/heat/credits?hubId=nowhere')).status, 404);
  const stats = await call('GET', '/api/heat/stats?hubId=zurich-1');
  assert.equal(stats.body.stats.unsettledCreditChf, 50);
  const bySite = await call('GET', '/api/heat/stats?site=s');
  assert.equal(bySite.status, 200);
  assert.deepEqual(bySite.body.stats.hubIds, ['zurich-1']);
  assert.equal(bySite.body.stats.unsettledCreditChf, 50);
  assert.equal((await call('GET', '/api/heat/stats?region=MARS')).status, 404);
  const request = { hubId: 'zurich-1', periodStart: new Date(START).toISOString(),
    periodEnd: new Date(START + 3_600_000).toISOString() };
  assert.equal((await call('POST', '/api/heat/settle', { json: request })).status, 403);
  const settled = await call('POST', '/api/heat/settle', { cookie: OPERATOR, json: request });
  assert.equal(settled.status, 200);
  assert.equal(settled.body.settledCreditChf, 50);
  assert.equal(settled.body.currency, 'CHF');
  assert.equal((await call('POST', '/api/heat/settle', { cookie: OPERATOR, json: { hubId: 'zurich-1' } })).status, 400);
  const overlap = { ...request, periodStart: new Date(START + 1000).toISOString() };
  assert.equal((await call('POST', '/api/heat/settle', { cookie: OPERATOR, json: overlap })).status, 409);
});

test('every answer carries the rate-limit headers; request 1001 in an hour is 429', async (t) => {
  const { call, clock } = await serve(t);
  const first = await call('GET', '/api/heat/stats?hubId=zurich-1');
  const reset = Math.floor(START / 1000) - (Math.floor(START / 1000) % 3600) + 3600;
  assert.equal(first.headers.get('x-ratelimit-limit'), String(API_REQUESTS_PER_HOUR));
  assert.equal(first.headers.get('x-ratelimit-remaining'), String(API_REQUESTS_PER_HOUR - 1));
  assert.equal(first.headers.get('x-ratelimit-reset'), String(reset));
  const errorAnswer = await call('GET', '/api/heat/stats?hubId=nowhere');
  assert.equal(errorAnswer.status, 404);
  assert.equal(errorAnswer.headers.get('x-ratelimit-remaining'), String(API_REQUESTS_PER_HOUR - 2));
  for (let i = 2; i < API_REQUESTS_PER_HOUR; i++) await call('GET', '/api/nothing');
  const limited = await call('GET', '/api/heat/stats?hubId=zurich-1');
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get('x-ratelimit-remaining'), '0');
  assert.equal(limited.headers.get('retry-after'), String(reset - Math.floor(START / 1000)));
  assert.match(limited.body.error, /rate limit/);
  assert.equal((await call('GET', '/api/heat/stats?hubId=zurich-1', { cookie: BOB })).status, 200);
  clock.advanceMs(3_600_000);
  const next = await call('GET', '/api/heat/stats?hubId=zurich-1');
  assert.equal(next.status, 200);
  assert.equal(next.headers.get('x-ratelimit-remaining'), String(API_REQUESTS_PER_HOUR - 1));
});

test('no session signs in as the library\'s operator principal', async (t) => {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'sihlicon-rest-op-'));
  const hub = await Hub.open(directory, { durability: 'process_crash' });
  t.after(async () => {
    await hub.close();
    fs.rmSync(directory, { recursive: true, force: true });
  });
  await assert.rejects(() => startServer(hub, { sessions: { tok: 'operator' } }), /operator principal/);
});

test('every edge refuses upload metadata and settle bodies as the library does', async (t) => {
  // The example and the library's Server decode with the same core codecs
  // (PutOptions::from_json, HeatPeriod::from_json): the same refusal for the same body.
  const { hub, clock, call } = await serve(t);
  clock.advanceMs(3 * 3_600_000);
  const ann = hub.createToken('ann', 'client').secret;
  const olga = hub.createToken('olga', 'operator').secret;
  const server = new Server(hub, { address: '127.0.0.1', port: 0, threads: 1 });
  const port = await server.start();
  t.after(() => server.stop());
  const library = async (url, body, token, headers = {}) => {
    const response = await fetch(`http://127.0.0.1:${port}${url}`, {
      method: 'POST', body, headers: { authorization: `Bearer ${token}`, ...headers },
    });
    return { status: response.status, body: await response.json() };
  };
  const uploads = ['{"minReplicas":65}', '{"minReplicas":-1}', '{"storageTier":"warm"}',
    '{"colour":"red"}', '{"fileName":7}', '{"minReplicas":1,"minReplicas":2}'];
  for (const metadata of uploads) {
    const form = () => {
      const f = new FormData();
      f.append('file', new Blob(['bytes']), 'f.bin');
      f.append('metadata', metadata);
      return f;
    };
    const mine = await call('POST', '/api/storage', { body: form() });
    const theirs = await library('/api/storage', form(), ann);
    assert.equal(mine.status, 400, metadata);
    assert.equal(theirs.status, 400, metadata);
    assert.equal(mine.body.error, theirs.body.error, metadata);
    assert.equal(mine.body.details.field, theirs.body.details.field, metadata);
    // In process: the binding's put decodes through the same codec.
    let direct;
    try {
      await hub.contentStore.put(Buffer.from('bytes'), 'ann', ContentStore.putOptionsFromJson(metadata));
    } catch (error) {
      direct = error;
    }
    if (direct === undefined) {
      try {
        ContentStore.putOptionsFromJson(metadata);
      } catch (error) {
        direct = error;
      }
    }
    assert.ok(direct instanceof SihliconError, metadata);
    assert.equal(direct.message, mine.body.error, metadata);
  }
  await assert.rejects(hub.contentStore.put(Buffer.from('x'), 'ann', { minReplicas: 65 }),
    (error) => error.field === 'minReplicas');
  await assert.rejects(hub.contentStore.put(Buffer.from('x'), 'ann', { colour: 'red' }),
    (error) => error.field === 'colour');

  const end = '2026-01-05T10:00:00Z';
  const periods = [
    { hubId: 'zurich-1', periodStart: 'yesterday', periodEnd: end },
    { hubId: 'zurich-1', periodStart: '2026-01-05T08:00:00Z' },
    { hubId: 7, periodStart: '2026-01-05T08:00:00Z', periodEnd: end },
    { hubId: 'zurich-1', periodStart: '2026-01-05T08:00:00Z', periodEnd: end, x: 1 },
  ];
  for (const period of periods) {
    const mine = await call('POST', '/api/heat/settle', { cookie: OPERATOR, json: period });
    const theirs = await library('/api/heat/settle', JSON.stringify(period), olga,
      { 'content-type': 'application/json' });
    assert.equal(mine.status, 400, JSON.stringify(period));
    assert.equal(theirs.status, 400, JSON.stringify(period));
    assert.equal(mine.body.error, theirs.body.error);
    assert.equal(mine.body.details.field, theirs.body.details.field);
  }
  assert.deepEqual(HeatLedger.periodFromJson(Buffer.from(
    '{"hubId":"zurich-1","periodStart":"2026-01-05T08:00:00Z","periodEnd":"2026-01-05T09:00:00Z"}')),
  { hubId: 'zurich-1', periodStart: '2026-01-05T08:00:00.000Z', periodEnd: '2026-01-05T09:00:00.000Z' });
});
