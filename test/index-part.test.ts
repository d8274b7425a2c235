// The per-segment index file (native/index_part.h, issue 21): built from each
// sealed segment of a real store, every lookup is proven against the
// store's own answers; then each check Open makes is shown to refuse the
// damage it exists for.
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as os from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Coordinate, CorruptionError, EventKind, NotFoundError, Region, Store } from '../src/index.js'
import { native } from '../src/native'
import { segmentFiles, tempDir } from './helpers.js'

const ip = native().indexPart
const hexId = (uuid: string): string => uuid.replace(/-/g, '')
const TAGS = ['course:c1', 'student:s1', 'student:s2', 'room:r9']

interface Ev {
  globalSequence: bigint
  eventId: string
  coordinate: { entity: string; scope: string }
  kind: { value: number }
  clock: number
  timestampUs: number
  correlationId: string
  causationId: string | null
  contentHash: string
  tags: string[]
}

interface Fixture {
  dir: string
  segments: string[]
  events: Ev[]
  byTag: Map<string, number[]>
  keys: Map<string, number> // idempotency key -> sequence
}

/** A store of several 64 KiB segments: entities, scopes, kinds, types, tags, keys, reactions, batches. */
function fill(): Fixture {
  // Kept for the whole describe (tempDir's are removed after each test); removed by afterAll.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-idxpart-'))
  fixtures.push(dir)
  const s = Store.open({ dataDir: dir, segmentMaxBytes: 64 * 1024 })
  const placed = s.types.define('order.placed')
  const kinds = [EventKind.custom(1, 1), EventKind.custom(2, 7), placed]
  const keys = new Map<string, number>()
  const ids: string[] = []
  const pad = 'x'.repeat(250)
  for (let i = 0; i < 700; i++) {
    const coord = new Coordinate(`order:${(i * 7) % 11}`, `shop-${i % 3}`)
    const kind = kinds[i % 3]!
    const tags = i % 4 === 0 ? [TAGS[0]!] : i % 4 === 1 ? [TAGS[1]!, TAGS[0]!] : i % 4 === 2 ? [TAGS[2]!] : []
    const idempotencyKey = i % 5 === 0 ? `key-${i}` : undefined
    const opts = idempotencyKey ? { tags, idempotencyKey } : { tags }
    if (i % 9 === 8) {
      // A reaction to an earlier event: its correlation kept, causation recorded.
      const cause = s.query(Region.all()).find((e) => e.eventId === ids[i - 5])!
      const r = s.appendReaction(coord, kind, { i, pad }, cause.correlationId, cause.eventId, opts)
      ids.push(r.eventId)
      if (idempotencyKey) keys.set(idempotencyKey, Number(r.globalSequence))
    } else if (i % 13 === 12) {
      const rs = s.appendBatch([
        { coord, kind, payload: { i, pad }, tags: [TAGS[3]!, TAGS[1]!] },
        { coord: new Coordinate('order:batch', 'shop-0'), kind: kinds[0]!, payload: { i }, causation: { priorItem: 0 } },
      ]) as { eventId: string }[]
      ids.push(rs[0]!.eventId)
    } else {
      const r = s.append(coord, kind, { i, pad }, opts) as { eventId: string; globalSequence: bigint }
      ids.push(r.eventId)
      if (idempotencyKey) keys.set(idempotencyKey, Number(r.globalSequence))
    }
  }
  s.close()
  const t = Store.open({ dataDir: dir, readOnly: true })
  // Plain copies: a StoredEvent reads its names through the open store.
  const events = t.query(Region.all()).map((e) => ({
    globalSequence: e.globalSequence,
    eventId: e.eventId,
    coordinate: { entity: e.coordinate.entity, scope: e.coordinate.scope },
    kind: { value: e.kind.value },
    clock: e.clock,
    timestampUs: e.timestampUs,
    correlationId: e.correlationId,
    causationId: e.causationId,
    contentHash: e.contentHash,
    tags: e.tags,
  }))
  const byTag = new Map(TAGS.map((tag) => [tag, t.readFiltered({ tags: [tag] }).map((e) => Number(e.globalSequence))]))
  t.close()
  return { dir, segments: segmentFiles(dir), events, byTag, keys }
}

