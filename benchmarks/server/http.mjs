// SPDX-License-Identifier: Apache-2.0
//
// A JSON-over-HTTP caller with one keep-alive connection, for the benchmark's agent and client
// processes, and a latency histogram they report to the parent (10 µs buckets).
import http from 'node:http';

export function connect(serverUrl, token) {
  const url = new URL(serverUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  return {
    // Resolves to the parsed answer of a 200; rejects naming the status and body otherwise.
    post(path, body) {
      const text = JSON.stringify(body);
      return new Promise((resolve, reject) => {
        const request = http.request({
          host: url.hostname, port: url.port, path, method: 'POST', agent,
          headers: { ...headers, 'content-length': Buffer.byteLength(text) },
        }, (response) => {
          const chunks = [];
          response.on('data', (chunk) => chunks.push(chunk));
          response.on('end', () => {
            const answer = Buffer.concat(chunks).toString();
            if (response.statusCode !== 200) {
              reject(new Error(`POST ${path}: ${response.statusCode} ${answer}`));
            } else {
              resolve(JSON.parse(answer));
            }
          });
          response.on('error', reject);
        });
        request.on('error', reject);
        request.end(text);
      });
    },
    close() {
      agent.destroy();
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
