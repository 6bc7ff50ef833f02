// SPDX-License-Identifier: Apache-2.0
//
// CAR files: what `sihlicon car export` writes is read by @ipld/car's CarReader (roots and
// every block verified against its CID, the block set equal to ipfs-unixfs-importer's), and
// a CAR written by @ipld/car's CarWriter from the importer's blocks is accepted by
// `sihlicon car import` and reads back as the same bytes.
// Usage: node car_reader.mjs PATH_TO_SIHLICON
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { CarReader, CarWriter } from '@ipld/car'
import { importBytes } from 'ipfs-unixfs-importer'
import { MemoryBlockstore } from 'blockstore-core/memory'
import { sha256 } from 'multiformats/hashes/sha2'
import { equals } from 'multiformats/bytes'

const sihlicon = process.argv[2]
const work = mkdtempSync(join(tmpdir(), 'sihlicon-car-interop-'))
const hub = join(work, 'hub')
let failures = 0
let checks = 0

function check (ok, message) {
  checks++
  if (!ok) {
    failures++
    console.error('FAILED: ' + message)
  }
}

function run (...args) {
  return execFileSync(sihlicon, ['--hub', hub, ...args]).toString().trim()
}

execFileSync(sihlicon, ['--hub', hub, 'init'])
const repeated = Buffer.alloc(3 * 262144 + 100, 0) // identical chunks: each block once in the CAR
const contents = [Buffer.from('hello world'), randomBytes(2 * 1024 * 1024 + 12345), repeated]

for (const [index, bytes] of contents.entries()) {
  const file = join(work, `input-${index}`)
  writeFileSync(file, bytes)
  const cid = run('put', file)
  const carPath = join(work, `export-${index}.car`)
  run('car', 'export', cid, carPath)

  const reader = await CarReader.fromBytes(readFileSync(carPath))
  const roots = await reader.getRoots()
  check(roots.length === 1 && roots[0].toString() === cid, `roots of ${cid}: ${roots}`)
  const ours = new Set()
  for await (const block of reader.blocks()) {
    const digest = await sha256.digest(block.bytes)
    check(equals(digest.digest, block.cid.multihash.digest), `block ${block.cid} hashes wrong`)
    check(!ours.has(block.cid.toString()), `block ${block.cid} appears twice`)
    ours.add(block.cid.toString())
  }
  // A MemoryBlockstore keyed by CID as the importer writes it (getAll() would return
  // multihash-keyed raw CIDs).
  const blockstore = new MemoryBlockstore()
  const put = new Map()
  const recorder = { put: async (blockCid, block) => { put.set(blockCid.toString(), { cid: blockCid, bytes: block }); return blockstore.put(blockCid, block) } }
  const entry = await importBytes(bytes, recorder, { cidVersion: 1, rawLeaves: true })
  check(entry.cid.toString() === cid, `importer root ${entry.cid} vs ${cid}`)
  const theirs = new Set()
  for (const key of put.keys()) theirs.add(key)
  check(theirs.size === ours.size && [...theirs].every(c => ours.has(c)),
    `block sets differ for ${cid}: ${ours.size} vs ${theirs.size}`)

  // A CAR written by @ipld/car is imported by sihlicon into a second hub and reads back.
  const { writer, out } = CarWriter.create([entry.cid])
  const chunks = []
  const collected = (async () => { for await (const chunk of out) chunks.push(chunk) })()
  for (const block of put.values()) await writer.put(block)
  await writer.close()
  await collected
  const theirCar = join(work, `theirs-${index}.car`)
  writeFileSync(theirCar, Buffer.concat(chunks))
  const other = join(work, `hub-${index}`)
  execFileSync(sihlicon, ['--hub', other, 'init'])
  const imported = execFileSync(sihlicon, ['--hub', other, 'car', 'import', theirCar]).toString().trim()
  check(imported === cid, `car import printed ${imported}, expected ${cid}`)
  const back = execFileSync(sihlicon, ['--hub', other, 'get', cid], { maxBuffer: 64 << 20 })
  check(Buffer.compare(back, bytes) === 0, `bytes of ${cid} after import differ`)
}

rmSync(work, { recursive: true, force: true })
console.log(`car interop: ${checks - failures} passed, ${failures} failed`)
process.exit(failures === 0 ? 0 : 1)
