// Event time: append's occurredAt, kept beside the record time, returned on
// every event, and filtered on by the index (occurredFromUs/occurredToUs:
// the occurredAt where one was given, else the record time).
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, isCausewayError, Store } from '../src/index.js'
import { tempDir } from './helpers.js'

const K = EventKind.custom(1, 1)
const at = new Coordinate('sensor:1', 'plant')
const Y2020 = Date.UTC(2020, 0, 1)

describe('event time (occurredAt)', () => {
  it('is returned as given (Date or ms, to the microsecond), and is the record time when none was given', () => {
    const s = Store.open({ dataDir: tempDir('evtime') })
    try {
      const a = s.append(at, K, { n: 0 }, { occurredAt: new Date(Y2020) })
      const b = s.append(at, K, { n: 1 }, { occurredAt: Y2020 + 0.25 }) // 250 µs
      const c = s.append(at, K, { n: 2 })
      const ea = s.get(a.eventId)!
      expect(ea.occurredAt.getTime()).toBe(Y2020)
      expect(ea.occurredAtUs).toBe(Y2020 * 1000)
      expect(ea.hasOccurredAt).toBe(true)
      expect(ea.timestampUs).toBeGreaterThan(ea.occurredAtUs) // the record time is the append's
      expect(s.get(b.eventId)!.occurredAtUs).toBe(Y2020 * 1000 + 250)
      const ec = s.get(c.eventId)!
      expect(ec.hasOccurredAt).toBe(false)
      expect(ec.occurredAtUs).toBe(ec.timestampUs)
      expect(ea.toJSON()).toMatchObject({ occurredAtUs: Y2020 * 1000 })
      expect(ec.toJSON()).not.toHaveProperty('occurredAtUs')
    } finally {
      s.close()
    }
  })

  it('refuses an occurredAt that is not a valid Date or finite milliseconds, appending nothing', () => {
    const s = Store.open({ dataDir: tempDir('evtime-bad') })
    try {
      for (const bad of [new Date(Number.NaN), Number.POSITIVE_INFINITY, '2020-01-01', 9e15]) {
        let err: unknown
        try {
          s.append(at, K, null, { occurredAt: bad as number })
        } catch (e) {
          err = e
        }
        expect(isCausewayError(err, 'E_INVALID_ARGUMENT'), String(bad)).toBe(true)
      }
      expect(s.stats().nextSequence).toBe(0n)
    } finally {
      s.close()
    }
  })

  it('filters on the event time: occurredAt where given, the record time otherwise, bounds inclusive', () => {
    const s = Store.open({ dataDir: tempDir('evtime-filter') })
    try {
      const day = 86_400_000
      // Recorded now, happened in 2020 (days 0..9).
      const past = Array.from({ length: 10 }, (_, d) => s.append(at, K, { d }, { occurredAt: Y2020 + d * day }).eventId)
      const t0 = Date.now() * 1000 - 60_000_000 // a minute ago, µs
      // Recorded now, no occurredAt: their record time is their event time.
      const plain = Array.from({ length: 3 }, (_, n) => s.append(at, K, { n }).eventId)
      // Recorded now, happens in the future: outside a window around now.
      const future = s.append(at, K, { f: 1 }, { occurredAt: Date.now() + 365 * day }).eventId
      const t1 = Date.now() * 1000 + 60_000_000
      const ids = (f: object) => s.readFiltered(f).map((e) => e.eventId)

      expect(ids({ occurredFromUs: (Y2020 + 2 * day) * 1000, occurredToUs: (Y2020 + 4 * day) * 1000 })).toEqual(past.slice(2, 5))
      expect(ids({ occurredFromUs: t0, occurredToUs: t1 })).toEqual(plain)
      expect(ids({ occurredFromUs: t0, occurredToUs: t1 + 400 * day * 1000 })).toEqual([...plain, future])
      expect(ids({ occurredFromUs: (Y2020 + 7 * day) * 1000, occurredToUs: (Y2020 + 100 * day) * 1000, reverse: true, limit: 2 })).toEqual([past[9], past[8]])
      // With other parts of a filter: the entity and the time both apply.
      expect(ids({ entity: 'sensor:2', occurredFromUs: 0, occurredToUs: t1 })).toEqual([])
    } finally {
      s.close()
    }
  })
})
