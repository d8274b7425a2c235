// Replication on a real 3-node JetStream cluster (nats-server on 127.0.0.1,
// streams with 3 replicas). Heavy: npm run test:full, with CAUSEWAY_JETSTREAM=1.
// CAUSEWAY_JETSTREAM_EVENTS sets the size of the byte-for-byte test (default 20000; test:full runs 100000).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Coordinate, isCausewayError, Store } from '../src/index.js'
import { openReplica, promote, replicate } from '../src/replicate/index.js'
import { loadNats } from '../src/replicate/nats.js'
import { repoRoot, tempDir } from './helpers.js'
import { NatsCluster, natsServer } from './nats-cluster.js'
import { expectSameLog, fill, Placed } from './replicate-helpers.js'

const BIN = path.join(repoRoot, 'bin/causeway')
const EVENTS = Number(process.env.CAUSEWAY_JETSTREAM_EVENTS ?? 20_000)
const gate = process.env.CAUSEWAY_JETSTREAM === '1' ? natsServer() : { reason: 'set CAUSEWAY_JETSTREAM=1 (npm run test:full)' }
const reason = 'reason' in gate ? gate.reason : ''

/** `f`, retried (bounded) while JetStream times out: a killed node's streams elect new leaders meanwhile. */
async function patiently<T>(f: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await f()
    } catch (e) {
      if (attempt >= 10 || !/timeout|no responders/i.test(String((e as Error).message))) throw e
      await new Promise((r) => setTimeout(r, 500))
    }
  }
}

/** The stream's messages' Nats-Msg-Id headers, 1..last, read one by one. */
async function streamIds(urls: string[], stream: string): Promise<string[]> {
  const { transport, jetstream } = loadNats()
  const nc = await transport.connect({ servers: urls })
  try {
    const jsm = await patiently(() => jetstream.jetstreamManager(nc, { timeout: 20_000 }))
    const last = (await patiently(() => jsm.streams.info(stream))).state.last_seq
    const ids: string[] = []
    for (let s = 1; s <= last; s++) ids.push((await patiently(() => jsm.streams.getMessage(stream, { seq: s })))!.header.get('Nats-Msg-Id'))
    return ids
  } finally {
    await nc.close()
  }
}

async function streamLeader(urls: string[], stream: string): Promise<string | undefined> {
  const { transport, jetstream } = loadNats()
  const nc = await transport.connect({ servers: urls })
  try {
    const jsm = await patiently(() => jetstream.jetstreamManager(nc, { timeout: 20_000 }))
    return (await patiently(() => jsm.streams.info(stream))).cluster?.leader
  } finally {
    await nc.close()
  }
}

/** Waits (bounded) until the stream's two followers are back and current: later tests need the quorum. */
async function followersCurrent(urls: string[], stream: string): Promise<void> {
  const { transport, jetstream } = loadNats()
  const nc = await transport.connect({ servers: urls })
  try {
    const jsm = await patiently(() => jetstream.jetstreamManager(nc, { timeout: 20_000 }))
    for (const t0 = Date.now(); ; ) {
      const replicas = (await patiently(() => jsm.streams.info(stream))).cluster?.replicas ?? []
      if (replicas.length === 2 && replicas.every((r) => r.current && !r.offline)) return
      if (Date.now() - t0 > 60_000) throw new Error(`stream ${stream}'s followers not current after 60 s`)
      await new Promise((r) => setTimeout(r, 200))
    }
  } finally {
    await nc.close()
  }
}

function allIds(store: Store): string[] {
  return store.readFiltered({ fromSequence: 0, limit: 1_000_000 }).map((e) => e.eventId)
}

const sidecars: ChildProcess[] = []
/** `causeway replicate` as a child process; `acked` follows its status lines. */
function sidecar(dir: string, urls: string[], stream: string) {
  const child = spawn(process.execPath, [BIN, 'replicate', dir, '--nats', urls.join(','), '--stream', stream, '--status-ms', '20'], { stdio: ['ignore', 'pipe', 'pipe'] })
  sidecars.push(child)
  const seen = { acked: 0n, lines: 0, stderr: '' }
  let buf = ''
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString()
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const s = JSON.parse(buf.slice(0, nl)) as { acknowledged: string }
      seen.acked = BigInt(s.acknowledged)
      seen.lines++
      buf = buf.slice(nl + 1)
    }
  })
  child.stderr!.on('data', (d: Buffer) => (seen.stderr += d.toString()))
  return { child, seen }
}

