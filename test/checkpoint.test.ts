import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, Region, Store } from '../src/index.js'
import { native } from '../src/native/loader.js'
import { blockIndexFiles, crashImage, stripFooters, tempDir } from './helpers.js'

const K = EventKind.custom(1, 1)

/** Everything a reader can see, as plain data, for before/after comparisons. */
function snapshotOf(s: Store) {
  return s.query(Region.all()).map((e) => ({
    id: e.eventId,
    seq: e.globalSequence,
    entity: e.coordinate.entity,
    scope: e.coordinate.scope,
    clock: e.clock,
    hash: e.contentHash,
    prev: e.prevHash,
    cause: e.causationId,
    corr: e.correlationId,
    payload: e.payload,
  }))
}

function build(dir: string, n: number, segmentMaxBytes = 16 * 1024): Store {
  const s = Store.open({ dataDir: dir, segmentMaxBytes })
  let prev: string | undefined
  for (let i = 0; i < n; i++) {
    const r = s.append(new Coordinate(`acct:${i % 13}`, `s${i % 3}`), K, { i }, i % 10 === 0 ? { idempotencyKey: `k${i}` } : {})
    if (prev && i % 7 === 0) s.appendReaction(new Coordinate('audit', 'x'), K, { of: i }, prev, r.eventId)
    prev = r.eventId
  }
  return s
}

describe('index checkpoint (fast open)', () => {
  it('reopens from the checkpoint with exactly what a full scan would find', () => {
    const dir = tempDir()
    let s = build(dir, 600)
    const before = snapshotOf(s)
    s.close()
    expect(fs.existsSync(path.join(dir, 'index.ckpt'))).toBe(true)
    s = Store.open({ dataDir: dir, segmentMaxBytes: 16 * 1024 })
    expect(s.stats().openedFromCheckpoint).toBe(true)
    expect(snapshotOf(s)).toEqual(before)
    // Lookups that live only in the index work too: ids, idempotency, effects, per-entity chains.
    expect(s.get(before[300]!.id)?.clock).toBe(before[300]!.clock)
    expect(s.append(new Coordinate('acct:0', 's0'), K, { again: true }, { idempotencyKey: 'k50' }).deduplicated).toBe(true)
    const caused = before.find((e) => e.cause)!
    expect(s.effectsOf(caused.cause!).map((e) => e.eventId)).toContain(caused.id)
    const next = s.append(new Coordinate('acct:1', 's1'), K, 'next')
    expect(next.prevHash).toBe([...before].reverse().find((e) => e.entity === 'acct:1')!.hash)
    s.close()
    fs.rmSync(path.join(dir, 'index.ckpt'))
    s = Store.open({ dataDir: dir, segmentMaxBytes: 16 * 1024 })
    expect(s.stats().openedFromCheckpoint).toBe(false)
    expect(snapshotOf(s).slice(0, before.length)).toEqual(before)
    s.close()
  })

  it('falls back to a scan when the checkpoint is damaged, foreign or stale, never to wrong answers', () => {
    const dir = tempDir()
    let s = build(dir, 300)
    const before = snapshotOf(s)
    s.close()
    const ckpt = path.join(dir, 'index.ckpt')
    // Damaged: one flipped byte.
    const good = fs.readFileSync(ckpt)
    const bad = Buffer.from(good)
    bad[bad.length >> 1]! ^= 0x10
    fs.writeFileSync(ckpt, bad)
    s = Store.open({ dataDir: dir, segmentMaxBytes: 16 * 1024 })
    expect(s.stats().openedFromCheckpoint).toBe(false)
    expect(snapshotOf(s)).toEqual(before)
    s.close()
    // Foreign: the checkpoint of another store.
    const other = tempDir()
    build(other, 50).close()
    fs.copyFileSync(path.join(other, 'index.ckpt'), ckpt)
    s = Store.open({ dataDir: dir, segmentMaxBytes: 16 * 1024 })
    expect(s.stats().openedFromCheckpoint).toBe(false)
    expect(snapshotOf(s)).toEqual(before)
    // Stale: written at an earlier close; events appended since, then a crash.
    s.close()
    s = Store.open({ dataDir: dir, segmentMaxBytes: 16 * 1024 })
    for (let i = 0; i < 40; i++) s.append(new Coordinate('late', 'x'), K, { late: i })
    const after = snapshotOf(s)
    const image = crashImage(dir)
    s.close()
    const r = Store.open({ dataDir: image, segmentMaxBytes: 16 * 1024 })
    expect(r.stats().openedFromCheckpoint).toBe(true)
    expect(snapshotOf(r)).toEqual(after)
    r.close()
  })
})

