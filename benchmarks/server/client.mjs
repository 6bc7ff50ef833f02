// SPDX-License-Identifier: Apache-2.0
//
// The submitting client of lifecycle.mjs (--submit client, and --minutes): a child process
// with an IPC channel that submits the no-op job (POST /api/compute) over CONNECTIONS
// keep-alive connections while fewer than the parent's last {allow: N} have been submitted,
// reporting {submitted} after each job, until "stop".
//   node client.mjs SERVER_URL CONNECTIONS   (its client token in SIHLICON_TOKEN)
import { request } from '../node/specs.mjs';
import { connect } from './http.mjs';

const [serverUrl, connectionsText] = process.argv.slice(2);
const connections = Array.from({ length: Number(connectionsText) },
  () => connect(serverUrl, process.env.SIHLICON_TOKEN));
let allowed = 0;
let submitted = 0;
let stopping = false;
let waiters = [];

async function submitLoop(api) {
  while (!stopping) {
    if (submitted >= allowed) {
      await new Promise((resolve) => { waiters.push(resolve); });
      continue;
    }
    submitted += 1;
    await api.post('/api/compute', request);
    process.send({ submitted: 1 });
  }
}

process.on('message', (message) => {
  if (message === 'stop') {
    stopping = true;
  } else if (typeof message.allow === 'number') {
    allowed = Math.max(allowed, message.allow);
  }
  const waiting = waiters;
  waiters = [];
  for (const resolve of waiting) resolve();
});

process.send({ ready: true });
await new Promise((resolve) => {
  process.once('message', resolve);
});
await Promise.all(connections.map(submitLoop)).catch((error) => {
  console.error(`client: ${error.message}`);
  process.exit(1);
});
process.send({ done: true });
for (const api of connections) api.close();
process.disconnect();
