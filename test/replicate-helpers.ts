// Shared by the replication tests: a primary store filled with every kind
// of frame (single events, batches, idempotency keys, tags, event times,
// causation, a named type), and byte-for-byte comparison of two logs.
import { expect } from 'vitest'
import { Coordinate, EventKind, type Store } from '../src/index.js'
import { loadNats } from '../src/replicate/nats.js'
import { frameOf } from '../src/replicate/wire.js'

export const Placed = EventKind.custom(1, 1)
export const Paid = EventKind.custom(2, 1)

/** Appends `n` events (about a tenth of them in batches of 3); returns the store's next sequence. */
export function fill(store: Store, n: number, from = 0): bigint {
  if (from === 0 && store.types.list().length === 0) store.types.define('order.noted', {})
  let last: string | undefined
  for (let i = from; i < from + n; ) {
    const coord = new Coordinate(`order/${i % 97}`, i % 2 ? 'shop' : 'bar')
    if (i % 10 === 0 && i + 3 <= from + n) {
      store.appendBatch([
        { coord, kind: Placed, payload: { i, items: [i, i + 1] }, tags: [`order:${i % 97}`] },
        { coord, kind: Paid, payload: { i: i + 1 }, causation: { priorItem: 0 } },
        { coord: new Coordinate(`mail/${i % 13}`, 'shop'), kind: 'order.noted', payload: { i: i + 2 } },
      ])
      i += 3
      continue
    }
    const r = store.append(coord, Placed, { i, note: 'x'.repeat(i % 50) }, {
      ...(i % 7 === 0 ? { idempotencyKey: `k-${i}` } : {}),
      ...(i % 5 === 0 ? { occurredAt: 1_700_000_000_000 + i } : {}),
      ...(last && i % 3 === 0 ? { causationId: last } : {}),
    })
    last = r.eventId
    i++
  }
  return BigInt(store.nativeHandle().nextSequence())
}

/** Every frame of both stores, compared byte for byte, in pages. */
export function expectSameLog(a: Store, b: Store): number {
  const end = a.nativeHandle().nextSequence()
  expect(b.nativeHandle().nextSequence()).toBe(end)
  let compared = 0
  for (let from = 0; from < end; ) {
    const x = a.readFiltered({ fromSequence: from, limit: 4096 })
    const y = b.readFiltered({ fromSequence: from, limit: 4096 })
    expect(y.length).toBe(x.length)
    for (let i = 0; i < x.length; i++) {
      const fx = Buffer.from(frameOf(x[i]!))
      const fy = Buffer.from(frameOf(y[i]!))
      if (!fx.equals(fy)) expect({ seq: x[i]!.globalSequence, frame: fy.toString('hex') }).toEqual({ seq: x[i]!.globalSequence, frame: fx.toString('hex') })
    }
    compared += x.length
    from += x.length
  }
  return compared
}

/** Polls `ok` every 20 ms; throws after `ms`. */
export async function waitUntil(ok: () => boolean, ms = 20_000): Promise<void> {
  for (const t0 = Date.now(); !ok(); ) {
    if (Date.now() - t0 > ms) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Stream messages from..to (stream sequences), read one by one. */
export async function streamMessages(url: string, stream: string, from: number, to: number) {
  const { transport, jetstream } = loadNats()
  const nc = await transport.connect({ servers: url })
  try {
    const jsm = await jetstream.jetstreamManager(nc)
    const out = []
    for (let s = from; s <= to; s++) out.push(await jsm.streams.getMessage(stream, { seq: s }))
    return out
  } finally {
    await nc.close()
  }
}
