// SPDX-License-Identifier: Apache-2.0
// Server: the hub on the network started from Node; the hub's API tokens.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');

const { Server, SihliconError } = require('..');
const { openHub, rejects } = require('./helpers.js');

// GET `path` on 127.0.0.1:port without keep-alive: {status, body}.
function get(port, path, token) {
  return new Promise((resolve, reject) => {
    const headers = { connection: 'close' };
    if (token) headers.authorization = `Bearer ${token}`;
    http.get({ host: '127.0.0.1', port, path, headers, agent: false }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({
        status: response.statusCode, body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      }));
    }).on('error', reject);
  });
}

test('a server started from Node answers on its port, logs each request and stops', async (t) => {
  const { hub } = await openHub(t);
  const lines = [];
  const server = new Server(hub, { address: '127.0.0.1', port: 0, threads: 1,
    accessLog: (line) => lines.push(line) });
  assert.equal(server.port, 0);
  assert.equal(server.running, false);
  const port = await server.start();
  assert.ok(port > 0);
  assert.equal(server.port, port);
  assert.equal(server.running, true);
  assert.equal(server.url, `http://127.0.0.1:${port}`);
  const known = await get(port, '/.well-known/sihlicon.json');
  assert.equal(known.status, 200);
  assert.match(known.body.signer, /^0x[0-9a-fA-F]{40}$/);

  // A token made by the hub authenticates; none is 401 with the contract's error body.
  assert.equal((await get(port, '/api/compute?hubId=zurich-1')).status, 401);
  const { secret, record } = hub.createToken('ann', 'client');
  assert.match(secret, /^sih_[0-9a-f]{64}$/);
  assert.equal(record.principal, 'ann');
  assert.equal(record.role, 'client');
  const listed = await get(port, '/api/compute?hubId=zurich-1', secret);
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.body.jobs, []);
  hub.revokeToken(record.id);
  assert.equal((await get(port, '/api/compute?hubId=zurich-1', secret)).status, 401);
  assert.deepEqual(hub.listTokens().map((r) => r.id), [record.id]);
  assert.throws(() => hub.createToken('ann', 'client', { by: 'ann' }),
    (error) => error instanceof SihliconError && error.code === 'permission_denied');
  assert.throws(() => hub.createToken('bee', 'worker'),
    (error) => error instanceof SihliconError && error.field === 'workerId');

  await rejects(assert, () => server.start(), 'conflict');
  await server.stop();
  await server.stop();  // idempotent
  assert.equal(server.running, false);
  await assert.rejects(get(port, '/.well-known/sihlicon.json'));
  // The lines come through a thread-safe function: let the event loop deliver them.
  for (let i = 0; i < 100 && lines.length < 4; i += 1) await new Promise((r) => setTimeout(r, 10));
  assert.equal(lines.length, 4);
  assert.match(lines[0], /"GET \/.well-known\/sihlicon.json" 200/);
  assert.match(lines[2], /"GET \/api\/compute\?hubId=zurich-1" 200 \d+ \d+ms ann$/);
  await rejects(assert, () => server.start(), 'conflict');
});

test('server options are the library\'s codec: unknown keys and bad values name the key', async (t) => {
  const { hub } = await openHub(t);
  assert.throws(() => new Server(hub, { listen: '0.0.0.0:80' }),
    (error) => error instanceof SihliconError && error.field === 'listen');
  assert.throws(() => new Server(hub, { port: 70000 }),
    (error) => error instanceof SihliconError && error.field === 'port');
  assert.throws(() => new Server(hub, { readTimeoutMs: -1 }),
    (error) => error instanceof SihliconError && error.field === 'readTimeoutMs');
  assert.throws(() => new Server(hub, { accessLog: 'stdout' }),
    (error) => error instanceof SihliconError && error.field === 'accessLog');
  assert.throws(() => new Server({}, {}), TypeError);
  await rejects(assert, () => new Server(hub, { address: 'localhost' }).start(),
    'invalid_argument', 'address');
  await rejects(assert, () => new Server(hub, { tlsCertificate: '/nonexistent.pem' }).start(),
    'invalid_argument', 'tlsPrivateKey');
});

test('hub.close() stops the hub\'s servers first', async (t) => {
  const { hub } = await openHub(t);
  const server = new Server(hub, {});
  const port = await server.start();
  assert.equal((await get(port, '/.well-known/sihlicon.json')).status, 200);
  await hub.close();
  assert.equal(server.running, false);
  await assert.rejects(get(port, '/.well-known/sihlicon.json'));
  await server.stop();
  assert.throws(() => new Server(hub, {}),
    (error) => error instanceof SihliconError && error.code === 'conflict');
});
