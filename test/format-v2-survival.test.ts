// Tags and event times (the frame extension block) survive every path an
// event's frame takes: a reopen from the index checkpoint, a reopen that
// rebuilds the index from footers and frames, compaction (merge, tombstone),
// a snapshot, and a client process's appends through the writer link.
import { execFile } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, Region, Store } from '../src/index.js'
import { tempDir } from './helpers.js'

const K = EventKind.custom(1, 1)
const SEG = 4096 // small segments: most events end in sealed segments with footers
const N = 120

/** Event i: tags course:c(i%3) (+ student:s(i%2) when i is even) and an occurredAt on every third; every seventh is plain. */
function tagsOf(i: number): string[] {
  if (i % 7 === 6) return []
  return i % 2 === 0 ? [`course:c${i % 3}`, `student:s${(i / 2) % 2}`] : [`course:c${i % 3}`]
}
const occurredMs = (i: number) => (i % 3 === 0 ? 1_500_000_000_000 + i * 1001.5 : undefined) // .5 ms: µs kept

function build(dir: string): Store {
  const s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
  for (let i = 0; i < N; i++) {
    const tags = tagsOf(i)
    const ms = occurredMs(i)
    s.append(new Coordinate(`enrol:${i % 5}`, 'uni'), K, { i, pad: 'p'.repeat(40) }, { ...(tags.length ? { tags } : {}), ...(ms !== undefined ? { occurredAt: ms } : {}) })
  }
  return s
}

/** What each event carries, by payload i, read back. */
function carried(s: Store) {
  return s.query(Region.all()).map((e) => ({
    i: e.tombstoned ? -1 : (e.payload as { i: number }).i,
    id: e.eventId,
    tags: e.tags,
    occurredAtUs: e.hasOccurredAt ? e.occurredAtUs : null,
  }))
}

function expectCarried(s: Store, ids: string[]): void {
  const rows = carried(s)
  expect(rows.map((r) => r.id)).toEqual(ids)
  rows.forEach((r, i) => {
    expect(r.tags, `tags of event ${i}`).toEqual(tagsOf(i))
    const ms = occurredMs(i)
    expect(r.occurredAtUs, `occurredAtUs of event ${i}`).toBe(ms === undefined ? null : Math.round(ms * 1000))
  })
  // And found by tag through the index (AND of two tags, and a DCB any-of).
  const both = ids.filter((_, i) => tagsOf(i).includes('course:c0') && tagsOf(i).includes('student:s1'))
  expect(both.length).toBeGreaterThan(3)
  expect(s.readFiltered({ tags: ['course:c0', 'student:s1'] }).map((e) => e.eventId)).toEqual(both)
  const either = ids.filter((_, i) => tagsOf(i).includes('course:c2') || tagsOf(i).includes('student:s0'))
  expect(s.readFiltered({ anyOf: [{ tags: ['course:c2'] }, { tags: ['student:s0'] }] }).map((e) => e.eventId)).toEqual(either)
}

describe('tags and occurredAt survive', () => {
  it('a reopen from the checkpoint, and a reopen without one (footers and frames)', () => {
    const dir = tempDir('ext-reopen')
    const s = build(dir)
    const ids = carried(s).map((r) => r.id)
    expectCarried(s, ids)
    expect(s.stats().segments).toBeGreaterThan(3)
    s.close()
    expect(fs.existsSync(path.join(dir, 'index.ckpt'))).toBe(true)
    const a = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    expectCarried(a, ids)
    a.close()
    fs.rmSync(path.join(dir, 'index.ckpt'))
    const b = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    expectCarried(b, ids)
    b.close()
  })

  it('a merge compaction, and a tombstone compaction (which keeps the tombstoned events findable by tag)', () => {
    const m = build(tempDir('ext-merge'))
    const merged = carried(m).map((r) => r.id)
    expect(m.compact({ strategy: 'merge' }).performed).toBe(true)
    expectCarried(m, merged)
    m.close()
    const dir = tempDir('ext-tomb')
    const s = build(dir)
    const ids = carried(s).map((r) => r.id)
    const r = s.compact({ strategy: 'tombstone', keep: (e) => (e.payload as { i: number }).i % 4 !== 0 })
    expect(r.performed).toBe(true)
    const rows = carried(s)
    expect(rows.filter((x) => x.i === -1).length).toBeGreaterThan(5)
    expectCarried(s, ids)
    s.close()
    const again = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    expectCarried(again, ids)
    again.close()
  })

  it('a snapshot', () => {
    const dir = tempDir('ext-snap')
    const s = build(dir)
    const ids = carried(s).map((r) => r.id)
    const dest = path.join(tempDir('ext-snap-dest'), 'copy')
    s.snapshot(dest)
    s.close()
    const c = Store.open({ dataDir: dest, segmentMaxBytes: SEG })
    try {
      expectCarried(c, ids)
    } finally {
      c.close()
    }
  })

  it("a client process's appends: sent over the writer link, found by tag in the writer and in the client", async () => {
    const dir = tempDir('ext-client')
    const s = Store.open({ dataDir: dir })
    try {
      s.append(new Coordinate('enrol:writer', 'uni'), K, { n: 'writer' }, { tags: ['course:client'] })
      const { stdout } = await promisify(execFile)(process.execPath, [path.join(__dirname, 'fixtures', 'tag-appender.cjs'), dir], { timeout: 60_000 })
      const out = JSON.parse(stdout.trim()) as { role: string; appended: string[]; found: string[] }
      expect(out.role).toBe('client')
      const [single, batch0, batch1] = out.appended
      const writerFirst = s.readFiltered({ tags: ['course:client'] })[0]!.eventId
      expect(out.found).toEqual([writerFirst, single, batch0])
      expect(s.readFiltered({ tags: ['course:client'] }).map((e) => e.eventId)).toEqual([writerFirst, single, batch0])
      expect(s.readFiltered({ tags: ['student:s9'] }).map((e) => e.eventId)).toEqual([single])
      const e0 = s.get(single!)!
      expect(e0.tags).toEqual(['course:client', 'student:s9'])
      expect(e0.occurredAtUs).toBe(1_600_000_000_123_000)
      expect(s.get(batch0!)!.occurredAt.getTime()).toBe(1_600_000_001_000)
      expect(s.get(batch1!)!.tags).toEqual([])
      expect(s.get(batch1!)!.hasOccurredAt).toBe(false)
    } finally {
      s.close()
    }
  }, 90_000)
})
