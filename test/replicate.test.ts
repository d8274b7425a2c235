// Replication to one real nats-server (JetStream, R1) on loopback: small
// and fast, in npm test when nats-server is installed. The 3-node cluster
// tests are in replicate-cluster.test.ts (CAUSEWAY_JETSTREAM=1).
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Coordinate, EventKind, isCausewayError, Region, Store } from '../src/index.js'
import { openReplica, replicate } from '../src/replicate/index.js'
import { loadNats } from '../src/replicate/nats.js'
import { frameOf, subjectOf } from '../src/replicate/wire.js'
import { spawnSync } from 'node:child_process'
import { repoRoot, tempDir } from './helpers.js'
import { NatsCluster, natsServer } from './nats-cluster.js'
import { expectSameLog, fill, Placed, streamMessages } from './replicate-helpers.js'
import { serve } from '../src/server/index.js'

const found = natsServer()
const reason = 'reason' in found ? found.reason : ''
const K = EventKind.custom(1, 1)

describe.skipIf(reason !== '')(`replication to one JetStream node${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let nats: NatsCluster
  beforeAll(async () => {
    nats = await NatsCluster.start((found as { bin: string }).bin, 1)
  })
  afterAll(async () => {
    await nats?.stopAll()
  })

  it('every event lands once, in global order, as its stored frame with its id as Nats-Msg-Id', async () => {
    const dir = tempDir('repl')
    const store = Store.open({ dataDir: dir })
    for (let i = 0; i < 50; i++) store.append(new Coordinate(`order/${i % 7}`, 'shop'), K, { i })
    const pub = await replicate(store, { servers: nats.url(0), stream: 'one', replicas: 1 })
    await pub.waitFor(50n)
    expect(pub.status()).toMatchObject({ acknowledged: 50n, lag: 0, published: 50, fenced: false })
    expect(store.metrics().replication).toMatchObject({ role: 'publisher', stream: 'one', lagEvents: 0, position: 50, published: 50, fenced: false })
    const msgs = await streamMessages(nats.url(0), 'one', 1, 50)
    const events = store.readFiltered({ fromSequence: 0, limit: 100 })
    msgs.forEach((m, i) => {
      expect(m!.subject).toBe(subjectOf('one'))
      expect(m!.header.get('Nats-Msg-Id')).toBe(events[i]!.eventId)
      expect(Buffer.from(m!.data).equals(Buffer.from(frameOf(events[i]!)))).toBe(true)
    })
    await pub.close()
    store.close()
    // Owner-only position file, written by rename.
    const st = fs.statSync(path.join(dir, 'replication', 'one.json'))
    expect(st.mode & 0o777).toBe(0o600)
  })

  it('a restart whose saved position is behind the stream (crash after the ack) publishes nothing twice', async () => {
    const dir = tempDir('repl')
    const store = Store.open({ dataDir: dir })
    for (let i = 0; i < 20; i++) store.append(new Coordinate('a', 's'), K, { i })
    const pub = await replicate(store, { servers: nats.url(0), stream: 'two', replicas: 1 })
    await pub.waitFor(20n)
    await pub.close()
    // As if the process died between JetStream's ack and the save.
    fs.writeFileSync(path.join(dir, 'replication', 'two.json'), JSON.stringify({ next: '5', stream: 'two' }))
    for (let i = 20; i < 30; i++) store.append(new Coordinate('a', 's'), K, { i })
    const again = await replicate(store, { servers: nats.url(0), stream: 'two', replicas: 1 })
    await again.waitFor(30n)
    expect(again.status()).toMatchObject({ acknowledged: 30n, published: 10, duplicates: 0 })
    await again.close()
    const msgs = await streamMessages(nats.url(0), 'two', 1, 30)
    expect(msgs.map((m) => m!.header.get('Nats-Msg-Id'))).toEqual(store.readFiltered({ fromSequence: 0, limit: 100 }).map((e) => e.eventId))
    store.close()
  })

  it('a store whose stream holds another writer\'s events is fenced with E_FENCED', async () => {
    const a = Store.open({ dataDir: tempDir('repl') })
    const b = Store.open({ dataDir: tempDir('repl') })
    a.append(new Coordinate('x', 's'), K, { from: 'a' })
    b.append(new Coordinate('x', 's'), K, { from: 'b' })
    const pa = await replicate(a, { servers: nats.url(0), stream: 'three', replicas: 1 })
    await pa.waitFor(1n)
    await pa.close()
    const pb = await replicate(b, { servers: nats.url(0), stream: 'three', replicas: 1 })
    const err = await pb.done.then(() => undefined, (e: unknown) => e)
    expect(isCausewayError(err, 'E_FENCED')).toBe(true)
    expect(pb.status().fenced).toBe(true)
    await pb.close()
    a.close()
    b.close()
  })

  it('a replica holds the primary\'s frames byte for byte and refuses a frame that does not continue its log', async () => {
    const primary = Store.open({ dataDir: tempDir('repl') })
    const end = fill(primary, 300)
    const pub = await replicate(primary, { servers: nats.url(0), stream: 'four', replicas: 1 })
    await pub.waitFor(end)
    const replica = await openReplica({ dataDir: tempDir('replica'), servers: nats.url(0), stream: 'four' })
    await replica.waitFor(end)
    expect(expectSameLog(primary, replica.store)).toBe(Number(end))
    expect(replica.store.metrics().replication).toMatchObject({ role: 'replica', stream: 'four', position: Number(end) })
    expect(replica.store.verifyChain()).toMatchObject({ contentMismatches: [], brokenLinks: [] })
    // A frame from elsewhere (here: the primary's first, again) is refused and writes nothing.
    const first = Buffer.from(frameOf(primary.readFiltered({ fromSequence: 0, limit: 1 })[0]!))
    const padded = Buffer.concat([first, Buffer.alloc((8 - (first.length % 8)) % 8)])
    const h = replica.store.nativeHandle() as unknown as { appendFrames(b: Uint8Array, n: number, d: boolean, r: Uint8Array): void }
    expect(() => h.appendFrames(padded, 1, false, new Uint8Array(136))).toThrow(/does not follow this log/)
    expect(replica.store.nativeHandle().nextSequence()).toBe(Number(end))
    // A replica refuses to publish.
    await expect(replicate(replica.store, { servers: nats.url(0), stream: 'four' })).rejects.toMatchObject({ code: 'E_REPLICATION' })
    await replica.close()
    await pub.close()
    primary.close()
  })

  it("durable: 'replicated' resolves only once JetStream acknowledged the event (append, appendBatch, appendIf)", async () => {
    const store = Store.open({ dataDir: tempDir('repl') })
    const pub = await replicate(store, { servers: nats.url(0), stream: 'six', replicas: 1 })
    const r = await store.append(new Coordinate('a', 's'), K, { n: 1 }, { durable: 'replicated' })
    // Resolved: the publisher has it acknowledged and the store has it synced.
    expect(pub.status().acknowledged).toBeGreaterThanOrEqual(r.globalSequence + 1n)
    expect(BigInt(store.nativeHandle().durableSequence())).toBeGreaterThan(r.globalSequence)
    const batch = await store.appendBatch([{ coord: new Coordinate('a', 's'), kind: K, payload: { n: 2 } }, { coord: new Coordinate('b', 's'), kind: K, payload: { n: 3 } }], { durable: 'replicated' })
    expect(pub.status().acknowledged).toBeGreaterThanOrEqual(batch[1]!.globalSequence + 1n)
    const cond = await store.appendIf([{ coord: new Coordinate('c', 's'), kind: K, payload: { n: 4 } }], { failIfEventsMatch: Region.entity('c'), after: null }, { durable: 'replicated' })
    const last = cond[0]!.globalSequence
    expect(pub.status().acknowledged).toBeGreaterThanOrEqual(last + 1n)
    const [msg] = await streamMessages(nats.url(0), 'six', Number(last) + 1, Number(last) + 1)
    expect(msg!.header.get('Nats-Msg-Id')).toBe(cond[0]!.eventId)
    await pub.close()
    // No publisher any more: refused, and nothing is written.
    const before = store.nativeHandle().nextSequence()
    await expect(store.append(new Coordinate('a', 's'), K, {}, { durable: 'replicated' })).rejects.toMatchObject({ code: 'E_NOT_REPLICATING' })
    await expect(store.appendBatch([{ coord: new Coordinate('a', 's'), kind: K, payload: {} }], { durable: 'replicated' })).rejects.toMatchObject({ code: 'E_NOT_REPLICATING' })
    expect(store.nativeHandle().nextSequence()).toBe(before)
    store.close()
  })

  it('Store.open({ replicate }) publishes from this process, store.replication has its status, close() stops it', async () => {
    const dir = tempDir('repl')
    const store = Store.open({ dataDir: dir, replicate: { servers: nats.url(0), stream: 'seven', replicas: 1 } })
    expect(store.replication).toMatchObject({ state: 'connecting', stream: 'seven' })
    fill(store, 40)
    // Appended while it connects: the Promise waits for the publisher.
    const early = store.append(new Coordinate('a', 's'), K, { n: 0 }, { durable: 'replicated' })
    await store.replication!.ready
    expect(store.replication!.state).toBe('running')
    const r = await early
    const last = await store.append(new Coordinate('a', 's'), K, { n: 99 }, { durable: 'replicated' })
    expect(store.replication!.status()).toMatchObject({ stream: 'seven', fenced: false })
    expect(store.replication!.status()!.acknowledged).toBeGreaterThanOrEqual(last.globalSequence + 1n)
    expect(store.metrics().replication).toMatchObject({ role: 'publisher', stream: 'seven' })
    const ids = store.readFiltered({ fromSequence: 0, limit: 1000 }).map((e) => e.eventId)
    const replication = store.replication!
    store.close()
    await replication.closed
    expect(replication.state).toBe('stopped')
    const msgs = await streamMessages(nats.url(0), 'seven', 1, Number(last.globalSequence) + 1)
    expect(msgs.map((m) => m!.header.get('Nats-Msg-Id'))).toEqual(ids)
    expect(ids).toContain(r.eventId)
    // Reopened with the option: it resumes where JetStream acknowledged, publishing nothing twice.
    const again = Store.open({ dataDir: dir, replicate: { servers: nats.url(0), stream: 'seven', replicas: 1 } })
    await again.replication!.ready
    const more = await again.append(new Coordinate('b', 's'), K, {}, { durable: 'replicated' })
    expect(again.replication!.status()).toMatchObject({ published: 1, duplicates: 0, acknowledged: more.globalSequence + 1n })
    again.close()
    await again.replication!.closed
  })

  it('a store opened on a read replica refuses appends with E_REPLICA_READ_ONLY; the service serves its reads and answers 409', async () => {
    const primary = Store.open({ dataDir: tempDir('repl') })
    const end = fill(primary, 60)
    const pub = await replicate(primary, { servers: nats.url(0), stream: 'eight', replicas: 1 })
    await pub.waitFor(end)
    const rdir = tempDir('replica')
    const replica = await openReplica({ dataDir: rdir, servers: nats.url(0), stream: 'eight' })
    await replica.waitFor(end)
    await replica.close()
    // Read-only or writable, an open of the replica's directory refuses appends the same way.
    const reader = Store.open({ dataDir: rdir, readOnly: true })
    expect(() => reader.append(new Coordinate('a', 's'), Placed, {})).toThrow(expect.objectContaining({ code: 'E_REPLICA_READ_ONLY' }))
    reader.close()
    const store = Store.open({ dataDir: rdir })
    expect(() => store.append(new Coordinate('a', 's'), Placed, {})).toThrow(expect.objectContaining({ code: 'E_REPLICA_READ_ONLY' }))
    expect(() => store.appendBatch([{ coord: new Coordinate('a', 's'), kind: Placed, payload: {} }])).toThrow(expect.objectContaining({ code: 'E_REPLICA_READ_ONLY' }))
    expect(() => store.append(new Coordinate('a', 's'), 'no.such.type', {})).toThrow(expect.objectContaining({ code: 'E_REPLICA_READ_ONLY' }))
    expect(() => store.append(new Coordinate('a', 's'), Placed, {}, { durable: 'replicated' })).toThrow(expect.objectContaining({ code: 'E_REPLICA_READ_ONLY' }))
    expect(() => store.appendIf([{ coord: new Coordinate('a', 's'), kind: Placed, payload: {} }], { failIfEventsMatch: Region.entity('a'), after: null })).toThrow(expect.objectContaining({ code: 'E_REPLICA_READ_ONLY' }))
    expect(store.nativeHandle().nextSequence()).toBe(Number(end))
    // Store.open({ replicate }) on a replica is refused before anything starts.
    store.close()
    expect(() => Store.open({ dataDir: rdir, replicate: { servers: nats.url(0), stream: 'eight' } })).toThrow(expect.objectContaining({ code: 'E_REPLICATION' }))
    const served = Store.open({ dataDir: rdir })
    const server = await serve(served, { insecureLocal: true, host: '127.0.0.1', port: 0 })
    try {
      const some = primary.readFiltered({ fromSequence: 5, limit: 1 })[0]!
      const one = await fetch(`${server.url}/v1/events/${some.eventId}`)
      expect(one.status).toBe(200)
      expect(((await one.json()) as { eventId: string }).eventId).toBe(some.eventId)
      const q = await fetch(`${server.url}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ region: { scope: 'shop' } }) })
      expect(q.status).toBe(200)
      expect(((await q.json()) as { events: unknown[] }).events.length).toBe(primary.byScope('shop').length)
      const w = await fetch(`${server.url}/v1/append`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ entity: 'a', scope: 's', kind: Placed.value, payload: {} }) })
      expect(w.status).toBe(409)
      expect(((await w.json()) as { error: { code: string } }).error.code).toBe('E_REPLICA_READ_ONLY')
    } finally {
      await server.close()
      served.close()
    }
    await pub.close()
    primary.close()
  })

  it('a stream name that could reach outside the data directory is refused', async () => {
    const store = Store.open({ dataDir: tempDir('repl') })
    const err = await replicate(store, { servers: nats.url(0), stream: '../x' }).then(() => undefined, (e: unknown) => e)
    expect(isCausewayError(err, 'E_INVALID_ARGUMENT')).toBe(true)
    store.close()
  })
})

