// SPDX-License-Identifier: Apache-2.0
//
// The hub's IPFS Trustless Gateway read by a real IPFS client: `sihlicon serve` on loopback,
// content built by ipfs-unixfs-importer (an independent UnixFS implementation) and uploaded as
// a CAR (@ipld/car's CarWriter) through POST /api/v1/car, then fetched by @helia/verified-fetch
// over a Helia node that knows only our server (@helia/http: the trustless-gateway block
// broker, httpGatewayRouting with our URL as its only gateway; no libp2p, no DHT, no delegated
// router). It verifies every block against its CID and must give back the same bytes, for a
// chunked file with dag-pb leaves, one with raw leaves, and a single raw block. @ipld/car's
// CarReader also checks the CAR the gateway serves for ?format=car.
// Usage: node gateway_verified_fetch.mjs PATH_TO_SIHLICON
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { CarReader, CarWriter } from '@ipld/car'
import { importBytes } from 'ipfs-unixfs-importer'
import { sha256 } from 'multiformats/hashes/sha2'
import { equals } from 'multiformats/bytes'
import { createHeliaHTTP } from '@helia/http'
import { trustlessGateway } from '@helia/block-brokers'
import { httpGatewayRouting } from '@helia/routers'
import { createVerifiedFetch } from '@helia/verified-fetch'

// Helia's queues call Promise.withResolvers (Node 22); this machine's Node may be 20.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function () {
    let resolve, reject
    const promise = new Promise((resolveIt, rejectIt) => { resolve = resolveIt; reject = rejectIt })
    return { promise, resolve, reject }
  }
}

const sihlicon = process.argv[2]
const work = mkdtempSync(join(tmpdir(), 'sihlicon-gateway-interop-'))
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

run('init')
const token = JSON.parse(run('--json', 'token', 'create', 'ann', '--role', 'client')).token

const server = spawn(sihlicon, ['--hub', hub, 'serve', '--listen', '127.0.0.1:0'])
const port = await new Promise((resolve, reject) => {
  let out = ''
  server.stdout.on('data', (chunk) => {
    out += chunk
    const match = /^listening on 127\.0\.0\.1:(\d+)$/m.exec(out)
    if (match) resolve(Number(match[1]))
  })
  server.on('exit', (code) => reject(new Error(`sihlicon serve exited with ${code}`)))
})
const base = `http://127.0.0.1:${port}`

// A file as ipfs-unixfs-importer builds it, uploaded as a public CAR; returns its root.
async function upload (bytes, options) {
  const blocks = new Map()
  const recorder = { put: async (cid, block) => { blocks.set(cid.toString(), { cid, bytes: block }); return cid } }
  const { cid } = await importBytes(bytes, recorder, options)
  const { writer, out } = CarWriter.create([cid])
  const parts = []
  const collected = (async () => { for await (const part of out) parts.push(part) })()
  for (const block of blocks.values()) await writer.put(block)
  await writer.close()
  await collected
  const response = await fetch(`${base}/api/v1/car?accessLevel=public&minReplicas=0`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/vnd.ipld.car' },
    body: Buffer.concat(parts)
  })
  const answer = await response.json()
  check(response.status === 200, `upload of ${cid}: ${response.status} ${JSON.stringify(answer)}`)
  return cid
}

const files = [
  ['a chunked file with dag-pb leaves', randomBytes(3 * 262144 + 1000),
    { rawLeaves: false, cidVersion: 1 }],
  ['a chunked file with raw leaves', randomBytes(2 * 1024 * 1024 + 12345),
    { rawLeaves: true, cidVersion: 1 }],
  ['a single raw block', randomBytes(100000), { rawLeaves: true, cidVersion: 1 }]
]

const helia = await createHeliaHTTP({
  blockBrokers: [trustlessGateway({ allowInsecure: true, allowLocal: true })],
  routers: [httpGatewayRouting({ gateways: [base] })]
})
const verifiedFetch = await createVerifiedFetch(helia)

try {
  for (const [what, bytes, options] of files) {
    const cid = await upload(bytes, options)
    if (what === 'a single raw block') {
      check(cid.code === 0x55, `${what} has a raw CID (${cid})`)
    } else {
      check(cid.code === 0x70, `${what} has a dag-pb root (${cid})`)
    }
    const response = await verifiedFetch(`ipfs://${cid}`, { signal: AbortSignal.timeout(60000) })
    check(response.status === 200, `${what}: verified-fetch answers ${response.status}`)
    const got = new Uint8Array(await response.arrayBuffer())
    check(equals(got, new Uint8Array(bytes)), `${what}: verified-fetch gives back the same bytes`)

    const car = await fetch(`${base}/ipfs/${cid}?format=car`)
    check(car.status === 200, `${what}: ?format=car answers ${car.status}`)
    if (car.status !== 200) continue
    check(car.headers.get('content-type') ===
      'application/vnd.ipld.car; version=1; order=dfs; dups=n', `${what}: CAR content type`)
    const reader = await CarReader.fromBytes(new Uint8Array(await car.arrayBuffer()))
    const roots = await reader.getRoots()
    check(roots.length === 1 && roots[0].equals(cid), `${what}: the CAR's root`)
    let blocks = 0
    for await (const block of reader.blocks()) {
      blocks++
      const digest = await sha256.digest(block.bytes)
      check(equals(digest.bytes, block.cid.multihash.bytes), `${what}: block ${block.cid} hashes to its CID`)
    }
    check(blocks > 0, `${what}: the CAR has blocks`)
  }
  // Private content is not served without a token, to verified-fetch as to anyone.
  const hidden = (await importBytes(randomBytes(5000), { put: async (cid) => cid })).cid
  const absent = await fetch(`${base}/ipfs/${hidden}?format=raw`)
  check(absent.status === 404, `a CID the hub does not hold is 404 (${absent.status})`)
} finally {
  await verifiedFetch.stop()
  await helia.stop()
  server.kill('SIGTERM')
  rmSync(work, { recursive: true, force: true })
}

console.log(`${checks - failures}/${checks} checks passed`)
process.exit(failures === 0 ? 0 : 1)
