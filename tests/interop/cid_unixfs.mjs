// SPDX-License-Identifier: Apache-2.0
//
// `sihlicon cid` against the reference JavaScript importer (ipfs-unixfs-importer with
// blockstore-core's MemoryBlockstore) for every size class, several chunk sizes and widths,
// and every CID string against multiformats' CID.parse.
// Usage: node cid_unixfs.mjs PATH_TO_SIHLICON
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { importBytes } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { MemoryBlockstore } from 'blockstore-core/memory'
import { CID } from 'multiformats/cid'

const sihlicon = process.argv[2]
const work = mkdtempSync(join(tmpdir(), 'sihlicon-cid-interop-'))
let failures = 0
let checks = 0

function fail (message) {
  failures++
  console.error('FAILED: ' + message)
}

// A few pseudo-random sizes, different each run but printed for reproduction.
const randomSizes = Array.from({ length: 4 }, () => Math.floor(Math.random() * 3 * 262144))
console.log('random sizes: ' + randomSizes.join(', '))

const cases = [
  { name: 'default', args: [], chunkSize: 262144, width: 174,
    sizes: [0, 1, 262143, 262144, 262145, 174 * 262144 + 1, ...randomSizes] },
  { name: 'chunk 1024, width 4', args: ['--chunk-size', '1024', '--max-links', '4'],
    chunkSize: 1024, width: 4, sizes: [0, 1023, 1024, 4 * 1024, 4 * 1024 + 1, 17 * 1024 + 5, 70001] },
  { name: 'profile unixfs-v1-2025', args: ['--profile', 'unixfs-v1-2025'],
    chunkSize: 1048576, width: 1024, sizes: [1048576, 1048577] }
]

for (const testCase of cases) {
  const files = testCase.sizes.map((size, index) => {
    const path = join(work, `${testCase.name.replace(/[^a-z0-9]/g, '_')}-${index}-${size}`)
    const bytes = size === 174 * 262144 + 1 ? Buffer.alloc(size, 0x5a) : randomBytes(size)
    if (size === 174 * 262144 + 1) randomBytes(4096).copy(bytes, 1000) // not all one chunk
    writeFileSync(path, bytes)
    return { path, bytes, size }
  })
  const ours = execFileSync(sihlicon, ['cid', ...testCase.args, ...files.map(f => f.path)])
    .toString().trim().split('\n')
  for (const [index, file] of files.entries()) {
    const entry = await importBytes(file.bytes, new MemoryBlockstore(), {
      cidVersion: 1,
      rawLeaves: true,
      chunker: fixedSize({ chunkSize: testCase.chunkSize }),
      layout: balanced({ maxChildrenPerNode: testCase.width })
    })
    const expected = entry.cid.toString()
    checks++
    if (ours[index] !== expected) {
      fail(`${testCase.name}, ${file.size} bytes: sihlicon ${ours[index]}, importer ${expected}`)
    }
    const parsed = CID.parse(ours[index])
    checks++
    if (parsed.version !== 1 || parsed.multihash.code !== 0x12 ||
        parsed.toString() !== ours[index] || ![0x55, 0x70].includes(parsed.code)) {
      fail(`CID.parse(${ours[index]}) disagrees`)
    }
  }
}

// The SPECS.md vectors, as multiformats parses them.
for (const [text, code] of [
  ['bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku', 0x55],
  ['bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e', 0x55],
  ['bafybeigmix7t42i6jacydtquhet7srwvgpizfg7gjbq7627d35mjomtu64', 0x70]]) {
  checks++
  const cid = CID.parse(text)
  if (cid.code !== code || cid.toString() !== text) fail(`vector ${text}`)
}

rmSync(work, { recursive: true, force: true })
console.log(`cid interop: ${checks - failures} passed, ${failures} failed`)
process.exit(failures === 0 ? 0 : 1)