/**
 * Where the checkpoint's event-id section starts: it follows the tag
 * postings (empty tables here: zero counts) and runs to the end, u32
 * parts, then per part u8 kind, u32 slot, u32 first row, u32 rows, and for
 * kind 0 a u32 tag per row. Found by parsing from each candidate offset.
 */
function idSectionAt(body: Buffer, events: number): number {
  for (let at = body.length - 4; at >= 8; at--) {
    if (body.readBigUInt64LE(at - 8) !== 0n) continue
    let p = at + 4
    let rows = 0
    const parts = body.readUInt32LE(at)
    for (let i = 0; i < parts && p + 13 <= body.length; i++) {
      const kind = body[p]!
      const n = body.readUInt32LE(p + 9)
      p += 13 + (kind === 0 ? 4 * n : 0)
      rows += n
    }
    if (p === body.length && rows === events) return at
  }
  throw new Error('no event-id section found')
}

/**
 * Rewrites the current (v6) checkpoint of a store whose rows are all in
 * memory as an older version, re-sealed with its CRC. v5 is v6 but for
 * segments in files (v5 also listed their names' ids; none here). v5 starts with a
 * table of segments (u32 count, then u32 slot, u32 rows, u8 in-file each)
 * and has one tag table per segment; v4 has neither, one tag table for
 * all; v3 has, in place of v4's event-id section, a table of every id
 * (here 1024 empty 8-byte slots) and its count; v2 also has no tag
 * postings; v1 has 4-byte slots. The slots are left empty: an open reads
 * past them and takes each id from its checked frame. REQUIRES: no tagged event.
 */
function asOlderCheckpoint(v6: Buffer, version: 1 | 2 | 3 | 4 | 5, events: number): Buffer {
  const full = v6.subarray(20)
  expect(v6.toString('latin1', 0, 8)).toBe('CWCKPTv6')
  // The checkpoint's own header (u32 count, 64 bytes per covered segment, i64 time), then the index's part.
  const at = 4 + 64 * full.readUInt32LE(0) + 8
  const segments = full.readUInt32LE(at)
  for (let i = 0; i < segments; i++) expect(full[at + 4 + 9 * i + 8]).toBe(0) // every segment's rows in memory
  const idAt = idSectionAt(full, events)
  for (let i = 1; i <= segments; i++) expect(full.readBigUInt64LE(idAt - 8 * i)).toBe(0n) // no tag lists
  // v4: no segment table, one (empty) tag table.
  const body = Buffer.concat([full.subarray(0, at), full.subarray(at + 4 + 9 * segments, idAt - 8 * segments), Buffer.alloc(8)])
  let older: Buffer
  if (version === 5) {
    older = full
  } else if (version === 4) {
    older = Buffer.concat([body, full.subarray(idAt)])
  } else {
    const slots = Buffer.alloc(8 + 1024 * (version === 1 ? 4 : 8) + 8)
    slots.writeBigUInt64LE(1024n, 0)
    slots.writeBigUInt64LE(BigInt(events), slots.length - 8)
    older = Buffer.concat([version === 3 ? body : body.subarray(0, body.length - 8), slots])
  }
  const len = Buffer.alloc(8)
  len.writeBigUInt64LE(BigInt(older.length))
  const crc = native().crc32c(Buffer.concat([len, older])) >>> 0
  const masked = ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0
  const head = Buffer.alloc(12)
  head.write(`CWCKPTv${version}`, 0, 'latin1')
  head.writeUInt32LE(masked, 8)
  return Buffer.concat([head, len, older])
}

