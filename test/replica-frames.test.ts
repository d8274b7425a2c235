// The addon's appendFrames (a replica's append of another store's frames,
// native/replica_append.cc), without NATS: every frame that does not
// continue the replica's log exactly is refused and nothing is written.
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, Store } from '../src/index.js'
import { frameOf } from '../src/replicate/wire.js'
import { tempDir } from './helpers.js'

const K = EventKind.custom(1, 1)
type Frames = { appendFrames(b: Uint8Array, n: number, d: boolean, r: Uint8Array): void }

function packed(frames: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frames.reduce((n, f) => n + ((f.byteLength + 7) & ~7), 0))
  let o = 0
  for (const f of frames) {
    out.set(f, o)
    o += (f.byteLength + 7) & ~7
  }
  return out
}

function append(into: Store, frames: Uint8Array[]): void {
  ;(into.nativeHandle() as unknown as Frames).appendFrames(packed(frames), frames.length, false, new Uint8Array(136 * frames.length))
}

const framesOf = (s: Store) => s.readFiltered({ fromSequence: 0, limit: 100 }).map((e) => Buffer.from(frameOf(e)))

describe('appendFrames (read replicas)', () => {
  it('copies single events and batches byte for byte, ids and times included', () => {
    const src = Store.open({ dataDir: tempDir('src') })
    src.append(new Coordinate('x', 's'), K, { a: 1 }, { idempotencyKey: 'k1', tags: ['t:1'], occurredAt: 5 })
    src.appendBatch([
      { coord: new Coordinate('x', 's'), kind: K, payload: { b: 2 } },
      { coord: new Coordinate('y', 's'), kind: K, payload: { c: 3 }, causation: { priorItem: 0 } },
    ])
    const dst = Store.open({ dataDir: tempDir('dst') })
    const f = framesOf(src)
    append(dst, [f[0]!])
    append(dst, [f[1]!, f[2]!])
    expect(framesOf(dst)).toEqual(f)
    // The idempotency digest came along: the key is known to the replica.
    const again = dst.append(new Coordinate('x', 's'), K, { a: 1 }, { idempotencyKey: 'k1' })
    expect(again.deduplicated).toBe(true)
    expect(again.eventId).toBe(src.readFiltered({ fromSequence: 0, limit: 1 })[0]!.eventId)
    src.close()
    dst.close()
  })

  it('a damaged frame, a frame out of place, a broken chain or a split batch is refused and writes nothing', () => {
    const src = Store.open({ dataDir: tempDir('src') })
    src.append(new Coordinate('x', 's'), K, { a: 1 })
    src.append(new Coordinate('x', 's'), K, { a: 2 })
    src.appendBatch([
      { coord: new Coordinate('z', 's'), kind: K, payload: 1 },
      { coord: new Coordinate('z', 's'), kind: K, payload: 2 },
    ])
    const f = framesOf(src)
    const dst = Store.open({ dataDir: tempDir('dst') })
    const damaged = Buffer.from(f[0]!)
    damaged[damaged.length - 1]! ^= 1
    expect(() => append(dst, [damaged])).toThrow(/does not check/)
    expect(() => append(dst, [f[1]!])).toThrow(/does not follow this log/)
    // Right place, wrong entity history: x's second event where the replica's x has none.
    dst.append(new Coordinate('y', 's'), K, { other: true })
    expect(() => append(dst, [f[1]!])).toThrow(/has clock 2/)
    expect(() => append(dst, [f[2]!])).toThrow(/does not follow this log/)
    expect(dst.nativeHandle().nextSequence()).toBe(1)
    const fresh = Store.open({ dataDir: tempDir('dst2') })
    append(fresh, [f[0]!])
    append(fresh, [f[1]!])
    expect(() => append(fresh, [f[2]!])).toThrow(/batch bounds/)
    expect(fresh.nativeHandle().nextSequence()).toBe(2)
    append(fresh, [f[2]!, f[3]!])
    expect(framesOf(fresh)).toEqual(f)
    for (const s of [src, dst, fresh]) s.close()
  })
})
