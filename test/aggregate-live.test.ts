// store.aggregateLive: windows emitted as they close over a live store,
// each equal to what store.aggregate says of the same events.
import { describe, expect, it } from 'vitest'
import { type AggregateWindow, Coordinate, EventKind, Store } from '../src/index.js'
import { tempDir } from './helpers.js'

const Y2020 = Date.UTC(2020, 0, 1)
const K = EventKind.custom(1, 1)
const at = new Coordinate('sensor:1', 'plant')

async function until(cond: () => boolean, what: string): Promise<void> {
  const t0 = Date.now()
  while (!cond()) {
    if (Date.now() - t0 > 5000) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('store.aggregateLive', () => {
  it('an event-time window is emitted once an event lands in a later window, with what aggregate() gives; later events for it count as late', async () => {
    const s = Store.open({ dataDir: tempDir('agg-live') })
    const spec = { window: { tumbling: '1m' }, time: 'event', measures: { n: 'count', total: { sum: 'v' } } } as const
    const got: AggregateWindow[] = []
    const live = s.aggregateLive(spec, (w) => got.push(w))
    try {
      s.append(at, K, { v: 1 }, { occurredAt: Y2020 })
      s.append(at, K, { v: 2 }, { occurredAt: Y2020 + 10_000 })
      await new Promise((r) => setTimeout(r, 50))
      expect(got).toEqual([]) // nothing later yet: the first minute may still grow
      s.append(at, K, { v: 4 }, { occurredAt: Y2020 + 70_000 })
      await until(() => got.length === 1, 'the first window')
      expect(got[0]).toEqual(s.aggregate(spec)[0])
      expect(got[0]).toMatchObject({ startUs: Y2020 * 1000, n: 2, total: 3 })
      s.append(at, K, { v: 8 }, { occurredAt: Y2020 + 5_000 }) // the first minute again: too late
      s.append(at, K, { v: 16 }, { occurredAt: Y2020 + 130_000 })
      await until(() => got.length === 2, 'the second window')
      expect(got[1]).toMatchObject({ startUs: (Y2020 + 60_000) * 1000, n: 1, total: 4 })
      expect(live.late).toBe(1)
    } finally {
      await live.close()
      s.close()
    }
  })

  it('a record-time window is emitted once an event lands in a later window, before any idle timeout', async () => {
    const s = Store.open({ dataDir: tempDir('agg-live-next') })
    const spec = { window: { tumbling: 1000 }, measures: { n: 'count' } } as const
    const got: AggregateWindow[] = []
    const live = s.aggregateLive(spec, (w) => got.push(w), { idleCloseMs: 60_000 })
    try {
      // Start near a window's beginning, so that a loaded machine cannot split the two appends across a boundary.
      await until(() => Date.now() % 1000 < 100, 'the start of a window')
      s.append(at, K, {})
      s.append(at, K, {})
      await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20)) // past the first window's end
      s.append(at, K, {})
      await until(() => got.length === 1, 'the first window')
      expect(got[0]).toEqual(s.aggregate(spec)[0])
      expect(got[0]!.n).toBe(2)
    } finally {
      await live.close()
      s.close()
    }
  })

  it('a record-time window closes when the store falls quiet, and fromSequence 0 takes in the events already there', async () => {
    const s = Store.open({ dataDir: tempDir('agg-live-rec') })
    try {
      for (let i = 0; i < 5; i++) s.append(at, K, { v: i })
      const spec = { window: { tumbling: 20 }, measures: { n: 'count', total: { sum: 'v' } } } as const
      const got: AggregateWindow[] = []
      const live = s.aggregateLive(spec, (w) => got.push(w), { fromSequence: 0n, idleCloseMs: 10 })
      for (let i = 5; i < 10; i++) s.append(at, K, { v: i })
      await until(() => got.reduce((a, w) => a + w.events, 0) === 10, 'every event in a closed window')
      await live.close()
      expect(got).toEqual(s.aggregate(spec))
      await live.done
    } finally {
      s.close()
    }
  })

  it('an onWindow that throws stops the loop and rejects done with its error; close() emits no open window', async () => {
    const s = Store.open({ dataDir: tempDir('agg-live-throw') })
    try {
      const spec = { window: { tumbling: '1m' }, time: 'event', measures: { n: 'count' } } as const
      const live = s.aggregateLive(spec, () => {
        throw new Error('consumer failed')
      })
      s.append(at, K, {}, { occurredAt: Y2020 })
      s.append(at, K, {}, { occurredAt: Y2020 + 60_000 })
      await expect(live.done).rejects.toThrow('consumer failed')
      const quiet: AggregateWindow[] = []
      const other = s.aggregateLive(spec, (w) => quiet.push(w), { fromSequence: 0n })
      await new Promise((r) => setTimeout(r, 30))
      await other.close()
      expect(quiet).toHaveLength(1) // the second minute stays open, and close() does not emit it
    } finally {
      s.close()
    }
  })
})
