import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, Query, Region, Store } from '../src/index.js'
import type { QueryOptions } from '../src/paging.js'
import { blockIndexFiles, tempDir } from './helpers.js'

// Sealed segments' rows are served by their index files, not memory: these
// tests catch a query that answers differently from files than from the
// in-memory index (a missed, repeated or misordered row at a segment's
// edge, a prefix or scope looked up by the wrong number, a bound or limit
// applied per segment instead of per query), and rows that stay in memory.

const SEG = 16 * 1024 // small: files are built in the append that seals a segment
const KINDS = [1, 2, 3].map((k) => EventKind.custom(1, k))

/** The same events, in the same order, in any store: entities under prefixes, scopes, kinds, tags, clocks. */
function fill(s: Store, n: number): void {
  for (let i = 0; i < n; i += 10) {
    const items = Array.from({ length: 10 }, (_, j) => {
      const k = i + j
      const tags = [k % 3 === 0 ? `t:${k % 5}` : undefined, k % 4 === 0 ? 'four' : undefined].filter((t): t is string => !!t)
      return {
        coord: new Coordinate(k % 11 === 0 ? `order` : `order:${k % 6}${k % 2 ? ':line' : ''}`, `shop-${k % 3}`),
        kind: KINDS[k % 3]!,
        payload: { k, pad: 'p'.repeat(30) },
        ...(tags.length ? { tags } : {}),
      }
    })
    s.appendBatch(items)
  }
  s.append(new Coordinate('orders', 'shop-0'), KINDS[0]!, { last: true })
}

const seqs = (events: Iterable<{ globalSequence: bigint }>) => [...events].map((e) => e.globalSequence)

/** Every kind of question the index answers, each as the sequences it returns. */
function answers(s: Store): Record<string, bigint[]> {
  const out: Record<string, bigint[]> = {}
  const ask = (name: string, sel: Region | Query, o: QueryOptions = {}) => {
    out[name] = seqs(s.query(sel, o))
  }
  const regions: Record<string, Region | Query> = {
    all: Region.all(),
    prefix: Region.entity('order'),
    sub: Region.entity('order:3'),
    none: Region.entity('nobody'),
    scope: Region.scope('shop-1'),
    kind: Region.all().withFact(KINDS[1]!),
    category: Region.all().withFactCategory(1),
    prefixScopeKind: Region.entity('order').withScope('shop-2').withFact(KINDS[2]!),
    clocks: Region.entity('order:2').withClockRange(5, 40),
    tag: Region.all().withTags('t:2'),
    twoTags: Region.all().withTags('t:0', 'four'),
    tagScope: Region.scope('shop-0').withTags('four'),
    dcb: Query.items({ types: [KINDS[0]!, KINDS[2]!] }, { tags: ['t:4'] }),
    kinds: Query.items({ types: [KINDS[0]!, KINDS[1]!] }),
  }
  for (const [name, sel] of Object.entries(regions)) {
    ask(name, sel)
    ask(`${name}/reverse`, sel, { reverse: true })
    ask(`${name}/limit7`, sel, { limit: 7 })
    ask(`${name}/reverse-limit7`, sel, { reverse: true, limit: 7 })
    ask(`${name}/after500`, sel, { after: 500n, limit: 40 })
    ask(`${name}/before900`, sel, { after: 900n, reverse: true, limit: 60 })
  }
  for (const e of ['order', 'order:1', 'order:4:line', 'orders']) {
    out[`stream ${e}`] = seqs(s.stream(e))
    out[`stream ${e} newest 5`] = seqs(s.stream(e, { reverse: true, limit: 5 }))
    out[`stream ${e} clocks 3-30`] = seqs(s.stream(e, { fromClock: 3, toClock: 30 }))
  }
  return out
}

describe('queries served by index files', () => {
  it('answer every question exactly as the in-memory index does, at segment edges and across them', () => {
    const a = tempDir()
    const b = tempDir()
    blockIndexFiles(b)
    const files = Store.open({ dataDir: a, segmentMaxBytes: SEG })
    const memory = Store.open({ dataDir: b, segmentMaxBytes: SEG })
    fill(files, 1500)
    fill(memory, 1500)
    const fs1 = files.stats()
    expect(fs1.segments).toBeGreaterThan(8)
    expect(fs1.indexFiles).toBe(fs1.segments - 1)
    expect(memory.stats().indexFiles).toBe(0)
    const want = answers(memory)
    expect(want['prefix']!.length).toBeGreaterThan(1000)
    expect(answers(files)).toEqual(want)
    // Clocks and heads come from the files too: the next append continues each entity.
    const r1 = files.append(new Coordinate('order:3', 'shop-0'), KINDS[0]!, {})
    const r2 = memory.append(new Coordinate('order:3', 'shop-0'), KINDS[0]!, {})
    expect(r1.clock).toBe(r2.clock)
    expect(files.clockOf('order:3')).toBe(memory.clockOf('order:3'))
    files.close()
    memory.close()
  })

  it('keep sealed rows out of memory, and reopen from a checkpoint that leaves them to the files', () => {
    const a = tempDir()
    const b = tempDir()
    blockIndexFiles(b)
    // Larger segments and more rows: columns are freed in chunks of 16,384 rows.
    const seg = 256 * 1024
    let files = Store.open({ dataDir: a, segmentMaxBytes: seg })
    let memory = Store.open({ dataDir: b, segmentMaxBytes: seg })
    fill(files, 60_000)
    fill(memory, 60_000)
    expect(files.stats().indexFiles).toBeGreaterThan(10)
    // The rows of sealed segments left memory: far less than the store holding every row.
    expect(files.stats().indexBytes).toBeLessThan(memory.stats().indexBytes / 3)
    files.close()
    memory.close()
    expect(fs.statSync(path.join(a, 'index.ckpt')).size).toBeLessThan(fs.statSync(path.join(b, 'index.ckpt')).size / 3)
    files = Store.open({ dataDir: a, segmentMaxBytes: seg })
    memory = Store.open({ dataDir: b, segmentMaxBytes: seg })
    expect(files.stats().openedFromCheckpoint).toBe(true)
    expect(files.stats().indexBytes).toBeLessThan(memory.stats().indexBytes / 3)
    expect(answers(files)).toEqual(answers(memory))
    files.close()
    memory.close()
  })

  it('refuse a checkpoint whose file went missing, and answer the same after the scan that replaces it', () => {
    const a = tempDir()
    let s = Store.open({ dataDir: a, segmentMaxBytes: SEG })
    fill(s, 1500)
    const want = answers(s)
    s.close()
    const part = fs.readdirSync(a).filter((n) => n.endsWith('.cwidx')).sort()[2]!
    fs.rmSync(path.join(a, part))
    s = Store.open({ dataDir: a, segmentMaxBytes: SEG })
    expect(s.stats().openedFromCheckpoint).toBe(false)
    expect(answers(s)).toEqual(want)
    expect(fs.existsSync(path.join(a, part))).toBe(true) // rebuilt by the writer
    s.close()
  })
})
