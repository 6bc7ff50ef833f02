// SPDX-License-Identifier: Apache-2.0
// ContentStore: put/get with Buffers (Promises), stat, list, remove, tiers, communities,
// references, quotas and garbage collection.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const sihlicon = require('..');
const { openHub, rejects, tempDir } = require('./helpers.js');

const { computeCid } = sihlicon;

// The error `action` throws (or rejects with).
async function failure(action) {
  try {
    await action();
  } catch (error) {
    return error;
  }
  return assert.fail('expected an error');
}

test('put a Buffer, get it back whole and in ranges', async (t) => {
  const { hub } = await openHub(t);
  const c = hub.contentStore;
  const data = Buffer.alloc(700_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
  const manifest = await c.put(data, 'ann', {
    fileName: 'ledger.bin', mimeType: 'application/octet-stream', storageTier: 'hot',
    accessLevel: 'private', minReplicas: 1, metadata: { pages: 3 },
  });
  assert.match(manifest.contentId, /^bafy/);
  assert.equal(manifest.fileSizeBytes, data.length);
  assert.equal(manifest.fileName, 'ledger.bin');
  assert.deepEqual(manifest.metadata, { pages: 3 });
  const back = await c.get(manifest.contentId, 'ann');
  assert.ok(Buffer.isBuffer(back));
  assert.ok(back.equals(data));
  const slice = await c.get(manifest.contentId, 'ann', { offset: 262_100, length: 100 });
  assert.ok(slice.equals(data.subarray(262_100, 262_200)));
  assert.equal(await sihlicon.computeCid(data), manifest.contentId);
});

test('put accepts TypedArrays, DataViews, ArrayBuffers and strings, and putFile a path', async (t) => {
  const { hub } = await openHub(t);
  const c = hub.contentStore;
  const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const a = await c.put(bytes, 'ann');
  const b = await c.put(new DataView(bytes.buffer), 'bob');
  const d = await c.put(bytes.buffer, 'cat');
  assert.equal(a.contentId, b.contentId);
  assert.equal(a.contentId, d.contentId);
  const s = await c.put('hello, hub', 'ann');
  assert.equal((await c.get(s.contentId, 'ann')).toString(), 'hello, hub');
  const directory = tempDir();
  const file = path.join(directory, 'page.txt');
  fs.writeFileSync(file, 'hello, hub');
  const f = await c.putFile(file, 'dan', { fileName: 'page.txt' });
  assert.equal(f.contentId, s.contentId);
  fs.rmSync(directory, { recursive: true, force: true });
  await rejects(assert, () => c.put(42, 'ann'), 'invalid_argument', 'data');
  await rejects(assert, () => c.put(bytes, ''), 'invalid_argument');
  await rejects(assert, () => c.put(bytes, 'ann', { storageTier: 'tape' }), 'invalid_argument', 'storageTier');
  await rejects(assert, () => c.putFile('/nonexistent/file', 'ann'), 'io');
});

test('stat, list and remove follow access levels and ownership', async (t) => {
  const { hub } = await openHub(t);
  const c = hub.contentStore;
  const secret = await c.put(Buffer.from('secret'), 'ann');
  const open = await c.put(Buffer.from('open'), 'ann', { accessLevel: 'public' });
  assert.equal(c.stat(secret.contentId, 'ann').owner, 'ann');
  assert.equal(c.stat(open.contentId).accessLevel, 'public');
  await rejects(assert, () => c.stat(secret.contentId, 'bob'), 'not_found');
  await rejects(assert, () => c.get(secret.contentId, 'bob'), 'not_found');
  assert.deepEqual(c.list('ann').map((m) => m.contentId).sort(), [secret.contentId, open.contentId].sort());
  assert.deepEqual(c.list('bob').map((m) => m.contentId), [open.contentId]);
  assert.equal(c.list('ann', { owner: 'ann', limit: 1 }).length, 1);
  await rejects(assert, () => c.remove(secret.contentId, 'bob'), 'not_found');
  await rejects(assert, () => c.remove(open.contentId, 'bob'), 'permission_denied');
  c.remove(secret.contentId, 'ann');
  await rejects(assert, () => c.stat(secret.contentId, 'ann'), 'not_found');
  await rejects(assert, () => c.stat('not-a-cid', 'ann'), 'invalid_argument');
  assert.equal(await c.collectGarbage(), 0);
});

test('community content is visible to members only; moveToTier moves it', async (t) => {
  const { hub } = await openHub(t);
  const c = hub.contentStore;
  c.addCommunityMember('sihl', 'ann', 'ann');
  c.addCommunityMember('sihl', 'bob', 'ann');
  assert.deepEqual(c.communitiesOf('bob', 'bob'), ['sihl']);
  const shared = await c.put(Buffer.from('shared'), 'ann', { accessLevel: 'community' });
  assert.equal(c.stat(shared.contentId, 'bob').contentId, shared.contentId);
  c.removeCommunityMember('sihl', 'bob', 'bob');
  assert.deepEqual(c.communitiesOf('bob', 'bob'), []);
  await rejects(assert, () => c.stat(shared.contentId, 'bob'), 'not_found');
  const cold = await c.moveToTier(shared.contentId, 'ann', 'cold');
  assert.equal(cold.storageTier, 'cold');
  assert.equal((await c.get(shared.contentId, 'ann')).toString(), 'shared');
});

test('named references point name@version at content', async (t) => {
  const { hub } = await openHub(t);
  const c = hub.contentStore;
  const v1 = await c.put(Buffer.from('model v1'), 'ann', { accessLevel: 'public' });
  const v2 = await c.put(Buffer.from('model v2'), 'ann', { accessLevel: 'public' });
  assert.equal(c.setReference('ocr/model', '1.0', v1.contentId, 'ann').contentId, v1.contentId);
  c.setReference('ocr/model', '2.0', v2.contentId, 'ann');
  assert.equal(c.resolveReference('ocr/model@1.0').contentId, v1.contentId);
  const latest = c.resolveReference('ocr/model');
  assert.equal(latest.version, '2.0');
  assert.equal(latest.owner, 'ann');
  await rejects(assert, () => c.setReference('ocr/model', '1.0', v2.contentId, 'ann'), 'conflict');
  await rejects(assert, () => c.setReference('ocr/model', '3.0', v2.contentId, 'bob'), 'permission_denied');
  await rejects(assert, () => c.resolveReference('nothing'), 'not_found');
});

test('unreadable content fails exactly as unknown content', async (t) => {
  const { hub } = await openHub(t);
  const c = hub.contentStore;
  const secret = (await c.put(Buffer.from('secret'), 'ann')).contentId;
  const unknown = await computeCid(Buffer.from('never stored'));
  for (const action of [(id) => c.stat(id, 'mallory'), (id) => c.get(id, 'mallory'),
    (id) => c.remove(id, 'mallory'), (id) => c.moveToTier(id, 'mallory', 'cold'),
    (id) => c.setReference('m/x', '1', id, 'mallory')]) {
    const hidden = await failure(() => action(secret));
    const absent = await failure(() => action(unknown));
    assert.equal(hidden.code, 'not_found');
    assert.equal(absent.code, 'not_found');
    assert.equal(hidden.message.replace(secret, 'CID'), absent.message.replace(unknown, 'CID'));
  }
});

test('references hide unreadable content, never pin it, and are removed by their owner', async (t) => {
  const { hub } = await openHub(t);
  const c = hub.contentStore;
  const open = (await c.put(Buffer.from('v1'), 'ann', { accessLevel: 'public' })).contentId;
  const closed = (await c.put(Buffer.from('v2'), 'ann')).contentId;
  c.setReference('ann/model', '1', open, 'ann');
  c.setReference('ann/model', '2', closed, 'ann');
  assert.equal(c.resolveReference('ann/model', 'ann').version, '2');
  assert.equal(c.resolveReference('ann/model', 'bob').version, '1');
  assert.deepEqual(c.referenceVersions('ann/model').map((r) => r.version), ['1']);
  await rejects(assert, () => c.resolveReference('ann/model@2', 'bob'), 'not_found');
  c.setReference('bob/pin', '1', open, 'bob');
  await rejects(assert, () => c.removeReference('bob/pin@1', 'ann'), 'permission_denied');
  c.remove(open, 'ann');
  await rejects(assert, () => c.resolveReference('bob/pin@1', 'bob'), 'not_found');
  c.removeReference('bob/pin@1', 'bob');
  await rejects(assert, () => c.removeReference('bob/pin@1', 'bob'), 'not_found');
});

test('community membership changes need a member or the operator', async (t) => {
  const { hub } = await openHub(t);
  const c = hub.contentStore;
  c.addCommunityMember('choir', 'ann', 'ann');
  await rejects(assert, () => c.addCommunityMember('choir', 'mallory', 'mallory'), 'permission_denied');
  await rejects(assert, () => c.removeCommunityMember('choir', 'ann', 'mallory'), 'permission_denied');
  c.addCommunityMember('choir', 'carl', 'operator');
  assert.deepEqual(c.communitiesOf('carl', 'ann'), ['choir']);
  assert.deepEqual(c.communitiesOf('carl', 'mallory'), []);
});

test('quotas limit an owner\'s uploads', async (t) => {
  const { hub } = await openHub(t);
  const c = hub.contentStore;
  assert.deepEqual(c.quota('ann'), { uploadBytesPerHour: 100_000_000, totalBytes: null });
  assert.deepEqual(c.setQuota('ann', { uploadBytesPerHour: 1000, totalBytes: 5000 }),
    { uploadBytesPerHour: 1000, totalBytes: 5000 });
  assert.deepEqual(c.quota('ann'), { uploadBytesPerHour: 1000, totalBytes: 5000 });
  await c.put(Buffer.alloc(600, 1), 'ann');
  await rejects(assert, () => c.put(Buffer.alloc(600, 2), 'ann'), 'quota_exceeded');
  await rejects(assert, () => c.setQuota('ann', { uploadBytesPerHour: -1 }), 'invalid_argument');
});

// A multiformats unsigned varint at `offset` of `bytes`: [value, offset after it].
function varint(bytes, offset) {
  let value = 0;
  for (let shift = 0; ; shift += 7) {
    const next = bytes[offset++];
    value += (next & 0x7f) * 2 ** shift;
    if ((next & 0x80) === 0) return [value, offset];
  }
}

// The CAR v1 `car` cut down to its header and its first block section (exportCar writes the
// root block first): a CAR that names the root but holds none of the blocks under it.
function rootOnly(car) {
  const [headerLength, headerStart] = varint(car, 0);
  const sectionAt = headerStart + headerLength;
  const [sectionLength, sectionStart] = varint(car, sectionAt);
  return car.subarray(0, sectionStart + sectionLength);
}

test('exportCar then importCar round-trips content as the same owner', async (t) => {
  const { hub } = await openHub(t);
  const c = hub.contentStore;
  const data = Buffer.alloc(700_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
  const original = await c.put(data, 'ann', { fileName: 'ledger.bin' });
  const car = await c.exportCar(original.contentId, 'ann');
  assert.ok(Buffer.isBuffer(car));
  assert.ok(car.length > data.length);
  const imported = await c.importCar(car, 'ann', { fileName: 'ledger.bin' });
  assert.equal(imported.length, 1);
  assert.equal(imported[0].contentId, original.contentId);
  assert.equal(imported[0].fileSizeBytes, data.length);
  assert.ok((await c.get(original.contentId, 'ann')).equals(data));
  // Into a second hub, where nothing is stored yet: the CAR alone brings the content.
  const { hub: other } = await openHub(t);
  const [copy] = await other.contentStore.importCar(new Uint8Array(car), 'bob');
  assert.equal(copy.contentId, original.contentId);
  assert.ok((await other.contentStore.get(copy.contentId, 'bob')).equals(data));
  // A reader the content is hidden from cannot export it (not_found, as get).
  await rejects(assert, () => c.exportCar(original.contentId, 'mallory'), 'not_found');
  await rejects(assert, () => c.importCar(Buffer.from('not a car'), 'ann'), 'invalid_argument');
});

test('importCar of only the root block grants a stranger nothing', async (t) => {
  const { hub } = await openHub(t);
  const c = hub.contentStore;
  const data = require('node:crypto').randomBytes(700_000);
  const secret = await c.put(data, 'ann');
  const car = await c.exportCar(secret.contentId, 'ann');
  const forged = rootOnly(car);
  assert.ok(forged.length < 1000, `the root block alone is small (${forged.length} bytes)`);
  const error = await failure(() => c.importCar(forged, 'mallory'));
  assert.ok(error instanceof sihlicon.SihliconError, `${error} is a SihliconError`);
  assert.equal(error.code, 'invalid_argument', error.message);
  assert.equal(error.field, 'roots', error.message);
  assert.match(error.message, /is missing/);
  assert.ok(error.message.includes(secret.contentId), error.message);
  await rejects(assert, () => c.stat(secret.contentId, 'mallory'), 'not_found');
  await rejects(assert, () => c.get(secret.contentId, 'mallory'), 'not_found');
  assert.deepEqual(c.list('mallory', { owner: 'mallory' }), []);
  // The owner, who can already read it, may import the same root-only CAR.
  const [again] = await c.importCar(forged, 'ann');
  assert.equal(again.contentId, secret.contentId);
});

test('stored bytes put again with other metadata update the manifest and leave no copy', async (t) => {
  const { hub } = await openHub(t);
  const c = hub.contentStore;
  const first = await c.put(Buffer.from('district heat'), 'ann', { fileName: 'a.txt' });
  const again = await c.put(Buffer.from('district heat'), 'ann', { fileName: 'a.txt' });
  assert.deepEqual(again, first);
  const moved = await c.put(Buffer.from('district heat'), 'ann', { fileName: 'b.txt',
    storageTier: 'cold', accessLevel: 'public', sourceHubId: 'zurich-1' });
  assert.equal(moved.contentId, first.contentId);
  assert.equal(moved.storageTier, 'cold');
  assert.equal(c.stat(first.contentId, 'bob').fileName, 'b.txt');
  const hot = path.join(hub.info().blobDirectory, 'hot');
  const files = fs.readdirSync(hot, { recursive: true })
    .filter((name) => !name.includes('.staging') && fs.statSync(path.join(hot, name)).isFile());
  assert.deepEqual(files, []);
  await rejects(assert, () => c.put(Buffer.from('other'), 'ann', { sourceHubId: 'atlantis' }),
    'not_found', 'sourceHubId');
  assert.deepEqual(c.list('ann').map((m) => m.contentId), [first.contentId]);
});
