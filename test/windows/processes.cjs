// Several processes on one store under Windows (the writer link over a named
// pipe), run by a Windows Node (under Wine here; test/windows.test.ts starts it):
//   1. a child process opens the store as its writer and appends;
//   2. this process opens it too and is its client: receipts through the
//      pipe, reads of its own writes, CAS and idempotency across it;
//   3. the writer is killed (TerminateProcess): this process takes the
//      writer role and keeps appending, retrying with the same keys;
//   4. a new child is this writer's client; this process closes normally
//      and the child takes the role (the closing writer refuses what it has
//      not applied, and the child resends it);
//   5. reopened: every acknowledged key is there exactly once, gapless.
//
//   node processes.cjs <causeway entry (dist/cjs/index.js)> <work dir>
//
// Prints one JSON line of findings; exits non-zero on the first failed check.
'use strict'
const assert = require('node:assert/strict')
const cp = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const [entry, work, role, ...rest] = process.argv.slice(2)
const { Store, Coordinate, EventKind, Region, isCausewayError } = require(entry)
const K = EventKind.custom(1, 1)
// Small segments: the writer rolls and seals files the others map.
const OPTS = { writerTimeoutMs: 5000, segmentMaxBytes: 16 * 1024 }
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
// The role a child wrote last ('' while it rewrites the file: writeFileSync truncates first).
const roleOf = (acks) => (fs.existsSync(`${acks}.role`) ? fs.readFileSync(`${acks}.role`, 'utf8') : '')
const lines = (file) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [])
// (The event loop is blocked here, so a child's exit event never comes: ask the system.)
const alive = (p) => {
  try {
    process.kill(p.pid, 0)
    return true
  } catch {
    return false
  }
}
const waitUntil = (what, ok, ms = 60_000) => {
  for (const t0 = Date.now(); !ok(); sleep(10)) if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`)
}
// Appends with idempotency key `key`, retrying while no writer answers (a failover).
const appendKeyed = (s, key, i) => {
  for (let tries = 0; ; tries++) {
    try {
      return s.append(new Coordinate(`order:${i % 7}`, 'shop'), K, { key, pad: 'p'.repeat(200) }, { idempotencyKey: key })
    } catch (e) {
      if (!isCausewayError(e, 'E_WRITER_UNAVAILABLE') || tries > 20) throw e
    }
  }
}
// Child roles: append keyed events, one line per receipt in `acks` (a line
// written is an acknowledged write), and the role in `<acks>.role`, until
// `<acks>.stop` exists; then close.
if (role === 'appender') {
  const [dir, tag, acks] = rest
  const s = Store.open({ dataDir: dir, ...OPTS })
  const fd = fs.openSync(acks, 'w')
  for (let i = 0; !fs.existsSync(`${acks}.stop`); i++) {
    const key = `${tag}-${i}`
    const r = appendKeyed(s, key, i)
    fs.writeSync(fd, `${key} ${r.globalSequence}\n`)
    if (i % 10 === 0) fs.writeFileSync(`${acks}.role`, `${s.stats().role} ${s.stats().clients}`)
    sleep(2)
  }
  s.close()
  fs.closeSync(fd)
  fs.writeFileSync(`${acks}.role`, 'closed')
  return
}

const found = {}
fs.mkdirSync(work, { recursive: true })
const dir = path.join(work, 'store')
const child = (tag, at = dir) => {
  const acks = path.join(work, `${tag}.acks`)
  const p = cp.spawn(process.execPath, [__filename, entry, work, 'appender', at, tag, acks], { stdio: 'ignore' })
  return { p, acks }
}

// 1. The writer, in another process.
const w = child('w')
let firstRole = '' // read once (see roleOf)
waitUntil('the writer', () => lines(w.acks).length >= 20 && (firstRole = roleOf(w.acks)) !== '')
assert.match(firstRole, /^writer /)

// 2. This process is its client.
let s = Store.open({ dataDir: dir, ...OPTS })
assert.equal(s.stats().role, 'client')
const mine = []
for (let i = 0; i < 100; i++) {
  const key = `m-${i}`
  const r = s.append(new Coordinate(`order:${i % 7}`, 'shop'), K, { key }, { idempotencyKey: key })
  mine.push(key)
  // Reads its own writes at once.
  const got = s.get(r.eventId)
  assert.ok(got, `the client does not see its own append ${key}`)
  assert.deepEqual([got.globalSequence, got.payload.key], [r.globalSequence, key])
}
const again = s.append(new Coordinate('order:0', 'shop'), K, { key: 'm-0' }, { idempotencyKey: 'm-0' })
assert.equal(again.deduplicated, true)
// CAS and batches across the link.
const clock = s.stream('cas:1').length
s.append(new Coordinate('cas:1', 'shop'), K, { key: 'cas-a' }, { expectedSequence: clock })
assert.throws(() => s.append(new Coordinate('cas:1', 'shop'), K, { key: 'cas-b' }, { expectedSequence: clock }), (e) =>
  isCausewayError(e, 'E_SEQUENCE_MISMATCH'))
const batch = s.appendBatch([0, 1, 2].map((j) => ({ coord: new Coordinate('batch:1', 'shop'), kind: K, payload: { key: `b-${j}` }, idempotencyKey: `b-${j}` })), { durable: true })
assert.equal(batch.length, 3)
mine.push('cas-a', 'b-0', 'b-1', 'b-2')
// The writer's appends reach this view with no call of ours: its notes on
// the watch pipe wake the link's monitor, which maps what is new.
const writers = () => s.query(Region.all()).filter((e) => e.payload.key?.startsWith('w-')).length
const target = lines(w.acks).length + 20
waitUntil("the writer's appends", () => writers() >= target)
// A compaction through the link, while this process maps its sources
// (Windows may make it wait for them: README, Durability, Windows).
const rep = s.compact({ strategy: 'merge' })
found.compaction = rep.performed ? 'performed' : rep.reason
assert.ok(writers() >= target)
waitUntil('the writer counting this client', () => /^writer [1-9]/.test(fs.readFileSync(`${w.acks}.role`, 'utf8')))
found.clientAppends = mine.length

// 3. The writer is killed: this process takes the role.
w.p.kill('SIGKILL')
const killedAt = Date.now()
waitUntil('the writer to exit', () => !alive(w.p))
let firstAfter = 0
for (let i = 100; i < 200; i++) {
  const key = `m-${i}`
  appendKeyed(s, key, i)
  if (!firstAfter) firstAfter = Date.now() - killedAt
  mine.push(key)
}
assert.equal(s.stats().role, 'writer')
found.failoverMs = firstAfter
found.writerAcks = lines(w.acks).length

// 4. A new client, naming the directory in other letters' case (the pipe's
//    name comes from the canonical path, lowercased); then this writer
//    closes normally and the client takes over.
const c = child('c', dir.toUpperCase())
// The role as read once: read again, it may be '' (the child truncates the file to rewrite it).
let newRole = ''
waitUntil('the new client', () => lines(c.acks).length >= 30 && (newRole = roleOf(c.acks)) !== '')
assert.match(newRole, /^client /)
assert.ok(s.stats().clients >= 1)
s.close()
const handedAt = lines(c.acks).length
waitUntil('the client to take the writer role', () => /^writer /.test(fs.readFileSync(`${c.acks}.role`, 'utf8')))
waitUntil('appends after the hand-over', () => lines(c.acks).length >= handedAt + 30)
fs.writeFileSync(`${c.acks}.stop`, '')
waitUntil('the last client to close', () => !alive(c.p))
assert.equal(fs.readFileSync(`${c.acks}.role`, 'utf8'), 'closed')

// 5. Every acknowledged key exactly once, every sequence once.
s = Store.open({ dataDir: dir, ...OPTS })
found.segments = s.diagnostics().segmentList.length
const events = s.query(Region.all())
events.forEach((e, i) => assert.equal(e.globalSequence, BigInt(i), 'a gap in the global sequence'))
const times = new Map()
for (const e of events) if (e.payload.key) times.set(e.payload.key, (times.get(e.payload.key) ?? 0) + 1)
const acked = [...mine, ...lines(w.acks).map((l) => l.split(' ')[0]), ...lines(c.acks).map((l) => l.split(' ')[0])]
for (const key of acked) assert.equal(times.get(key), 1, `acknowledged ${key} is there ${times.get(key) ?? 0} times`)
for (const [key, n] of times) assert.equal(n, 1, `${key} applied ${n} times`)
assert.equal(times.has('cas-b'), false)
const chain = s.verifyChain()
assert.deepEqual([chain.brokenLinks.length, chain.contentMismatches.length], [0, 0])
found.acknowledged = acked.length
found.events = events.length
s.close()
console.log(JSON.stringify(found))
