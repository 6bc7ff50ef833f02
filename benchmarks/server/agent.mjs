// SPDX-License-Identifier: Apache-2.0
//
// One remote agent loop of lifecycle.mjs (a child process with an IPC channel): registers its
// worker over HTTP, then, on "go", claims batches (POST /api/v1/workers/{id}/claim {"max": B})
// and completes each job (POST /api/v1/jobs/{id}/complete) over one keep-alive connection
// until "stop", with a heartbeat every 10 s. Reports {completed} after each batch and, at the end, {done, claims: histogram
// of the claim requests' latencies in ms}.
// With COMPLETE "batch" (lifecycle.mjs's default) a claimed batch is completed in one request
// (POST /api/v1/workers/{id}/complete: one transaction), with "each" one request per job.
//   node agent.mjs SERVER_URL WORKER_ID BATCH [CONNECTIONS] [COMPLETE]   (its worker token in
//   SIHLICON_TOKEN)
import { benchWorkerSpec } from '../node/specs.mjs';
import { Histogram, connect } from './http.mjs';

const [serverUrl, workerId, batchText, connectionsText = '1', complete = 'each'] =
  process.argv.slice(2);
const batch = Number(batchText);
// Completions go out over this many connections at once (an agent running several jobs at a
// time completes them independently); claims and heartbeats over the first.
const connections = Array.from({ length: Number(connectionsText) },
  () => connect(serverUrl, process.env.SIHLICON_TOKEN));
const api = connections[0];
const latencies = new Histogram();
let stopping = false;
const HEARTBEAT_MS = 10_000;

async function run() {
  let completed = 0;
  let emptyClaims = 0;
  const cpuStart = process.cpuUsage();
  let lastBeat = performance.now();
  while (!stopping) {
    // A worker silent for missedHeartbeats x heartbeatIntervalMs (the hub's settings, 3 x 30 s
    // by default) goes offline and loses its leases, as a real agent's would.
    if (performance.now() - lastBeat >= HEARTBEAT_MS) {
      await api.post(`/api/v1/workers/${workerId}/heartbeat`, {});
      lastBeat = performance.now();
    }
    const started = performance.now();
    const { claims } = await api.post(`/api/v1/workers/${workerId}/claim`, { max: batch });
    latencies.add(performance.now() - started);
    if (claims.length === 0) {
      emptyClaims += 1;
      await new Promise((resolve) => setTimeout(resolve, 2));
      continue;
    }
    if (complete === 'batch') {
      await api.post(`/api/v1/workers/${workerId}/complete`, {
        completions: claims.map(({ lease }) => ({ jobId: lease.jobId, token: lease.token, energyMwh: 1 })),
      });
      completed += claims.length;
      process.send({ completed: claims.length });
      continue;
    }
    let next = 0;
    await Promise.all(connections.map(async (connection) => {
      while (next < claims.length) {
        const { lease } = claims[next++];
        await connection.post(`/api/v1/jobs/${lease.jobId}/complete`, { token: lease.token, energyMwh: 1 });
      }
    }));
    completed += claims.length;
    process.send({ completed: claims.length });
  }
  const cpu = process.cpuUsage(cpuStart);
  process.send({
    done: true, completed, emptyClaims, claims: latencies.counts,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  });
  for (const connection of connections) connection.close();
  process.disconnect();
}

process.on('message', (message) => {
  if (message === 'go') {
    run().catch((error) => {
      console.error(`agent ${workerId}: ${error.message}`);
      process.exit(1);
    });
  } else if (message === 'stop') {
    stopping = true;
  }
});

await api.post('/api/v1/workers/register', benchWorkerSpec(workerId));
process.send({ ready: true });
