// Child process: the baseline a Node team would write, fastify 5 +
// better-sqlite3: WAL, synchronous=NORMAL (a commit survives a process
// crash; a power loss may lose the commits since the last WAL checkpoint:
// the same promise as causeway's default append), an events table with a
// UNIQUE (stream, version) key, prepared INSERTs, JSON bodies, a bearer
// token compared in constant time. Same routes and bodies as causeway's
// /v1/append and /v1/batch; plain HTTP/1.1 and HTTP/2 over TLS.
import { timingSafeEqual, createHash } from 'node:crypto'
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'

const require = createRequire(import.meta.url)
const Database = require('better-sqlite3')
const fastify = require('fastify')

const { token, tls } = JSON.parse(process.env.BENCH_SERVER_CONFIG)
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cw-httpbench-sqlite-'))
const db = new Database(path.join(dir, 'events.db'))
db.pragma('journal_mode = WAL')
db.pragma('synchronous = NORMAL')
db.exec(`CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  stream TEXT NOT NULL, scope TEXT NOT NULL, version INTEGER NOT NULL,
  type TEXT NOT NULL, payload TEXT NOT NULL, ts INTEGER NOT NULL,
  UNIQUE (stream, version))`)
const next = db.prepare('SELECT COALESCE(MAX(version), 0) + 1 AS v FROM events WHERE stream = ?').pluck()
const insert = db.prepare('INSERT INTO events (stream, scope, version, type, payload, ts) VALUES (?, ?, ?, ?, ?, ?)')
function appendOne(e) {
  if (typeof e?.entity !== 'string' || typeof e.scope !== 'string' || typeof e.type !== 'string' || !('payload' in e)) {
    const err = new Error('entity, scope, type and payload are required')
    err.statusCode = 400
    throw err
  }
  const version = next.get(e.entity)
  const r = insert.run(e.entity, e.scope, version, e.type, JSON.stringify(e.payload), Date.now())
  return { globalSequence: String(r.lastInsertRowid), version }
}
const appendMany = db.transaction((items) => items.map(appendOne))

// Live delivery as a Node team would add it: an in-process broadcast to
// every open Server-Sent-Events response after each committed insert (no
// resume, no backpressure: what a first version looks like).
const live = new Set()
function broadcast(e, receipt) {
  if (live.size === 0) return
  const msg = `id: ${receipt.globalSequence}\nevent: event\ndata: ${JSON.stringify({ globalSequence: receipt.globalSequence, entity: e.entity, scope: e.scope, type: e.type, payload: e.payload })}\n\n`
  for (const res of live) res.write(msg)
}

const want = Buffer.from(createHash('sha256').update(`Bearer ${token}`).digest())
function auth(req, reply, done) {
  const got = createHash('sha256').update(String(req.headers.authorization ?? '')).digest()
  if (!timingSafeEqual(got, want)) return reply.code(401).send({ error: { code: 'E_UNAUTHORIZED', message: 'bad token' } })
  done()
}
function app(opts) {
  const a = fastify({ logger: false, bodyLimit: 4 * 1024 * 1024, ...opts })
  a.addHook('onRequest', auth)
  a.post('/v1/append', async (req) => {
    const r = appendOne(req.body)
    broadcast(req.body, r)
    return r
  })
  a.post('/v1/batch', async (req) => {
    const receipts = appendMany(req.body.items)
    req.body.items.forEach((e, i) => broadcast(e, receipts[i]))
    return { receipts }
  })
  a.get('/v1/live', (req, reply) => {
    reply.hijack()
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    reply.raw.write(': ok\n\n')
    live.add(reply.raw)
    req.raw.on('close', () => live.delete(reply.raw))
  })
  return a
}
const h1 = app({})
const h2 = app({ http2: true, https: { ...tls, allowHTTP1: true } })
await h1.listen({ host: '127.0.0.1', port: 0 })
await h2.listen({ host: '127.0.0.1', port: 0 })
process.send({ h1: `http://127.0.0.1:${h1.server.address().port}`, h2: `https://127.0.0.1:${h2.server.address().port}` })
process.on('message', async (m) => {
  // The parent reads this process's CPU time around each case.
  if (m === 'cpu') return process.send({ cpu: process.cpuUsage() })
  if (m !== 'stop') return
  await h1.close()
  await h2.close()
  db.close()
  fs.rmSync(dir, { recursive: true, force: true })
  process.exit(0)
})