/** Flips a payload byte of the fourth frame of a segment file; returns that frame's offset. */
function flipFourthFramePayload(file: string): number {
  const b = fs.readFileSync(file)
  let at = 128
  for (let k = 0; k < 3; k++) at += (b.readUInt32LE(at) + 7) & ~7
  b[at + 172]! ^= 0x01
  fs.writeFileSync(file, b)
  return at
}

/** After a reopen of build()'s store: a key build() used still deduplicates, and an entity's chain goes on. */
function expectKeysAndChainsContinue(s: Store, before: ReturnType<typeof snapshotOf>): void {
  expect(s.append(new Coordinate('acct:0', 's0'), K, {}, { idempotencyKey: 'k50' }).deduplicated).toBe(true)
  const next = s.append(new Coordinate('acct:2', 's2'), K, 'next')
  expect(next.prevHash).toBe([...before].reverse().find((e) => e.entity === 'acct:2')!.hash)
  expect(next.clock).toBe(before.filter((e) => e.entity === 'acct:2').length + 1)
}

describe('index checkpoint versions', () => {
  it.each([
    [1, 'untagged id table, no tag lists'],
    [2, 'tagged id table, no tag lists'],
    [3, 'an id table'],
    [4, 'every row, ids by segment'],
    [5, 'segment table, a file\'s names by id'],
  ] as const)('still opens from a v%i checkpoint (%s) over several segments with every id and key found', (version, _what) => {
    const dir = tempDir()
    blockIndexFiles(dir)
    let s = build(dir, 300)
    const before = snapshotOf(s)
    const events = Number(s.stats().events)
    expect(s.stats().segments).toBeGreaterThan(2)
    expect(s.stats().indexFiles).toBe(0)
    s.close()
    const ckpt = path.join(dir, 'index.ckpt')
    fs.writeFileSync(ckpt, asOlderCheckpoint(fs.readFileSync(ckpt), version, events))
    s = Store.open({ dataDir: dir, segmentMaxBytes: 16 * 1024 })
    expect(s.stats().openedFromCheckpoint).toBe(true)
    expect(snapshotOf(s)).toEqual(before)
    for (const e of before) expect(s.get(e.id)?.globalSequence).toBe(e.seq)
    expect(s.stream('acct:3').map((e) => e.globalSequence)).toEqual(before.filter((e) => e.entity === 'acct:3').map((e) => e.seq))
    expect(s.append(new Coordinate('acct:0', 's0'), K, { i: 0 }, { idempotencyKey: 'k0' }).deduplicated).toBe(true)
    s.close()
    // Closing wrote the current version again.
    expect(fs.readFileSync(ckpt).toString('latin1', 0, 8)).toBe('CWCKPTv6')
  })
})

