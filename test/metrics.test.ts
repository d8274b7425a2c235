import diagnostics_channel from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import { Coordinate, EventKind, prometheusText, Region, Store } from '../src/index.js'
import { cli } from './cli-helpers.js'
import { tempDir } from './helpers.js'

const K = EventKind.custom(1, 1)
const acct = (i: number) => new Coordinate(`acct:${i}`, 'bank')
const unsubscribe: Array<() => void> = []
afterEach(() => {
  for (const f of unsubscribe.splice(0)) f()
})
function listen(name: string): unknown[] {
  const seen: unknown[] = []
  const f = (m: unknown) => seen.push(m)
  diagnostics_channel.subscribe(name, f)
  unsubscribe.push(() => diagnostics_channel.unsubscribe(name, f))
  return seen
}

/** A known workload; what metrics() must count for it. */
function workload(s: Store): void {
  for (let i = 0; i < 1000; i++) s.append(acct(i % 10), K, { i, pad: 'x'.repeat(100) }) // rolls 64 KiB segments
  for (let i = 0; i < 3; i++) s.append(acct(0), K, { durable: i }, { durable: true })
  s.append(acct(1), K, { k: 1 }, { idempotencyKey: 'once' })
  s.append(acct(1), K, { k: 1 }, { idempotencyKey: 'once' }) // deduplicated
  expect(() => s.append(acct(2), K, {}, { expectedSequence: 0 })).toThrow(/clock/)
  s.appendBatch([0, 1, 2, 3].map((i) => ({ coord: acct(20 + i), kind: K, payload: { i } })))
  s.appendBatch([{ coord: acct(1), kind: K, payload: { k: 1 }, idempotencyKey: 'once' }]) // deduplicated item
  const seen = s.query(Region.entity('acct:30'))
  expect(seen).toHaveLength(0)
  s.appendIf([{ coord: acct(30), kind: K, payload: {} }], { failIfEventsMatch: Region.entity('acct:30'), after: null })
  expect(() =>
    s.appendIf([{ coord: acct(30), kind: K, payload: {} }], { failIfEventsMatch: Region.entity('acct:30'), after: null }),
  ).toThrow(expect.objectContaining({ code: 'E_APPEND_CONDITION' }))
}

describe('store.metrics()', () => {
  it('miscounts a known workload: appends, batches, events, dedup, CAS and condition refusals, syncs, rolls', () => {
    const s = Store.open({ dataDir: tempDir(), segmentMaxBytes: 64 * 1024 })
    workload(s)
    const sub = s.subscribe(Region.all())
    for (let i = 0; i < 40; i++) s.append(acct(40), K, { lag: i })
    const m0 = s.metrics()
    expect(m0.counters).toMatchObject({
      appends: 1045, // 1000 + 3 durable + 2 keyed (one deduplicated) + 40; the refused CAS append is not counted
      batches: 3, // two appendBatch, one appendIf that went through
      events: 1000 + 3 + 1 + 4 + 1 + 40,
      deduplicated: 2,
      casFailures: 1,
      conditionConflicts: 1,
      syncFailures: 0,
    })
    expect(m0.counters.bytes).toBeGreaterThan(1000 * 100)
    expect(m0.counters.syncs).toBeGreaterThanOrEqual(3) // each durable append waited for one
    expect(m0.counters.rolls).toBe(s.stats().segments - 1)
    expect(m0.latency.durableAppend.count).toBe(3)
    expect(m0.latency.durableAppend.min).toBeGreaterThan(0)
    // One non-durable call in 64 is timed: 1002 single calls + 3 batch calls, none durable.
    expect(m0.latency.append.count).toBe(Math.floor((1000 + 2 + 3 + 40) / m0.sampleEvery))
    expect(m0.latency.sync.count).toBe(m0.counters.syncs)
    expect(m0.latency.roll.count).toBe(m0.counters.rolls)
    expect(m0.latency.roll.p50).toBeGreaterThan(0)
    for (const l of Object.values(m0.latency)) expect(l.p50 <= l.p99 && l.p99 <= l.max).toBe(true)
    sub.close()
    s.close()
  })

  it('misses subscribers that lagged behind the broadcast ring', () => {
    const s = Store.open({ dataDir: tempDir(), subscriberCapacity: 16 })
    const sub = s.subscribe(Region.all())
    for (let i = 0; i < 100; i++) s.append(acct(1), K, { i })
    const { lagged } = sub.poll()
    expect(lagged).toBeGreaterThan(0)
    expect(s.metrics().counters).toMatchObject({ subscribersLagged: 1, lagEvents: lagged })
    sub.close()
    s.close()
  })
})