async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  for (const t0 = Date.now(); !ok(); ) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe.skipIf(reason !== '')(`replication on a 3-node JetStream cluster${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let nats: NatsCluster
  beforeAll(async () => {
    nats = await NatsCluster.start((gate as { bin: string }).bin, 3)
  })
  afterAll(async () => {
    for (const c of sidecars) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    await nats?.stopAll()
  })

  it(`a replica of ${EVENTS} events (batches, keys, tags, causation, types) is byte for byte the primary's log and verifies`, async () => {
    const primary = Store.open({ dataDir: tempDir('primary') })
    fill(primary, EVENTS / 2)
    const pub = await replicate(primary, { servers: nats.urls, stream: 'big' })
    // The second half is appended while the publisher follows.
    const end = fill(primary, EVENTS / 2, EVENTS / 2)
    await pub.waitFor(end)
    expect(pub.status()).toMatchObject({ acknowledged: end, lag: 0, fenced: false })
    await pub.close()
    const rdir = tempDir('replica')
    const replica = await openReplica({ dataDir: rdir, servers: nats.urls, stream: 'big' })
    await replica.waitFor(end)
    expect(expectSameLog(primary, replica.store)).toBe(Number(end))
    // Entity heads (clock, hash) and reads by id and correlation agree too.
    const some = primary.readFiltered({ fromSequence: Number(end) - 5, limit: 5 })
    for (const e of some) expect(replica.store.get(e.eventId)?.contentHash).toBe(e.contentHash)
    expect(replica.store.clockOf('order/5')).toBe(primary.clockOf('order/5'))
    await replica.close()
    primary.sync()
    const pdir = primary.dataDir
    primary.close()
    for (const dir of [pdir, rdir]) {
      const r = spawnSync(process.execPath, [BIN, 'verify', dir, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 })
      expect(r.status, r.stderr).toBe(0)
    }
  }, 300_000)

  it('killing the stream leader mid-stream loses and duplicates nothing', async () => {
    const primary = Store.open({ dataDir: tempDir('primary') })
    const pub = await replicate(primary, { servers: nats.urls, stream: 'killnode', window: 64 })
    fill(primary, 3000)
    const leader = await streamLeader(nats.urls, 'killnode')
    const victim = Math.max(0, Number((leader ?? 'n1').slice(1)))
    await until('some events acknowledged', () => pub.status().acknowledged > 500n)
    await nats.kill(victim)
    const end = fill(primary, 3000, 3000)
    await pub.waitFor(end)
    const survivors = nats.urls.filter((_, i) => i !== victim)
    expect(await streamIds(survivors, 'killnode')).toEqual(allIds(primary))
    nats.startNode(victim)
    await nats.ready()
    await followersCurrent(nats.urls, 'killnode')
    await pub.close()
    primary.close()
  })

  it('a replicating sidecar SIGKILLed between write and publish resumes with no duplicate and no gap', async () => {
    const dir = tempDir('primary')
    const primary = Store.open({ dataDir: dir })
    fill(primary, 2000)
    const first = sidecar(dir, nats.urls, 'sigkill')
    await until('the sidecar acknowledged part of the log', () => first.seen.acked > 200n)
    // Appends go on while the sidecar dies: written, not yet published.
    fill(primary, 2000, 2000)
    first.child.kill('SIGKILL')
    await new Promise((r) => first.child.once('exit', r))
    const end = fill(primary, 1000, 4000)
    primary.sync()
    const second = sidecar(dir, nats.urls, 'sigkill')
    await until('the restarted sidecar acknowledged everything', () => second.seen.acked === end)
    second.child.kill('SIGTERM')
    await new Promise((r) => second.child.once('exit', r))
    expect(await streamIds(nats.urls, 'sigkill')).toEqual(allIds(primary))
    primary.close()
  })

  it('a promoted replica takes the writes and the old primary is fenced with E_FENCED', async () => {
    const old = Store.open({ dataDir: tempDir('primary') })
    const oldPub = await replicate(old, { servers: nats.urls, stream: 'failover' })
    const end = fill(old, 500)
    await oldPub.waitFor(end)
    const rdir = tempDir('replica')
    const replica = await openReplica({ dataDir: rdir, servers: nats.urls, stream: 'failover' })
    await replica.waitFor(end)
    await replica.close()
    // The primary is cut off (its publisher keeps running); the replica is promoted.
    const report = await promote({ dataDir: rdir, servers: nats.urls })
    expect(report).toMatchObject({ next: end, caughtUp: true, stream: 'failover' })
    await expect(openReplica({ dataDir: rdir, servers: nats.urls, stream: 'failover' })).rejects.toMatchObject({ code: 'E_REPLICATION' })
    const fresh = Store.open({ dataDir: rdir })
    const newPub = await replicate(fresh, { servers: nats.urls, stream: 'failover' })
    const r = fresh.append(new Coordinate('order/1', 'shop'), Placed, { by: 'new primary' })
    await newPub.waitFor(r.globalSequence + 1n)
    // The old primary appends at the same position: its publish fails the expected-sequence check.
    old.append(new Coordinate('order/1', 'shop'), Placed, { by: 'old primary' })
    const err = await oldPub.done.then(() => undefined, (e: unknown) => e)
    expect(isCausewayError(err, 'E_FENCED')).toBe(true)
    // Refused by Nats-Expected-Last-Sequence itself, not found out later.
    expect((err as Error).message).toContain(`refused global sequence ${end}:`)
    expect(oldPub.status()).toMatchObject({ fenced: true, acknowledged: end })
    await oldPub.close()
    // Restarted, it is refused at resume as well.
    const again = await replicate(old, { servers: nats.urls, stream: 'failover' })
    await expect(again.done).rejects.toMatchObject({ code: 'E_FENCED' })
    await again.close()
    // The stream: the old primary's events, promote's fence marker, the new primary's event.
    const ids = await streamIds(nats.urls, 'failover')
    expect(ids[Number(end)]).toMatch(/^fence-/)
    expect(ids.filter((_, i) => i !== Number(end))).toEqual(allIds(fresh))
    await newPub.close()
    fresh.close()
    old.close()
  })
  it('a replica following while a NATS node dies applies every event once (causeway replica, then promote, from the CLI)', async () => {
    const primary = Store.open({ dataDir: tempDir('primary') })
    const pub = await replicate(primary, { servers: nats.urls, stream: 'clireplica' })
    fill(primary, 1000)
    const rdir = tempDir('replica')
    const child = spawn(process.execPath, [BIN, 'replica', rdir, '--nats', nats.urls.join(','), '--stream', 'clireplica', '--status-ms', '20'], { stdio: ['ignore', 'pipe', 'pipe'] })
    sidecars.push(child)
    let applied = 0n
    let buf = ''
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString()
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        applied = BigInt((JSON.parse(buf.slice(0, nl)) as { applied: string }).applied)
        buf = buf.slice(nl + 1)
      }
    })
    await until('the replica applied part of the stream', () => applied > 100n)
    await nats.kill(2)
    const end = fill(primary, 2000, 1000)
    await pub.waitFor(end)
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    // Bounded, but generous: after a node's death the ordered consumer is recreated once
    // JetStream has elected new leaders, which took 5 to 50 s on a loaded 2-core machine.
    await until('the replica applied everything', () => applied === end, 150_000).catch((e: Error) => {
      throw new Error(`${e.message}: applied ${applied} of ${end}, exit ${child.exitCode}, stderr ${stderr}`)
    })
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
    expect(child.exitCode).toBe(0)
    nats.startNode(2)
    await nats.ready()
    await followersCurrent(nats.urls, 'clireplica')
    const survivors = nats.urls.slice(0, 2)
    const promoted = spawnSync(process.execPath, [BIN, 'promote', rdir, '--nats', survivors.join(','), '--json'], { encoding: 'utf8' })
    expect(promoted.status, promoted.stderr).toBe(0)
    expect(JSON.parse(promoted.stdout)).toMatchObject({ stream: 'clireplica', next: String(end), caughtUp: true })
    const verify = spawnSync(process.execPath, [BIN, 'verify', rdir], { encoding: 'utf8' })
    expect(verify.status, verify.stderr).toBe(0)
    await pub.close()
    const replica = Store.open({ dataDir: rdir, readOnly: true })
    expectSameLog(primary, replica)
    replica.close()
    primary.close()
  }, 240_000)
})

