import { describe, expect, it } from 'vitest'
import {
  Coordinate,
  EventKind,
  InvalidKindError,
  InvalidPayloadError,
  Outbox,
  OutboxClosedError,
  SequenceMismatchError,
  Store,
  StoreClosedError,
  isCausewayError,
} from '../src/index.js'
import { tempDir } from './helpers.js'

const Placed = EventKind.custom(1, 1)
const Reserved = EventKind.custom(2, 1)
const order = new Coordinate('order:1', 'shop')
const stock = new Coordinate('stock:A', 'warehouse')

describe('outbox', () => {
  it('writes nothing until flush, then commits every staged event as one batch in staging order', () => {
    const s = Store.open({ dataDir: tempDir() })
    const box = s.outbox()
    expect(box).toBeInstanceOf(Outbox)
    expect(box.stage(order, Placed, { sku: 'A' })).toBe(0)
    expect(box.stage(stock, Reserved, { qty: 1 }, { causation: { priorItem: 0 } })).toBe(1)
    expect(box.size).toBe(2)
    expect(s.stats().events).toBe(0)
    const rs = box.flush({ durable: true })
    expect(rs.map((r) => r.globalSequence)).toEqual([0n, 1n])
    expect(rs.every((r) => r.durable)).toBe(true)
    expect(s.get(rs[1]!.eventId)!.causationId).toBe(rs[0]!.eventId)
    expect(box.state).toBe('flushed')
    expect(box.size).toBe(0)
    s.close()
  })

  it('commits nothing when it is dropped without flush', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir })
    ;(() => {
      const box = s.outbox()
      box.stage(order, Placed, 1)
      box.stage(order, Placed, 2)
    })()
    s.close()
    const again = Store.open({ dataDir: dir })
    expect(again.stats().events).toBe(0)
    again.close()
  })

  it('writes none of the batch when one staged event is refused, and stays open', () => {
    const s = Store.open({ dataDir: tempDir() })
    s.append(order, Placed, 'existing')
    const box = s.outbox()
    box.stage(stock, Reserved, { qty: 1 })
    box.stage(order, Placed, 'again', { expectedSequence: 0 }) // the order already has an event
    expect(() => box.flush()).toThrow(SequenceMismatchError)
    expect(s.stats().events).toBe(1)
    expect(s.stream('stock:A')).toEqual([])
    expect(box.state).toBe('open')
    box.discard()
    expect(s.stats().events).toBe(1)
    s.close()
  })

  it('refuses a second flush and any use after discard with OutboxClosedError', () => {
    const s = Store.open({ dataDir: tempDir() })
    const flushed = s.outbox()
    flushed.stage(order, Placed, 1)
    flushed.flush()
    expect(() => flushed.flush()).toThrow(OutboxClosedError)
    expect(() => flushed.stage(order, Placed, 2)).toThrow(/already flushed/)
    const discarded = s.outbox()
    discarded.stage(order, Placed, 3)
    discarded.discard()
    for (const use of [() => discarded.flush(), () => discarded.discard(), () => discarded.stage(order, Placed, 4)]) {
      expect(use).toThrow(/already discarded/)
    }
    try {
      discarded.flush()
    } catch (e) {
      expect(isCausewayError(e)).toBe(true)
      expect((e as OutboxClosedError).code).toBe('E_OUTBOX_CLOSED')
    }
    expect(s.stats().events).toBe(1)
    s.close()
  })

  it('writes the payload as it was when staged, not as changed afterwards', () => {
    const s = Store.open({ dataDir: tempDir() })
    const box = s.outbox()
    const payload = { qty: 1, tags: ['a'] }
    box.stage(order, Placed, payload)
    payload.qty = 99
    payload.tags.push('b')
    const [r] = box.flush()
    expect(s.get(r!.eventId)!.payload).toEqual({ qty: 1, tags: ['a'] })
    s.close()
  })

  it('refuses a bad payload, a reserved kind or a forward causation when staged', () => {
    const s = Store.open({ dataDir: tempDir() })
    const box = s.outbox()
    expect(() => box.stage(order, Placed, { f: () => 1 })).toThrow(InvalidPayloadError)
    expect(() => box.stage(order, EventKind.fromValue(0x0001), 1)).toThrow(InvalidKindError)
    expect(() => box.stage(order, Placed, 1, { causation: { priorItem: 0 } })).toThrow(/earlier staged event/)
    expect(box.size).toBe(0)
    expect(box.flush()).toEqual([]) // an empty outbox flushes to nothing
    s.close()
    expect(() => s.outbox()).toThrow(StoreClosedError)
  })
})