describe('diagnostics channels', () => {
  it('publish appends (start, end with receipts, error), syncs, rolls and the recovery', () => {
    const starts = listen('tracing:causeway:append:start')
    const ends = listen('tracing:causeway:append:end') as Array<{ op: string; result: unknown }>
    const errors = listen('tracing:causeway:append:error') as Array<{ error: { code: string } }>
    const syncs = listen('causeway:sync') as Array<{ micros: number }>
    const rolls = listen('causeway:roll')
    const recoveries = listen('causeway:recovery') as Array<{ dataDir: string; fromCheckpoint: boolean }>
    const dir = tempDir()
    Store.open({ dataDir: dir }).close()
    const s = Store.open({ dataDir: dir, segmentMaxBytes: 64 * 1024 })
    expect(recoveries.map((r) => r.fromCheckpoint)).toEqual([false, true])
    workload(s)
    expect(starts).toHaveLength(1000 + 3 + 2 + 1 + 2 + 2)
    expect(ends).toHaveLength(starts.length)
    expect(errors.map((e) => e.error.code)).toEqual(['E_SEQUENCE_MISMATCH', 'E_APPEND_CONDITION'])
    expect(ends.filter((e) => e.op === 'appendIf')).toHaveLength(2)
    s.metrics() // drains the engine's sync and roll records to the channels
    expect(syncs.length).toBeGreaterThanOrEqual(3)
    expect(syncs.every((e) => e.micros >= 0)).toBe(true)
    expect(rolls).toHaveLength(s.stats().segments - 1)
    s.close()
  })
})

describe('Prometheus exposition', () => {
  it('renders metrics() with counter and summary types and the same numbers', async () => {
    const s = Store.open({ dataDir: tempDir(), segmentMaxBytes: 64 * 1024 })
    workload(s)
    const m = s.metrics()
    const text = await prometheusText(m, { store: 'test' })
    s.close()
    expect(text).toContain('# TYPE causeway_appends_total counter')
    expect(text).toContain(`causeway_appends_total{store="test"} ${m.counters.appends}`)
    expect(text).toContain(`causeway_cas_failures_total{store="test"} 1`)
    expect(text).toContain('# TYPE causeway_durable_append_latency_seconds summary')
    expect(text).toContain(`causeway_durable_append_latency_seconds_count{store="test"} 3`)
    expect(text).toMatch(/causeway_durable_append_latency_seconds\{store="test",quantile="0.99"\} \d/)
  })

  it('causeway stats --prometheus prints the text format; plain stats prints each figure once', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir, segmentMaxBytes: 64 * 1024 })
    workload(s)
    s.close()
    const p = cli(['stats', dir, '--prometheus'])
    expect(p.code).toBe(0)
    expect(p.stdout).toContain('# TYPE causeway_syncs_total counter')
    expect(p.stdout).toMatch(/^causeway_segment_rolls_total\{store=".+"\} 0$/m) // a read-only open rolls nothing
    const human = cli(['stats', dir]).stdout
    for (const label of ['events', 'syncs', 'segments', 'index', 'last sync', 'torn bytes cut']) {
      expect(human.match(new RegExp(`^${label}\\s`, 'gm')), label).toHaveLength(1)
    }
    expect(human).not.toContain('diagnostics:')
    expect(human).not.toMatch(/^(openMs|syncErrors|indexBytes)\s/m)
  })
})

describe('the compaction channel', () => {
  it('misses a compaction (sync or async) on tracing:causeway:compaction', async () => {
    const starts = listen('tracing:causeway:compaction:start') as Array<{ op: string }>
    const ends = listen('tracing:causeway:compaction:end') as Array<{ result: { performed: boolean } }>
    const asyncEnds = listen('tracing:causeway:compaction:asyncEnd') as Array<{ op: string; result: { performed: boolean } }>
    const s = Store.open({ dataDir: tempDir(), segmentMaxBytes: 64 * 1024 })
    for (let i = 0; i < 2000; i++) s.append(acct(i % 10), K, { i, pad: 'x'.repeat(100) })
    expect(s.compact({ strategy: 'merge' }).performed).toBe(true)
    for (let i = 0; i < 2000; i++) s.append(acct(i % 10), K, { i, pad: 'x'.repeat(100) })
    await s.compactAsync({ strategy: 'merge' })
    s.close()
    expect(starts.map((c) => c.op)).toEqual(['compact', 'compactAsync'])
    expect(ends[0]!.result.performed).toBe(true)
    expect(asyncEnds.map((c) => [c.op, c.result.performed])).toEqual([['compactAsync', true]])
  })
})