// Its own cluster: a node left paused by a failure here cannot starve the tests above of a quorum.
describe.skipIf(reason !== '')(`replication across a partition${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let cut: NatsCluster
  beforeAll(async () => {
    cut = await NatsCluster.start((gate as { bin: string }).bin, 3)
  })
  afterAll(async () => {
    await cut?.stopAll()
  })

  it('a stream leader cut off mid-stream (SIGSTOP: connections open, nothing answers) loses and duplicates nothing', async () => {
    const primary = Store.open({ dataDir: tempDir('primary') })
    const pub = await replicate(primary, { servers: cut.urls, stream: 'partition', window: 64 })
    fill(primary, 2000)
    const leader = await streamLeader(cut.urls, 'partition')
    const victim = Math.max(0, Number((leader ?? 'n1').slice(1)))
    await until('some events acknowledged', () => pub.status().acknowledged > 300n)
    cut.pause(victim)
    try {
      const end = fill(primary, 2000, 2000)
      // Bounded here, so that the finally below wakes the node even when this fails.
      await Promise.race([pub.waitFor(end), new Promise((_, reject) => setTimeout(() => reject(new Error('not all acknowledged in 150 s')), 150_000))])
      expect(await streamIds(cut.urls.filter((_, i) => i !== victim), 'partition')).toEqual(allIds(primary))
    } finally {
      cut.resume(victim)
    }
    await cut.ready()
    await pub.close()
    primary.close()
  }, 240_000)
})
