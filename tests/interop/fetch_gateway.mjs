// SPDX-License-Identifier: Apache-2.0
//
// The fetcher against an independent implementation: a tiny trustless gateway in Node answers
// GET /ipfs/{cid}?format=car (Accept: application/vnd.ipld.car) with a CAR that
// ipfs-unixfs-importer and @ipld/car's CarWriter made (leaves first, the root last, as
// ipfs-car writes them), streamed. `sihlicon fetch CID --from DEAD --from GATEWAY` passes over
// a gateway that is down, stores the content, and it reads back as the same bytes under the
// same CID; a gateway that forges one byte of a block is refused with integrity and nothing
// is stored.
// Usage: node fetch_gateway.mjs PATH_TO_SIHLICON
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { CarWriter } from '@ipld/car'
import { importBytes } from 'ipfs-unixfs-importer'
import { MemoryBlockstore } from 'blockstore-core/memory'

const run = promisify(execFile)
const sihlicon = process.argv[2]
const work = mkdtempSync(join(tmpdir(), 'sihlicon-fetch-interop-'))
let failures = 0
let checks = 0

function check (ok, message) {
  checks++
  if (!ok) {
    failures++
    console.error('FAILED: ' + message)
  }
}

// The content: 2 MiB and some (nine leaves and a root), and one small raw block.
const contents = [randomBytes(2 * 1024 * 1024 + 12345), Buffer.from('hello world')]
const dags = new Map() // cid -> blocks in the importer's order
for (const bytes of contents) {
  const blocks = []
  const store = new MemoryBlockstore()
  const recorder = { put: async (cid, block) => { blocks.push({ cid, bytes: block }); return store.put(cid, block) } }
  const entry = await importBytes(bytes, recorder, { cidVersion: 1, rawLeaves: true })
  dags.set(entry.cid.toString(), { cid: entry.cid, blocks, bytes })
}

let forge = false
const requests = []
const server = createServer(async (request, response) => {
  const url = new URL(request.url, 'http://localhost')
  requests.push(`${request.method} ${url.pathname}${url.search} accept=${request.headers.accept}`)
  const match = url.pathname.match(/^\/ipfs\/([a-z0-9]+)$/)
  const dag = match && dags.get(match[1])
  if (!dag || request.headers.accept !== 'application/vnd.ipld.car' ||
      url.searchParams.get('format') !== 'car') {
    response.writeHead(dag ? 400 : 404).end()
    return
  }
  response.writeHead(200, { 'Content-Type': 'application/vnd.ipld.car; version=1' })
  const { writer, out } = CarWriter.create([dag.cid])
  const piped = (async () => { for await (const chunk of out) response.write(chunk) })()
  for (const [index, block] of dag.blocks.entries()) {
    let bytes = block.bytes
    if (forge && index === 0) {
      bytes = Uint8Array.from(bytes)
      bytes[bytes.length - 1] ^= 1
    }
    await writer.put({ cid: block.cid, bytes })
  }
  await writer.close()
  await piped
  response.end()
})
await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
const gateway = `http://127.0.0.1:${server.address().port}`
// A port nothing listens on: one a server had, closed again.
const dead = await new Promise(resolve => {
  const probe = createServer()
  probe.listen(0, '127.0.0.1', () => {
    const port = probe.address().port
    probe.close(() => resolve(`http://127.0.0.1:${port}`))
  })
})

try {
  for (const [cid, dag] of dags) {
    const hub = join(work, `hub-${cid.slice(-8)}`)
    execFileSync(sihlicon, ['--hub', hub, 'init'])
    const { stdout } = await run(sihlicon, ['--hub', hub, '--json', 'fetch', cid,
      '--from', dead, '--from', gateway, '--owner', 'ann'])
    const fetched = JSON.parse(stdout)
    check(fetched.contentId === cid, `fetch printed ${fetched.contentId}, expected ${cid}`)
    check(fetched.gateway === gateway, `served by ${fetched.gateway}`)
    check(fetched.fileSizeBytes === dag.bytes.length, `size ${fetched.fileSizeBytes}`)
    const back = execFileSync(sihlicon, ['--hub', hub, 'get', cid, '--as', 'ann'], { maxBuffer: 64 << 20 })
    check(Buffer.compare(back, dag.bytes) === 0, `bytes of ${cid} after fetch differ`)
    const cidOfFile = join(work, 'copy')
    writeFileSync(cidOfFile, back)
    check(execFileSync(sihlicon, ['cid', cidOfFile]).toString().trim().startsWith(cid),
      `sihlicon cid of the bytes is not ${cid}`)
  }
  check(requests.every(line => line.includes('?format=car') && line.includes('accept=application/vnd.ipld.car')),
    `requests: ${requests.join(', ')}`)

  // One byte of a block forged: integrity, nothing stored.
  forge = true
  const [cid] = dags.keys()
  const hub = join(work, 'hub-forged')
  execFileSync(sihlicon, ['--hub', hub, 'init'])
  let refused = null
  try {
    await run(sihlicon, ['--hub', hub, 'fetch', cid, '--from', gateway, '--owner', 'ann'])
  } catch (error) {
    refused = error
  }
  check(refused !== null, 'a forged block was accepted')
  check(refused && /integrity/.test(refused.stderr) && refused.stderr.includes(cid),
    `the refusal: ${refused && refused.stderr}`)
  const listed = execFileSync(sihlicon, ['--hub', hub, 'ls', '--as', 'ann']).toString().trim()
  check(listed === '', `after the refusal the hub lists: ${listed}`)
} finally {
  server.close()
  rmSync(work, { recursive: true, force: true })
}
console.log(`fetch interop: ${checks - failures} passed, ${failures} failed`)
process.exit(failures === 0 ? 0 : 1)