describe('segment footers', () => {
  it('load sealed segments from their footers when there is no checkpoint, with the same answers as a scan', () => {
    const dir = tempDir()
    blockIndexFiles(dir) // with index files, those would be used instead (next describe)
    let s = build(dir, 500)
    const before = snapshotOf(s)
    s.close()
    fs.rmSync(path.join(dir, 'index.ckpt'))
    s = Store.open({ dataDir: dir, segmentMaxBytes: 16 * 1024 })
    const st = s.stats()
    expect(st.openedFromCheckpoint).toBe(false)
    expect(st.footersLoaded).toBe(st.segments) // every segment was sealed at close
    expect(snapshotOf(s)).toEqual(before)
    expectKeysAndChainsContinue(s, before)
    s.close()
  })

  it('scans a segment whose footer is damaged, and still finds damaged frames of footer-loaded segments on read', () => {
    const dir = tempDir()
    blockIndexFiles(dir)
    const s = build(dir, 500)
    const before = snapshotOf(s)
    s.close()
    fs.rmSync(path.join(dir, 'index.ckpt'))
    const segs = fs.readdirSync(dir).filter((n) => n.endsWith('.cwseg')).sort()
    // Damage the footer of segment 1 (its last bytes) and a frame payload of segment 2.
    const f1 = path.join(dir, segs[0]!)
    const b1 = fs.readFileSync(f1)
    b1[b1.length - 3]! ^= 0xff
    fs.writeFileSync(f1, b1)
    let r = Store.open({ dataDir: dir, segmentMaxBytes: 16 * 1024, readOnly: true })
    expect(r.stats().footersLoaded).toBe(segs.length - 1)
    expect(snapshotOf(r)).toEqual(before)
    r.close()
    // A frame in the middle of segment 2: its footer still loads (it checks
    // the first and last frames), and the read reports the damaged frame.
    const at = flipFourthFramePayload(path.join(dir, segs[1]!))
    r = Store.open({ dataDir: dir, segmentMaxBytes: 16 * 1024, readOnly: true })
    expect(r.stats().footersLoaded).toBe(segs.length - 1)
    expect(() => r.query(Region.all())).toThrow(new RegExp(`segment 0000000000000002\\.cwseg offset ${at}`))
    r.close()
    // Without footers (and checkpoint) the open scans, finds the damage, and refuses the store.
    stripFooters(dir)
    expect(() => Store.open({ dataDir: dir, segmentMaxBytes: 16 * 1024, readOnly: true })).toThrow(/segment 0000000000000002\.cwseg offset/)
    // A salvage open reads past it and names it.
    const salvage = Store.open({ dataDir: dir, segmentMaxBytes: 16 * 1024, readOnly: true, salvage: true })
    expect(salvage.stats().damage).toEqual([`segment 0000000000000002.cwseg offset ${at}: checksum mismatch`])
    expect(salvage.stats().events).toBe(before.length - 1)
    salvage.close()
  })
})

describe('segment index files at an open without a checkpoint', () => {
  /** Correlation and causation as the store answers them, for every event. */
  const causal = (s: Store) =>
    s.query(Region.all()).map((e) => [seqsOf(s.byCorrelation(e.correlationId)), seqsOf(s.effectsOf(e.eventId))])
  const seqsOf = (events: { globalSequence: bigint }[]) => events.map((e) => e.globalSequence)

  it('takes sealed segments from their files, frames unread, with the same answers, heads, keys and causal links', () => {
    const dir = tempDir()
    let s = build(dir, 500)
    const before = snapshotOf(s)
    const links = causal(s)
    s.close()
    fs.rmSync(path.join(dir, 'index.ckpt')) // as after a crash
    s = Store.open({ dataDir: dir, segmentMaxBytes: 16 * 1024 })
    const st = s.stats()
    expect(st.openedFromCheckpoint).toBe(false)
    expect(st.indexFilesLoaded).toBe(st.segments - 1) // all but the last, which the writer reopens
    expect(snapshotOf(s)).toEqual(before)
    expect(causal(s)).toEqual(links)
    expectKeysAndChainsContinue(s, before)
    s.close()
  })

  it('still reports a damaged frame of a segment taken from its file when the frame is read', () => {
    const dir = tempDir()
    const s = build(dir, 500)
    s.close()
    fs.rmSync(path.join(dir, 'index.ckpt'))
    const at = flipFourthFramePayload(path.join(dir, fs.readdirSync(dir).filter((n) => n.endsWith('.cwseg')).sort()[1]!))
    const r = Store.open({ dataDir: dir, segmentMaxBytes: 16 * 1024, readOnly: true })
    expect(r.stats().indexFilesLoaded).toBeGreaterThan(1)
    expect(() => r.query(Region.all())).toThrow(new RegExp(`segment 0000000000000002\\.cwseg offset ${at}`))
    r.close()
  })
})
