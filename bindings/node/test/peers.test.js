// SPDX-License-Identifier: Apache-2.0
// Peers from Node: the operator's list of other hubs, URLs checked, tokens never shown; the
// server's maintenance seals a due epoch on the hub's clock.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');

const { Server, SihliconError } = require('..');
const { openHub } = require('./helpers.js');

test('peers are added, listed without their tokens, and removed', async (t) => {
  const { hub } = await openHub(t);
  const secret = 'peer-token-51ac0e';
  const added = hub.addPeer('hub-basel', 'https://basel.example:8443', secret);
  assert.equal(added.hubId, 'hub-basel');
  assert.equal(added.url, 'https://basel.example:8443');
  assert.equal(JSON.stringify(hub.peers()).includes(secret), false);
  assert.deepEqual(hub.peers().map((peer) => peer.hubId), ['hub-basel']);
  assert.throws(() => hub.addPeer('hub-x', 'https://u:p@x.example', 't'),
    (error) => error instanceof SihliconError && error.field === 'url');
  assert.throws(() => hub.addPeer('hub-x', 'https://x.example', 'two words'),
    (error) => error instanceof SihliconError && error.field === 'token' &&
      !error.message.includes('two words'));
  assert.throws(() => hub.peers({ by: 'alice' }),
    (error) => error instanceof SihliconError && error.code === 'permission_denied');
  assert.equal(hub.removePeer('hub-basel').hubId, 'hub-basel');
  assert.deepEqual(hub.peers(), []);
  assert.throws(() => hub.removePeer('hub-basel'),
    (error) => error instanceof SihliconError && error.code === 'not_found');
});

test('a server seals a due epoch on the hub\'s clock', async (t) => {
  const { hub, clock } = await openHub(t);
  const first = hub.settlement.currentEpoch();
  assert.throws(() => new Server(hub, { maintenanceIntervalMs: -1 }),
    (error) => error instanceof SihliconError && error.field === 'maintenanceIntervalMs');
  const lines = [];
  const server = new Server(hub, { maintenanceIntervalMs: 5, accessLog: (line) => lines.push(line) });
  await server.start();
  clock.advanceMs(24 * 3600 * 1000);
  const deadline = Date.now() + 20000;
  while (hub.settlement.epoch(first.epoch_id).status !== 'finalized') {
    assert.ok(Date.now() < deadline, 'the epoch was never sealed');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await server.stop();
  assert.ok(lines.some((line) => line.includes(`maintenance sealed ${first.epoch_id}`)));
});
