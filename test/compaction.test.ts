import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, Region, Store } from '../src/index.js'
import { dirDigest, segmentFiles, tempDir } from './helpers.js'

const K = EventKind.custom(1, 1)
const SEG = 4096

function build(dir: string, n: number): Store {
  const s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
  for (let i = 0; i < n; i++) {
    s.append(new Coordinate(`acct:${i % 5}`, 'bank'), K, { n: i, pad: 'p'.repeat(60) }, i % 4 === 1 ? { idempotencyKey: `key-${i}` } : {})
  }
  return s
}

type Row = { seq: string; id: string; bytes: string; tomb: boolean }
function rows(s: Store): Row[] {
  return s.query(Region.all()).map((e) => ({
    seq: e.globalSequence.toString(),
    id: e.eventId,
    bytes: Buffer.from(e.payloadBytes).toString('hex'),
    tomb: e.tombstoned,
  }))
}

describe('compaction', () => {
  it('merges sealed segments into one, keeping every event byte for byte, while the active one is untouched', () => {
    const dir = tempDir()
    const s = build(dir, 200)
    const before = rows(s)
    const segsBefore = s.stats().segments
    const r = s.compact({ strategy: 'merge' })
    expect(r.performed).toBe(true)
    expect(r.eventsDropped).toBe(0)
    expect(s.stats().segments).toBe(2) // the merged file and the active segment
    expect(segsBefore).toBeGreaterThan(4)
    expect(rows(s)).toEqual(before)
    s.append(new Coordinate('acct:0', 'bank'), K, { n: 200 })
    s.close()
    const again = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    expect(rows(again).slice(0, 200)).toEqual(before)
    again.close()
  })

  it('drops what retention rejects, keeps survivors byte-identical and dropped idempotency keys known', () => {
    const dir = tempDir()
    let s = build(dir, 200)
    const before = rows(s)
    const sealedEnd = s.stats().segments
    expect(sealedEnd).toBeGreaterThan(3)
    const r = s.compact({ strategy: 'retention', keep: (e) => (e.payload as { n: number }).n % 2 === 0 })
    expect(r.performed).toBe(true)
    expect(r.eventsDropped).toBeGreaterThan(50)
    const after = rows(s)
    const survivors = new Set(after.map((x) => x.id))
    for (const b of before) {
      const n = Number(b.seq)
      if (survivors.has(b.id)) expect(after.find((a) => a.id === b.id)!.bytes).toBe(b.bytes)
      else expect(n % 2).toBe(1)
    }
    // key-1 belonged to event 1, which was dropped: the key still answers with the original receipt.
    const replay = s.append(new Coordinate('acct:1', 'bank'), K, { n: 'retry' }, { idempotencyKey: 'key-1' })
    expect(replay.deduplicated).toBe(true)
    expect(replay.eventId).toBe(before[1]!.id)
    s.close()
    s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    expect(s.append(new Coordinate('acct:1', 'bank'), K, {}, { idempotencyKey: 'key-1' }).eventId).toBe(before[1]!.id)
    expect(rows(s).length).toBe(after.length)
    s.close()
  })

  it('never lets an entity clock go back when retention drops its newest event', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    const lonely = new Coordinate('lonely', 'x')
    const last = s.append(lonely, K, { n: 1 })
    for (let i = 0; i < 120; i++) s.append(new Coordinate('filler', 'x'), K, { n: 0, pad: 'f'.repeat(60) })
    s.compact({ strategy: 'retention', keep: (e) => e.coordinate.entity !== 'lonely' })
    expect(s.stream('lonely')).toEqual([])
    const next = s.append(lonely, K, { n: 2 })
    expect(next.clock).toBe(2)
    expect(next.prevHash).toBe(last.contentHash)
    s.close()
    const r = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    expect(r.append(lonely, K, { n: 3 }, { expectedSequence: 2 }).clock).toBe(3)
    r.close()
  })

  it('tombstones rejected events: frame kept, payload gone, hash chain still linked', () => {
    const s = build(tempDir(), 150)
    const before = rows(s)
    s.compact({ strategy: 'tombstone', keep: (e) => (e.payload as { n: number }).n % 3 !== 0 })
    const after = s.query(Region.all())
    expect(after.length).toBe(before.length)
    const t = after.find((e) => e.tombstoned)!
    expect(t.payload).toBeNull()
    expect(Number(t.globalSequence) % 3).toBe(0)
    const head = new Map<string, string>()
    for (const e of after) {
      expect(e.prevHash).toBe(head.get(e.coordinate.entity) ?? '0'.repeat(64))
      head.set(e.coordinate.entity, e.contentHash)
      if (!e.tombstoned) expect(Buffer.from(e.payloadBytes).toString('hex')).toBe(before[Number(e.globalSequence)]!.bytes)
    }
    // Tombstones are not damage: the chain check passes and audits walk through them.
    const report = s.verifyChain()
    expect(report.contentMismatches).toEqual([])
    expect(report.brokenLinks).toEqual([])
    expect(report.tombstones).toBeGreaterThan(10)
    const lastOfEntity = [...after].reverse().find((e) => e.coordinate.entity === t.coordinate.entity)!
    expect(s.walkAncestorsOutcome(lastOfEntity.eventId, 1000).stopped).toBe('genesis')
    s.close()
  })

  it('skips when fewer sealed segments than minSegments exist', () => {
    const s = Store.open({ dataDir: tempDir() })
    s.append(new Coordinate('a', 'b'), K, 1)
    const r = s.compact({ strategy: 'merge' })
    expect(r.performed).toBe(false)
    expect(r.reason).toMatch(/minSegments/)
    s.close()
  })

  it('keeps appends flowing from a worker thread while compacting, losing none', async () => {
    const dir = tempDir()
    const s = build(dir, 300)
    const worker = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads')
       const { Store, Coordinate, EventKind } = require(${JSON.stringify(path.join(__dirname, '../dist/cjs/index.js'))})
       const s = Store.open({ dataDir: workerData.dir, segmentMaxBytes: ${SEG} })
       parentPort.postMessage('ready')
       for (let i = 0; i < 3000; i++) s.append(new Coordinate('w', 'w'), EventKind.custom(1, 1), { w: i })
       s.close()
       parentPort.postMessage('done')`,
      { eval: true, workerData: { dir } },
    )
    await new Promise((r) => worker.once('message', r))
    const done = new Promise((r) => worker.once('message', r))
    for (let i = 0; i < 3; i++) s.compact({ strategy: 'retention', keep: (e) => e.coordinate.entity === 'w' || (e.payload as { n: number }).n % 2 === 0 })
    await done
    await worker.terminate()
    const w = s.stream('w').map((e) => (e.payload as { w: number }).w)
    expect(w).toEqual(Array.from({ length: 3000 }, (_, i) => i))
    s.close()
  })

  describe('killed at each step', () => {
    const points = [
      'compact:checkpoint-removed',
      'compact:replacement-partly-written',
      'compact:index-file-written',
      'compact:replacement-written',
      'compact:marker-written',
      'compact:index-file-installed',
      'compact:renamed',
      'compact:first-source-removed',
      'compact:sources-removed',
    ]
    it.each(points)('reopens as the old or the new generation exactly after a kill at %s', (point) => {
      const dir = tempDir()
      const s = build(dir, 160)
      const old = rows(s)
      s.close()
      const fixture = path.join(__dirname, 'fixtures/compactor.cjs')
      const killed = spawnSync(process.execPath, [fixture, dir, 'retention'], { env: { ...process.env, CAUSEWAY_KILL_AT: point } })
      expect(killed.signal).toBe('SIGKILL')
      const r = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
      const got = rows(r)
      r.close()
      const fresh = old.filter((x) => Number(x.seq) % 2 === 0 || Number(x.seq) >= old.length - 40)
      // Old generation: everything. New generation: the odd ones gone from sealed segments.
      const isOld = JSON.stringify(got) === JSON.stringify(old)
      const isNew = got.length < old.length && got.every((g) => old.some((o) => o.id === g.id && o.bytes === g.bytes))
      expect(isOld || isNew, `after ${point}: ${got.length} of ${old.length} events`).toBe(true)
      if (isNew) for (const o of fresh.filter((f) => Number(f.seq) % 2 === 0)) expect(got.some((g) => g.id === o.id)).toBe(true)
      // The directory holds no leftovers, and a second open changes nothing.
      expect(fs.readdirSync(dir).filter((n) => /compact|marker|\.tmp$/.test(n))).toEqual([])
      const once = dirDigest(dir)
      Store.open({ dataDir: dir, readOnly: true }).close()
      expect(dirDigest(dir)).toEqual(once)
      // And it can be compacted to completion afterwards.
      const done = JSON.parse(execFileSync(process.execPath, [fixture, dir, 'retention'], { encoding: 'utf8' }))
      expect(typeof done.performed).toBe('boolean')
      expect(segmentFiles(dir).length).toBeGreaterThan(0)
    })
  })
})
