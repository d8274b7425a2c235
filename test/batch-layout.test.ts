import { afterEach, describe, expect, it, vi } from 'vitest'
import { Coordinate, EventKind, Region, Store } from '../src/index.js'
import { tempDir } from './helpers.js'

// appendBatch encodes each payload straight into one reused buffer that goes
// to the addon as is; keys follow the payloads, and a batch that outgrows the
// buffer is laid out again in a bigger one.
const Noted = EventKind.custom(1, 1)

function payload(i: number, size: number): { i: number; text: string } {
  return { i, text: String.fromCharCode(97 + (i % 26)).repeat(size) }
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('batch layout', () => {
  it('loses or mixes up no payload or key when a batch outgrows the batch buffer', () => {
    const s = Store.open({ dataDir: tempDir() })
    const c = new Coordinate('doc:1', 'docs')
    // About 1 MB: far past the first 64 KiB buffer, so the layout restarts.
    const items = Array.from({ length: 1000 }, (_, i) => ({ coord: c, kind: Noted, payload: payload(i, 1000), idempotencyKey: `k-${i}` }))
    const first = s.appendBatch(items)
    const read = s.query(Region.entity('doc:1'))
    expect(read.map((e) => e.payload)).toEqual(items.map((it) => it.payload))
    // The keys made it too: the same batch again is answered from them.
    const again = s.appendBatch(items)
    expect(again.every((r) => r.deduplicated)).toBe(true)
    expect(again.map((r) => r.eventId)).toEqual(first.map((r) => r.eventId))
    expect(s.query(Region.all()).length).toBe(1000)
    s.close()
  })

  it('overwrites no earlier event when batches and single appends alternate', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir })
    const c = new Coordinate('doc:2', 'docs')
    const want: unknown[] = []
    for (let round = 0; round < 50; round++) {
      const items = Array.from({ length: 20 }, (_, i) => ({ coord: c, kind: Noted, payload: payload(round * 100 + i, 50 + round * 10) }))
      s.appendBatch(items)
      want.push(...items.map((it) => it.payload))
      const single = payload(round * 100 + 99, 300)
      s.append(c, Noted, single)
      want.push(single)
    }
    s.close()
    const r = Store.open({ dataDir: dir })
    expect(r.query(Region.entity('doc:2')).map((e) => e.payload)).toEqual(want)
    r.close()
  })

  it('copies no payload in JavaScript after encoding it', () => {
    const s = Store.open({ dataDir: tempDir() })
    const c = new Coordinate('doc:3', 'docs')
    const items = Array.from({ length: 100 }, (_, i) => ({ coord: c, kind: Noted, payload: payload(i, 140) }))
    s.appendBatch(items) // warm: the buffer exists
    const copies: number[] = []
    const set = Uint8Array.prototype.set
    vi.spyOn(Uint8Array.prototype, 'set').mockImplementation(function (this: Uint8Array, src: ArrayLike<number>, offset?: number) {
      copies.push(src.length)
      return set.call(this, src, offset)
    })
    s.appendBatch(items)
    vi.restoreAllMocks()
    // Each payload encodes to more than 140 bytes; nothing that long was copied.
    expect(copies.filter((n) => n >= 140)).toEqual([])
    expect(s.query(Region.entity('doc:3')).length).toBe(200)
    s.close()
  })
  it("lets later appends overwrite a batch's receipts in the shared receipt arena", () => {
    const s = Store.open({ dataDir: tempDir() })
    const c = new Coordinate('doc:1', 'docs')
    const batch = (n: number) => s.appendBatch(Array.from({ length: n }, (_, i) => ({ coord: c, kind: Noted, payload: payload(i, 8) })))
    // Receipts of small batches and of single appends share arenas of 2,048;
    // a batch over 512 gets a buffer of its own. Cross several arenas.
    const kept: Array<{ seq: bigint; id: string; r: { globalSequence: bigint; eventId: string } }> = []
    const keep = (r: { globalSequence: bigint; eventId: string }) => kept.push({ seq: r.globalSequence, id: r.eventId, r })
    for (let round = 0; round < 12; round++) {
      batch(3).forEach(keep)
      for (let i = 0; i < 300; i++) keep(s.append(c, Noted, payload(i, 8)))
      batch(round === 5 ? 600 : 100).forEach(keep)
    }
    expect(kept.length).toBe(12 * 403 + 500)
    kept.forEach((k, i) => {
      expect(k.r.globalSequence).toBe(k.seq)
      expect(k.r.eventId).toBe(k.id)
      expect(k.seq).toBe(BigInt(i))
    })
    s.close()
  })
})
