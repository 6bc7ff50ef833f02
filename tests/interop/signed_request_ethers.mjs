// SPDX-License-Identifier: Apache-2.0
//
// Signed requests (include/sihlicon/request_signing.hpp) made by an independent peer: npm
// ethers' Wallet.signMessage (EIP-191 personal_sign) signs the canonical message, written out
// here from the header's documentation, and a real `sihlicon serve` must accept it; a tampered
// method, target, timestamp or body, a replay, a timestamp outside the window and a removed
// address are each refused 401 with the reason, and a refused submission submits nothing.
// Usage: node signed_request_ethers.mjs PATH/TO/sihlicon WORKDIR
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { Wallet } from "ethers";

const sihlicon = process.argv[2];
const work = mkdtempSync(join(process.argv[3] ?? tmpdir(), "signed-request-"));
const hub = join(work, "hub");
const cli = (...args) => execFileSync(sihlicon, ["--hub", hub, ...args]).toString();
let passed = 0;
let failed = 0;
function expect(condition, what) {
  if (condition) {
    passed++;
  } else {
    failed++;
    console.error(`FAILED: ${what}`);
  }
}

const wallet = Wallet.createRandom();
const stranger = Wallet.createRandom();
cli("init");
cli("token", "address", "add", "ann", wallet.address, "--role", "client");
const listed = JSON.parse(cli("--json", "token", "address", "list"));
expect(listed.length === 1 && listed[0].principal === "ann" && listed[0].address === wallet.address,
       "token address list shows the address (EIP-55) and its principal");

const server = spawn(sihlicon, ["--hub", hub, "serve", "--listen", "127.0.0.1:0"]);
const port = await new Promise((resolve, reject) => {
  let out = "";
  server.stdout.on("data", (chunk) => {
    out += chunk;
    const match = /^listening on 127\.0\.0\.1:(\d+)$/m.exec(out);
    if (match) resolve(Number(match[1]));
  });
  server.on("exit", () => reject(new Error("the server exited")));
});
const host = `127.0.0.1:${port}`;

const sha256hex = (text) => createHash("sha256").update(text).digest("hex");
// The request signed by `signer`; `signed` overrides what is signed ({method, target, host,
// timestamp, body}), to tamper with what is sent.
async function signedRequest(signer, { method, target, body = "", timestamp, signed = {} }) {
  timestamp ??= Math.floor(Date.now() / 1000);
  const s = { method, target, host, timestamp, body, ...signed };
  const message = ["sihlicon-request-v1", s.method, s.target, s.host, String(s.timestamp),
                   sha256hex(s.body)].join("\n");
  const signature = await signer.signMessage(message);
  return send(method, target, body, {
    "Sihlicon-Address": signer.address,
    "Sihlicon-Timestamp": String(timestamp),
    "Sihlicon-Content-SHA256": sha256hex(s.body),
    "Sihlicon-Signature": signature,
  });
}
function send(method, target, body, headers) {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path: target,
                          headers: { ...headers, "Content-Length": Buffer.byteLength(body) } },
                        (res) => {
                          let text = "";
                          res.on("data", (chunk) => (text += chunk));
                          res.on("end", () => resolve({ status: res.statusCode, body: text,
                                                        raw: { method, target, body, headers } }));
                        });
    req.on("error", reject);
    req.end(body);
  });
}
const reason = (response) => {
  try {
    return JSON.parse(response.body).details.reason;
  } catch {
    return undefined;
  }
};
const jobCount = async () => {
  const listing = await signedRequest(wallet, { method: "GET", target: "/api/compute" });
  return JSON.parse(listing.body).jobs.length;
};

const spec = JSON.stringify({ jobType: "ocr", jobName: "scan",
                              workloadConfig: { containerImage: "tesseract" } });
const submitted = await signedRequest(wallet, { method: "POST", target: "/api/compute",
                                                body: spec });
expect(submitted.status === 200 && JSON.parse(submitted.body).success === true,
       `an ethers-signed submission is accepted (${submitted.status} ${submitted.body})`);
const list = await signedRequest(wallet, { method: "GET", target: "/api/compute?limit=5" });
expect(list.status === 200 && JSON.parse(list.body).jobs.length === 1,
       "an ethers-signed GET with a query lists the principal's job");

const replay = submitted.raw;
const replayed = await send(replay.method, replay.target, replay.body, replay.headers);
expect(replayed.status === 401 && reason(replayed) === "replayed", "a replay is 401 replayed");

for (const [what, signed] of [["method", { method: "PUT" }],
                              ["target", { target: "/api/compute?limit=1" }],
                              ["host", { host: "elsewhere:1" }],
                              ["timestamp", { timestamp: Math.floor(Date.now() / 1000) - 7 }]]) {
  const r = await signedRequest(wallet, { method: "POST", target: "/api/compute", body: spec,
                                          signed });
  expect(r.status === 401 && reason(r) === "bad_signature", `a tampered ${what} is 401`);
}
const tamperedBody = await signedRequest(wallet, {
  method: "POST", target: "/api/compute", body: spec, signed: { body: spec.replace("scan", "scam") } });
expect(tamperedBody.status === 401 && reason(tamperedBody) === "body_digest_mismatch",
       "a tampered body is 401");
const now = Math.floor(Date.now() / 1000);
for (const offset of [-400, 400]) {
  const r = await signedRequest(wallet, { method: "GET", target: "/api/compute",
                                          timestamp: now + offset });
  expect(r.status === 401 && reason(r) === "outside_window", `a timestamp ${offset} s off is 401`);
}
const inside = await signedRequest(wallet, { method: "GET", target: "/api/compute",
                                             timestamp: now - 250 });
expect(inside.status === 200, "a timestamp 250 s old is inside the window");
const unknown = await signedRequest(stranger, { method: "GET", target: "/api/compute" });
expect(unknown.status === 401 && reason(unknown) === "unknown_address", "an unknown address is 401");
expect(await jobCount() === 1, "no refused request submitted a job");

cli("token", "address", "rm", wallet.address);
const removed = await signedRequest(wallet, { method: "GET", target: "/api/compute" });
expect(removed.status === 401 && reason(removed) === "unknown_address",
       "a removed address is 401");

server.kill("SIGTERM");
await new Promise((resolve) => server.on("exit", resolve));
rmSync(work, { recursive: true, force: true });
console.log(`signed requests with ethers: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