const fixtures: string[] = []
afterAll(() => {
  for (const d of fixtures.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

const seqOf = (e: Ev): number => Number(e.globalSequence)
const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b))

describe('index part: built from every sealed segment, agrees with the store', () => {
  let f: Fixture
  beforeAll(() => {
    f = fill()
  })

  it('covers every event exactly once across the segments, and every lookup matches the store', () => {
    expect(f.segments.length).toBeGreaterThanOrEqual(4)
    const covered: number[] = []
    for (const seg of f.segments) {
      const built = ip.build(seg, f.dir)
      expect(built.path).toBe(seg.replace(/\.cwseg$/, '.cwidx'))
      const d = ip.inspect(built.path, seg)
      expect(d.rows.length).toBe(built.rows)
      const inSeg = new Set(d.rows.map((r) => r.sequence))
      const evs = f.events.filter((e) => inSeg.has(seqOf(e)))
      covered.push(...d.rows.map((r) => r.sequence))
      // Columns.
      expect(d.rows.map(({ offset: _o, ...r }) => r)).toEqual(
        evs.map((e) => ({ sequence: seqOf(e), timestamp: e.timestampUs, entity: e.coordinate.entity, scope: e.coordinate.scope, kind: e.kind.value, clock: e.clock })),
      )
      if (evs.length) expect([d.firstSequence, d.lastSequence]).toEqual([seqOf(evs[0]!), seqOf(evs[evs.length - 1]!)])
      // Entities: sorted by bytes, found by binary search, rows, last clock and head.
      const names = [...new Set(evs.map((e) => e.coordinate.entity))].sort(byteOrder)
      expect(d.entities.map((e) => e.name)).toEqual(names)
      d.entities.forEach((ent, i) => {
        const mine = evs.filter((e) => e.coordinate.entity === ent.name)
        expect(ent.found).toBe(i)
        expect(ent.rows).toEqual(mine.map(seqOf))
        expect(ent.lastClock).toBe(mine[mine.length - 1]!.clock)
        expect(ent.head).toBe(mine[mine.length - 1]!.contentHash)
      })
      const scopes = [...new Set(evs.map((e) => e.coordinate.scope))].sort(byteOrder)
      expect(d.scopes.map((s) => [s.name, s.found, s.rows])).toEqual(
        scopes.map((n, i) => [n, i, evs.filter((e) => e.coordinate.scope === n).map(seqOf)]),
      )
      const kinds: Record<string, number[]> = {}
      for (const e of evs) (kinds[String(e.kind.value)] ??= []).push(seqOf(e))
      expect(d.kinds).toEqual(kinds)
      // Tags: each tag's rows are the tag query's events in this segment.
      for (const tag of TAGS) expect(ip.lookup(built.path, seg, 'tagRows', tag)).toEqual(f.byTag.get(tag)!.filter((q) => inSeg.has(q)))
      expect(ip.lookup(built.path, seg, 'tagRows', 'never:used')).toEqual([])
      expect(d.tagCount).toBe(new Set(evs.flatMap((e) => e.tags)).size)
      // Ids: every event here found, those elsewhere and a random one missed.
      for (const e of f.events) expect(ip.lookup(built.path, seg, 'findId', hexId(e.eventId))).toBe(inSeg.has(seqOf(e)) ? seqOf(e) : null)
      expect(ip.lookup(built.path, seg, 'findId', 'f'.repeat(32))).toBeNull()
      // Correlation and causation postings.
      for (const id of new Set(f.events.map((e) => e.correlationId))) {
        const want = evs.filter((e) => e.correlationId === id && e.correlationId !== e.eventId).map(seqOf)
        expect(ip.lookup(built.path, seg, 'correlated', hexId(id))).toEqual(want)
      }
      const causes = new Set(f.events.flatMap((e) => (e.causationId ? [e.causationId] : [])))
      expect(causes.size).toBeGreaterThan(50)
      for (const id of causes) expect(ip.lookup(built.path, seg, 'effects', hexId(id))).toEqual(evs.filter((e) => e.causationId === id).map(seqOf))
      for (const e of evs.filter((x) => !x.causationId).slice(0, 20))
        expect(ip.lookup(built.path, seg, 'effects', hexId(e.eventId))).toEqual(evs.filter((x) => x.causationId === e.eventId).map(seqOf))
      // Idempotency keys, digested as appends digest them.
      for (const [key, q] of f.keys) expect(ip.lookup(built.path, seg, 'findIdempotency', key)).toBe(inSeg.has(q) ? q : null)
      expect(ip.lookup(built.path, seg, 'findIdempotency', 'key-never')).toBeNull()
    }
    expect(covered).toEqual(f.events.map(seqOf))
  })
})

describe('index part: damage and mix-ups are refused before use', () => {
  let f: Fixture
  let part: string
  let seg: string
  beforeAll(() => {
    f = fill()
    seg = f.segments[1]!
    part = ip.build(seg, f.dir).path
  })
  const damaged = (edit: (b: Buffer) => Buffer): string => {
    const p = path.join(tempDir('idxpart-bad'), path.basename(part))
    fs.writeFileSync(p, edit(fs.readFileSync(part)))
    return p
  }
  const refused = (p: string, s: string, message: RegExp, cls: typeof CorruptionError | typeof NotFoundError = CorruptionError): void => {
    let err: unknown
    try {
      ip.check(p, s)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(cls)
    expect((err as CorruptionError).code).toBe(cls === CorruptionError ? 'E_CORRUPTION' : 'E_NOT_FOUND')
    expect((err as Error).message).toMatch(message)
  }

  it('accepts the part as written', () => {
    expect(ip.check(part, seg)).toEqual({ ok: true })
  })

  it('a flipped body byte (bit rot in a posting) is refused with the corruption code', () => {
    refused(damaged((b) => ((b[b.length - 40]! ^= 0x04), b)), seg, /body checksum mismatch/)
  })

  it('a flipped header byte (the segment id) is refused', () => {
    refused(damaged((b) => ((b[24]! ^= 0x01), b)), seg, /header checksum mismatch/)
  })

  it('a truncated file (a crash mid-write) is refused', () => {
    refused(damaged((b) => b.subarray(0, Math.floor(b.length / 2))), seg, /length field \d+ is not the file's size/)
    refused(damaged((b) => b.subarray(0, 100)), seg, /shorter than its header/)
  })

  it('a part checked against another segment (identity) is refused', () => {
    refused(part, f.segments[2]!, /describes segment 2 created at \d+ ending at \d+, not segment 3/)
  })

  it('a part of an earlier incarnation of the segment (same id, another created-at) is refused', () => {
    // The same store written again: same segment ids, other created-at times.
    const g = fill()
    const other = ip.build(g.segments[1]!, tempDir('idxpart-other')).path
    refused(other, seg, /describes segment 2 created at/)
  })

  it('a CRC-valid but malformed part (a row number out of range) is refused by the structure check', () => {
    const crc = (b: Buffer): number => {
      const c = native().crc32c(b)
      return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0
    }
    const p = damaged((b) => {
      const idsAt = Number(b.readBigUInt64LE(72 + 5 * 16)) // the ids section's offset
      const rows = b.readUInt32LE(64)
      b.writeUInt32LE(rows + 1000, idsAt + 16 * rows) // the first id's row
      b.writeUInt32LE(crc(b.subarray(256)), 12)
      b.writeUInt32LE(crc(b.subarray(12, 256)), 8)
      return b
    })
    refused(p, seg, /names a row out of range/)
  })

  it('a segment whose frames do not check is refused at build, and no part is written', () => {
    const copy = tempDir('idxpart-rot')
    const src = f.segments[2]!
    const dst = path.join(copy, path.basename(src))
    const b = fs.readFileSync(src)
    b[128 + 3000]! ^= 0x10 // inside a frame below the sealed end
    fs.writeFileSync(dst, b)
    expect(() => ip.build(dst, copy)).toThrow(CorruptionError)
    expect(() => ip.build(dst, copy)).toThrow(/frames do not check up to \d+ \(checksum mismatch\)/)
    expect(fs.readdirSync(copy)).toEqual([path.basename(dst)])
  })

  it('a missing file answers the not-found code', () => {
    refused(path.join(f.dir, 'ffffffffffffffff.cwidx'), seg, /does not exist/, NotFoundError)
  })

  it('the written file is owner-only (0600)', () => {
    if (process.platform === 'win32') return
    expect(fs.statSync(part).mode & 0o777).toBe(0o600)
  })

  it('a .tmp leftover is not mistaken for the part, and a build replaces it', () => {
    const s3 = f.segments[3]!
    const p3 = s3.replace(/\.cwseg$/, '.cwidx')
    fs.rmSync(p3, { force: true })
    fs.copyFileSync(part, `${p3}.tmp`) // a whole, valid-looking file, only under the .tmp name
    refused(p3, s3, /does not exist/, NotFoundError)
    ip.build(s3, f.dir)
    expect(fs.existsSync(`${p3}.tmp`)).toBe(false)
    expect(ip.check(p3, s3)).toEqual({ ok: true })
  })
})

describe('index part: the worked example of native/FORMAT.md', () => {
  it('lays out three events over two entities with one tag at the documented offsets', () => {
    const dir = tempDir('idxpart-example')
    const s = Store.open({ dataDir: dir })
    const k = EventKind.custom(1, 1)
    s.append(new Coordinate('order:1', 'shop'), k, { n: 1 }, { tags: ['vip'] })
    s.append(new Coordinate('order:2', 'shop'), k, { n: 2 })
    s.append(new Coordinate('order:1', 'shop'), k, { n: 3 }, { tags: ['vip'], idempotencyKey: 'k3' })
    s.close()
    const [seg] = segmentFiles(dir)
    const built = ip.build(seg!, dir)
    const b = fs.readFileSync(built.path)
    expect(b.subarray(0, 8).toString('latin1')).toBe('CWIDXv01')
    expect([b.length, b.readBigUInt64LE(16), b.readBigUInt64LE(40), b.readBigUInt64LE(48), b.readBigUInt64LE(56), b.readUInt32LE(64), b.readUInt32LE(68)]).toEqual([688, 688n, 728n, 0n, 2n, 3, 9])
    const table = Array.from({ length: 9 }, (_, i) => [Number(b.readBigUInt64LE(72 + 16 * i)), b.readUInt32LE(80 + 16 * i), b.readUInt32LE(84 + 16 * i)])
    expect(table).toEqual([[256, 104, 3], [360, 136, 2], [496, 40, 1], [536, 32, 1], [568, 32, 1], [600, 64, 3], [664, 0, 0], [664, 0, 0], [664, 24, 1]])
    const d = ip.inspect(built.path, seg!)
    expect(d.rows.map((r) => r.offset)).toEqual([128, 336, 520])
    expect(d.entities.map((e) => [e.name, e.lastClock, e.rows])).toEqual([['order:1', 2, [0, 2]], ['order:2', 1, [1]]])
    expect(ip.lookup(built.path, seg!, 'findIdempotency', 'k3')).toBe(2)
  })
})
