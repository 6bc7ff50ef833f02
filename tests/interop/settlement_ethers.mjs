// SPDX-License-Identifier: Apache-2.0
//
// Checks a sealed epoch of sihlicon against independent peers: npm ethers verifies the
// EIP-191 signature of SUMMARY.json (SIGNATURE.txt), and an RFC 6962 Merkle tree written here
// from the RFC (node:crypto SHA-256, JSON.stringify with sorted keys as the JCS of the flat
// job records) recomputes the root from jobs.json and checks every receipt's inclusion proof.
// Usage: node settlement_ethers.mjs PATH/TO/settlement_interop_epoch WORKDIR
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { verifyMessage, hashMessage } from "ethers";

const program = process.argv[2];
const work = mkdtempSync(join(process.argv[3] ?? tmpdir(), "settlement-interop-"));
const out = execFileSync(program, [work, "13"]).toString().trim();
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

const sha256 = (...parts) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
};
const leafHash = (bytes) => sha256(Buffer.from([0]), bytes);
const nodeHash = (l, r) => sha256(Buffer.from([1]), l, r);
// RFC 6962 §2.1: MTH of n leaves splits at the largest power of two smaller than n.
function mth(hashes) {
  if (hashes.length === 0) return sha256(Buffer.alloc(0));
  if (hashes.length === 1) return hashes[0];
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return nodeHash(mth(hashes.slice(0, k)), mth(hashes.slice(k)));
}
// RFC 9162 §2.1.3.2 inclusion verification.
function verifyInclusion(leaf, index, size, proof, root) {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && r.equals(root);
}
const jcsFlat = (o) => JSON.stringify(Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]])));

const summaryBytes = readFileSync(join(out, "SUMMARY.json"));
const summary = JSON.parse(summaryBytes.toString("utf8"));
const [address, signature] = readFileSync(join(out, "SIGNATURE.txt"), "utf8").trim().split("\n");
expect(verifyMessage(summaryBytes, signature) === address,
       `ethers verifyMessage(SUMMARY.json) = ${verifyMessage(summaryBytes, signature)}, SIGNATURE.txt says ${address}`);
expect(summary.signer === address, "SUMMARY.json names the signer");
const jobsBytes = readFileSync(join(out, "jobs.json"));
expect(createHash("sha256").update(jobsBytes).digest("hex") === summary.artifacts["jobs.json"],
       "sha256 of jobs.json is the summary's");
const agentsBytes = readFileSync(join(out, "agents.json"));
expect(createHash("sha256").update(agentsBytes).digest("hex") === summary.artifacts["agents.json"],
       "sha256 of agents.json is the summary's");
const jobs = JSON.parse(jobsBytes.toString("utf8"));
expect(jobs.length === summary.jobs_count, `jobs.json has ${jobs.length} records, summary ${summary.jobs_count}`);
const ids = jobs.map((j) => j.job_id);
expect(ids.every((id, i) => i === 0 || Buffer.compare(Buffer.from(ids[i - 1]), Buffer.from(id)) < 0),
       "jobs.json is in job-id order");
const leaves = jobs.map((j) => Buffer.from(jcsFlat(j), "utf8"));
const root = mth(leaves.map(leafHash));
expect(root.toString("hex") === summary.jobs_merkle_root,
       `RFC 6962 root ${root.toString("hex")}, summary ${summary.jobs_merkle_root}`);
for (const name of readdirSync(join(out, "receipts"))) {
  const r = JSON.parse(readFileSync(join(out, "receipts", name), "utf8"));
  expect(verifyMessage(Buffer.from(r.summary, "utf8"), r.signature) === r.signer, `receipt ${name}: signature`);
  expect(r.summary === summaryBytes.toString("utf8"), `receipt ${name}: the epoch's summary`);
  expect(r.leaf === jcsFlat(jobs[r.leaf_index]), `receipt ${name}: leaf is the JCS of jobs[${r.leaf_index}]`);
  const proof = r.proof.map((h) => Buffer.from(h, "hex"));
  expect(verifyInclusion(leafHash(Buffer.from(r.leaf, "utf8")), r.leaf_index, summary.jobs_count, proof, root),
         `receipt ${name}: inclusion proof`);
  const wrong = (r.leaf_index + 1) % summary.jobs_count;
  expect(!verifyInclusion(leafHash(Buffer.from(r.leaf, "utf8")), wrong, summary.jobs_count, proof, root),
         `receipt ${name}: the proof fails at another index`);
}
expect(hashMessage("Hello World") === "0xa1de988600a42c4b4ab089b619297c17d53cffae5d5120d82d8a92d0bb3b78f2",
       "ethers hashMessage vector");
rmSync(work, { recursive: true, force: true });
console.log(`settlement.interop.ethers: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