describe('replication without the NATS packages', () => {
  it("the service answers durable: 'replicated' without a publisher with 503 E_NOT_REPLICATING", async () => {
    const store = Store.open({ dataDir: tempDir('repl') })
    const server = await serve(store, { insecureLocal: true, host: '127.0.0.1', port: 0 })
    try {
      const w = await fetch(`${server.url}/v1/append`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ entity: 'a', scope: 's', kind: K.value, payload: {}, options: { durable: 'replicated' } }) })
      expect(w.status).toBe(503)
      expect(((await w.json()) as { error: { code: string } }).error.code).toBe('E_NOT_REPLICATING')
      expect(store.nativeHandle().nextSequence()).toBe(0)
    } finally {
      await server.close()
      store.close()
    }
  })

  it('Store.open({ replicate }) without the @nats-io packages is a MissingDependencyError before anything is opened (the core loads without NATS)', () => {
    const dir = path.join(tempDir('repl'), 'never')
    // A process in which the NATS packages cannot be found (the built package, as an application loads it).
    const script = `
      const Module = require('module')
      const resolve = Module._resolveFilename
      Module._resolveFilename = function (id, ...rest) {
        if (id.startsWith('@nats-io/')) throw Object.assign(new Error("Cannot find module '" + id + "'"), { code: 'MODULE_NOT_FOUND' })
        return resolve.call(this, id, ...rest)
      }
      const { Store } = require(${JSON.stringify(path.join(repoRoot, 'dist/cjs/index.js'))})
      const plain = Store.open({ dataDir: ${JSON.stringify(dir)} + '-plain' })
      plain.close()
      try {
        Store.open({ dataDir: ${JSON.stringify(dir)}, replicate: { servers: 'nats://127.0.0.1:1', stream: 'x' } })
      } catch (e) {
        console.log(JSON.stringify({ code: e.code, dependency: e.dependency }))
      }`
    const out = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
    expect(out.stderr).toBe('')
    expect(JSON.parse(out.stdout)).toEqual({ code: 'E_MISSING_DEPENDENCY', dependency: '@nats-io/transport-node' })
    expect(fs.existsSync(dir)).toBe(false)
  })

  it('bad replicate options to Store.open leave the directory untouched', () => {
    const dir = path.join(tempDir('repl'), 'never')
    expect(() => Store.open({ dataDir: dir, replicate: { servers: [], stream: 'x' } })).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }))
    expect(() => Store.open({ dataDir: dir, replicate: { servers: 'nats://127.0.0.1:1', stream: '../x' } })).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }))
    expect(fs.existsSync(dir)).toBe(false)
  })

  it('Store.openReplica is causeway/replicate\'s openReplica', async () => {
    await expect(Store.openReplica({ dataDir: tempDir('repl'), servers: [], stream: 'x' })).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' })
  })

  it("durable: 'replicated' without a publisher is E_NOT_REPLICATING and writes nothing", async () => {
    const store = Store.open({ dataDir: tempDir('repl') })
    await expect(store.append(new Coordinate('a', 's'), K, {}, { durable: 'replicated' })).rejects.toMatchObject({ code: 'E_NOT_REPLICATING' })
    await expect(store.appendIf([{ coord: new Coordinate('a', 's'), kind: K, payload: {} }], { failIfEventsMatch: Region.entity('a'), after: null }, { durable: 'replicated' })).rejects.toMatchObject({ code: 'E_NOT_REPLICATING' })
    expect(store.nativeHandle().nextSequence()).toBe(0)
    store.close()
  })

  it('a missing @nats-io peer is a MissingDependencyError naming the package', () => {
    const load = (id: string) => {
      if (id === '@nats-io/jetstream') throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' })
      return {}
    }
    let err: unknown
    try {
      loadNats(load)
    } catch (e) {
      err = e
    }
    expect(isCausewayError(err, 'E_MISSING_DEPENDENCY')).toBe(true)
    expect(err).toMatchObject({ dependency: '@nats-io/jetstream' })
  })
})
