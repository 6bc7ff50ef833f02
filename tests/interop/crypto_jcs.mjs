// SPDX-License-Identifier: Apache-2.0
//
// Checks sihlicon's RFC 8785 JSON canonicalization against npm canonicalize (by an RFC 8785
// author) and ECMAScript's own number formatting.
// Usage: node crypto_jcs.mjs PATH/TO/crypto_interop_vectors
import { execFileSync } from "node:child_process";
import canonicalize from "canonicalize";

const program = process.argv[2];
const vectors = JSON.parse(execFileSync(program, ["jcs"], { maxBuffer: 1 << 28 }));
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

for (const { input, canonical } of vectors.documents) {
  const theirs = canonicalize(JSON.parse(input));
  expect(theirs === canonical, `canonical form of ${input}:\n  ours   ${canonical}\n  theirs ${theirs}`);
}
const view = new DataView(new ArrayBuffer(8));
for (const { bits, canonical } of vectors.numbers) {
  view.setBigUint64(0, BigInt(`0x${bits}`));
  const theirs = canonicalize(view.getFloat64(0));
  expect(theirs === canonical, `number with bits ${bits}: ours ${canonical}, theirs ${theirs}`);
}
console.log(`crypto.interop.jcs: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
