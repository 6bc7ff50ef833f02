// SPDX-License-Identifier: Apache-2.0
//
// Checks sihlicon's Keccak-256, EIP-191 signatures and EIP-55 addresses against npm ethers.
// Usage: node crypto_ethers.mjs PATH/TO/crypto_interop_vectors
import { execFileSync } from "node:child_process";
import { Wallet, getBytes, hashMessage, keccak256, verifyMessage, getAddress } from "ethers";

const program = process.argv[2];
const vectors = JSON.parse(execFileSync(program, ["ethereum"], { maxBuffer: 1 << 28 }));
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

for (const { input, hash } of vectors.keccak) {
  expect(keccak256(input) === hash, `keccak256 of ${getBytes(input).length} bytes: ours ${hash}, ethers ${keccak256(input)}`);
}
for (const v of vectors.signatures) {
  const message = getBytes(v.message);
  const wallet = new Wallet(v.key);
  expect(wallet.address === v.address, `address of key: ours ${v.address}, ethers ${wallet.address}`);
  expect(getAddress(v.address.toLowerCase()) === v.address, `EIP-55 form of ${v.address}`);
  expect(hashMessage(message) === v.digest, `hashMessage of ${v.message}`);
  expect(verifyMessage(message, v.signature) === v.address, `verifyMessage of ${v.message} signed by ${v.address}`);
  // ethers signs with RFC 6979 too: the very same bytes.
  const theirs = await wallet.signMessage(message);
  expect(theirs === v.signature, `signMessage of ${v.message}: ours ${v.signature}, ethers ${theirs}`);
}
console.log(`crypto.interop.ethers: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
