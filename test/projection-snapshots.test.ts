import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, InvalidArgumentError, Store, projectionSnapshotStats, type Projection, type StoredEvent } from '../src/index.js'
import { tempDir } from './helpers.js'
import { exited, run } from './process-helpers.js'
import { cli } from './cli-helpers.js'

const Paid = EventKind.custom(1, 1)
type Total = { sum: number; n: number }

/** A running total whose apply calls are counted, so a test sees what was re-folded. */
function total(version = 1): Projection<Total, { amount: number }> & { calls: number } {
  const p = {
    name: 'total',
    version,
    calls: 0,
    init: (): Total => ({ sum: 0, n: 0 }),
    apply(s: Total, e: StoredEvent<{ amount: number }>): Total {
      p.calls++
      return { sum: s.sum + e.payload.amount, n: s.n + 1 }
    },
  }
  return p
}

function fill(store: Store, entity: string, from: number, n: number): void {
  const c = new Coordinate(entity, 'shop')
  for (let i = from; i < from + n; i++) store.append(c, Paid, { amount: i })
}

const sum = (from: number, n: number) => (n * (2 * from + n - 1)) / 2
const openSnap = (dir: string, extra: object = {}) => Store.open({ dataDir: dir, projectionSnapshots: true, ...extra })

function snapshotFiles(dir: string): string[] {
  return fs.readdirSync(path.join(dir, 'projections')).filter((n) => n.endsWith('.cwps'))
}

