// SPDX-License-Identifier: Apache-2.0
//
// A JSON-over-HTTP caller with one keep-alive connection, for the benchmark's agent and client
// processes, and a latency histogram they report to the parent (10 µs buckets).
import net from 'node:net';

// One keep-alive HTTP/1.1 connection carrying one request at a time, written and parsed here
// (node:http's client cost the agents more CPU than the server spent answering them, on the
// same 2 cores). Answers carry Content-Length (the server's always do); a connection the
// server closes is opened again for the next request.
export function connect(serverUrl, token) {
  const url = new URL(serverUrl);
  const head = `Host: ${url.host}\r\nAuthorization: Bearer ${token}\r\n` +
    'Content-Type: application/json\r\nConnection: keep-alive\r\n';
  let socket = null;
  let received = Buffer.alloc(0);
  let pending = null;  // { resolve, reject, path }

  function settle() {
    const end = received.indexOf('\r\n\r\n');
    if (end < 0) return;
    const header = received.subarray(0, end).toString('latin1');
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(header)?.[1] ?? NaN);
    if (!Number.isSafeInteger(length)) {
      pending.reject(new Error(`POST ${pending.path}: an answer without Content-Length`));
      return;
    }
    if (received.length < end + 4 + length) return;
    const status = Number(header.slice(9, 12));
    const body = received.subarray(end + 4, end + 4 + length).toString();
    received = received.subarray(end + 4 + length);
    const { resolve, reject, path } = pending;
    pending = null;
    if (status !== 200) reject(new Error(`POST ${path}: ${status} ${body}`));
    else resolve(JSON.parse(body));
  }

  function open() {
    socket = net.connect(Number(url.port), url.hostname);
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      received = received.length ? Buffer.concat([received, chunk]) : chunk;
      if (pending) settle();
    });
    const lost = (error) => {
      socket = null;
      received = Buffer.alloc(0);
      if (pending) {
        pending.reject(error ?? new Error(`POST ${pending.path}: the server closed the connection`));
        pending = null;
      }
    };
    socket.on('error', lost);
    socket.on('close', () => lost());
  }

  return {
    // Resolves to the parsed answer of a 200; rejects naming the status and body otherwise.
    post(path, body) {
      if (!socket) open();
      const text = JSON.stringify(body);
      return new Promise((resolve, reject) => {
        pending = { resolve, reject, path };
        socket.write(`POST ${path} HTTP/1.1\r\n${head}Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
      });
    },
    close() {
      socket?.destroy();
    },
  };
}

// Counts of latencies by 10 µs bucket (a sparse object, cheap to send over IPC).
export class Histogram {
  constructor() {
    this.counts = {};
  }

  add(ms) {
    const bucket = Math.round(ms * 100);
    this.counts[bucket] = (this.counts[bucket] ?? 0) + 1;
  }

  merge(counts) {
    for (const [bucket, count] of Object.entries(counts)) {
      this.counts[bucket] = (this.counts[bucket] ?? 0) + count;
    }
  }

  get total() {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  // The q-quantile (0..1) in ms.
  quantile(q) {
    const buckets = Object.keys(this.counts).map(Number).sort((a, b) => a - b);
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (const bucket of buckets) {
      seen += this.counts[bucket];
      if (seen >= rank) return bucket / 100;
    }
    return NaN;
  }
}