describe('projection snapshots', () => {
  it('a reopen starts from the snapshot and applies only the events appended since', () => {
    const dir = tempDir()
    let s = openSnap(dir)
    fill(s, 'cart:1', 0, 50)
    expect(s.project('cart:1', total()).eventsApplied).toBe(50)
    s.close()
    const st = fs.statSync(path.join(dir, 'projections', snapshotFiles(dir)[0]!))
    expect(st.mode & 0o777).toBe(0o600)
    expect(fs.statSync(path.join(dir, 'projections')).mode & 0o777).toBe(0o700)

    s = openSnap(dir)
    fill(s, 'cart:1', 50, 3)
    const p = total()
    const r = s.project('cart:1', p)
    expect(r).toMatchObject({ cacheHit: true, eventsApplied: 3, state: { sum: sum(0, 53), n: 53 } })
    expect(p.calls).toBe(3)
    expect(s.metrics().projectionSnapshots).toMatchObject({ reused: 1, ignored: 0 })
    s.close()
  })

  it('a snapshot is written every N applied events, before any close', () => {
    const dir = tempDir()
    const s = openSnap(dir, { projectionSnapshots: { every: 10 } })
    fill(s, 'a', 0, 12)
    s.project('a', total())
    // Written while the store is open, before any close.
    expect(projectionSnapshotStats(dir)).toMatchObject({ count: 1, files: [{ name: 'total', version: 1, entities: 1, current: true }] })
    s.close()
    // causeway stats shows them: count and bytes, per projection.
    const human = cli(['stats', dir])
    expect(human.stdout).toMatch(/projection snapshots\s+1 \(\d+ bytes\): total@1: 1 entities/)
    const bytes = fs.statSync(path.join(dir, 'projections', snapshotFiles(dir)[0]!)).size
    expect(human.stdout).toContain(`projection snapshots  1 (${bytes} bytes): total@1: 1 entities, ${bytes} bytes`)
  })

  it('a changed projection version never reuses the old snapshot', () => {
    const dir = tempDir()
    let s = openSnap(dir)
    fill(s, 'a', 0, 20)
    s.project('a', total(1))
    s.close()
    s = openSnap(dir)
    const r = s.project('a', total(2))
    expect(r).toMatchObject({ cacheHit: false, eventsApplied: 20 })
    s.close()
  })

  it('a snapshot with a flipped byte is ignored (CRC) and the state re-folded from the log', () => {
    const dir = tempDir()
    let s = openSnap(dir)
    fill(s, 'a', 0, 30)
    s.project('a', total())
    s.close()
    const f = path.join(dir, 'projections', snapshotFiles(dir)[0]!)
    const b = fs.readFileSync(f)
    b[b.length - 5]! ^= 0x40
    fs.writeFileSync(f, b)
    expect(projectionSnapshotStats(dir).files[0]).toMatchObject({ name: null, invalid: 'CRC mismatch' })
    s = openSnap(dir)
    const r = s.project('a', total())
    expect(r).toMatchObject({ cacheHit: false, eventsApplied: 30, state: { sum: sum(0, 30), n: 30 } })
    expect(s.metrics().projectionSnapshots).toMatchObject({ reused: 0, ignored: 1 })
    s.close()
  })

  it('a snapshot taken before a compaction that dropped its events is never reused', () => {
    const dir = tempDir()
    let s = openSnap(dir, { segmentMaxBytes: 4096 })
    fill(s, 'a', 0, 120)
    expect(s.project('a', total()).state.n).toBe(120)
    s.close()
    s = Store.open({ dataDir: dir, segmentMaxBytes: 4096 })
    const report = s.compact({ strategy: 'retention', keep: (e) => (e.payload as { amount: number }).amount % 2 === 0 })
    expect(report.eventsDropped).toBeGreaterThan(0)
    s.close()
    s = openSnap(dir, { segmentMaxBytes: 4096 })
    const r = s.project('a', total())
    const left = s.stream('a').length
    expect(r).toMatchObject({ cacheHit: false, eventsApplied: left, state: { n: left } })
    expect(left).toBe(120 - report.eventsDropped)
    expect(s.metrics().projectionSnapshots).toMatchObject({ reused: 0, ignored: 1 })
    s.close()
  })

  it('a state folded before a compaction in the same process is never written as current', () => {
    const dir = tempDir()
    let s = openSnap(dir, { segmentMaxBytes: 4096, projectionSnapshots: { every: 1 } })
    fill(s, 'a', 0, 120)
    s.project('a', total())
    const report = s.compact({ strategy: 'retention', keep: (e) => (e.payload as { amount: number }).amount % 2 === 0 })
    expect(report.eventsDropped).toBeGreaterThan(0)
    fill(s, 'a', 120, 1)
    s.project('a', total()) // extends the pre-compaction state in memory; its write drops it instead
    const again = s.project('a', total())
    const left = s.stream('a').length
    expect(again).toMatchObject({ cacheHit: false, eventsApplied: left, state: { n: left } })
    s.close()
    s = openSnap(dir, { segmentMaxBytes: 4096 })
    expect(s.project('a', total())).toMatchObject({ cacheHit: true, eventsApplied: 0, state: { n: left } })
    s.close()
  })

  it('a snapshot of another store (the event at its position differs) is ignored', () => {
    const a = tempDir()
    const b = tempDir()
    for (const dir of [a, b]) {
      const s = openSnap(dir)
      fill(s, 'a', 0, 10)
      s.project('a', total())
      s.close()
    }
    fs.copyFileSync(path.join(a, 'projections', snapshotFiles(a)[0]!), path.join(b, 'projections', snapshotFiles(b)[0]!))
    const s = openSnap(b)
    expect(s.project('a', total())).toMatchObject({ cacheHit: false, eventsApplied: 10 })
    s.close()
  })

  it('a state that cannot be stored is left out with a diagnostic; project() still answers', () => {
    const dir = tempDir()
    let s = openSnap(dir)
    fill(s, 'a', 0, 5)
    const mapped: Projection<Map<number, number>> = { name: 'm', version: 1, init: () => new Map(), apply: (m, e) => new Map(m).set(Number(e.globalSequence), 1) }
    expect(s.project('a', mapped).state.size).toBe(5)
    s.close()
    s = openSnap(dir)
    expect(s.metrics().projectionSnapshots).toMatchObject({ written: 0 })
    expect(s.project('a', mapped)).toMatchObject({ cacheHit: false, eventsApplied: 5 })
    s.close()
  })

  it('another process starts from the snapshot the writer wrote', async () => {
    const dir = tempDir()
    const s = openSnap(dir, { projectionSnapshots: { every: 1 } })
    fill(s, 'cart:9', 0, 40)
    s.project('cart:9', total())
    fill(s, 'cart:9', 40, 2)
    let out = ''
    const child = run('snapshot-projector.cjs', [dir, 'cart:9'], (l) => (out = l))
    await exited(child)
    const r = JSON.parse(out)
    expect(r).toMatchObject({ cacheHit: true, applied: 2, calls: 2, role: 'client', state: { sum: sum(0, 42), n: 42 } })
    s.close()
  })

  it('a snapshot beyond maxBytes keeps the most recently used entities and leaves the rest out', () => {
    const dir = tempDir()
    let s = openSnap(dir, { projectionSnapshots: { maxBytes: 1024 } })
    for (let i = 0; i < 20; i++) fill(s, `e:${i}`, 0, 2)
    for (let i = 0; i < 20; i++) s.project(`e:${i}`, total())
    s.close()
    const kept = projectionSnapshotStats(dir).files[0]!
    expect(kept.bytes).toBeLessThanOrEqual(1024)
    expect(kept.entities).toBeGreaterThan(0)
    expect(kept.entities).toBeLessThan(20)
    s = openSnap(dir)
    expect(s.project('e:19', total()).cacheHit).toBe(true)
    expect(s.project('e:0', total()).cacheHit).toBe(false)
    s.close()
  })

  it('bad projectionSnapshots options are refused before the store opens', () => {
    const dir = path.join(tempDir(), 'never')
    for (const bad of [{ every: 0 }, { every: 1.5 }, { maxBytes: 10 }, { often: 1 }, 'yes', null]) {
      expect(() => Store.open({ dataDir: dir, projectionSnapshots: bad as never })).toThrow(InvalidArgumentError)
    }
    expect(fs.existsSync(dir)).toBe(false)
  })
})
