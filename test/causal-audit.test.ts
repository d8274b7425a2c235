import * as fs from 'node:fs'
import { describe, expect, it, vi } from 'vitest'
import { walkChain, type ChainEvent } from '../src/causal/ancestors.js'
import { ChainVerifier } from '../src/causal/verify.js'
import { native } from '../src/native/loader.js'
import { Coordinate, CorruptionError, EventKind, InvalidArgumentError, NotFoundError, Store, type StoredEvent } from '../src/index.js'
import { segmentFiles, tempDir } from './helpers.js'

const Noted = EventKind.custom(1, 1)
const blake3Hex = (b: Uint8Array) => native().blake3(b).toString('hex')

/** A plain copy of an event's chain fields, to tamper with in unit tests. */
function plain(e: StoredEvent): ChainEvent {
  return { eventId: e.eventId, globalSequence: e.globalSequence, clock: e.clock, contentHash: e.contentHash, prevHash: e.prevHash, payloadBytes: e.payloadBytes.slice() }
}

/** A store with entity "acct:1" holding `n` events, interleaved with events of "acct:2". */
function chainStore(n: number, dir = tempDir()): { store: Store; ids: string[] } {
  const store = Store.open({ dataDir: dir })
  const a = new Coordinate('acct:1', 'bank')
  const b = new Coordinate('acct:2', 'bank')
  const ids: string[] = []
  for (let i = 1; i <= n; i++) {
    ids.push(store.append(a, Noted, { n: i, note: `entry-${i}` }).eventId)
    store.append(b, Noted, { n: -i })
  }
  return { store, ids }
}

/** Rewrites the frame of event `sequence` on disk: `edit` changes its payload, then the frame CRC is fixed up. */
function tamperPayloadOnDisk(dir: string, sequence: bigint, edit: (payload: Buffer) => void): void {
  for (const file of segmentFiles(dir)) {
    const buf = fs.readFileSync(file)
    for (let off = 128; off + 8 <= buf.length; ) {
      const len = buf.readUInt32LE(off)
      if (len === 0) break
      const frameCrc = (f: Buffer) => {
        const crc = native().crc32c(Buffer.concat([f.subarray(0, 4), f.subarray(8)]))
        return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0
      }
      const frame = buf.subarray(off, off + len)
      expect(frameCrc(frame)).toBe(frame.readUInt32LE(4)) // the CRC recipe matches the writer's
      if (frame.readBigUInt64LE(24) === sequence) {
        const start = 168 + frame.readUInt16LE(12) + frame.readUInt16LE(14)
        edit(frame.subarray(start, start + frame.readUInt32LE(16)))
        frame.writeUInt32LE(frameCrc(frame), 4)
        fs.writeFileSync(file, buf)
        return
      }
      off += (len + 7) & ~7
    }
  }
  throw new Error(`no frame with sequence ${sequence}`)
}

describe('walkAncestors', () => {
  it('walks only the entity chain, newest first, back to genesis', () => {
    const { store, ids } = chainStore(4)
    const out = store.walkAncestorsOutcome(ids[3]!)
    expect(out.stopped).toBe('genesis')
    expect(out.events.map((e) => e.eventId)).toEqual([...ids].reverse())
    expect(out.events.map((e) => e.clock)).toEqual([4, 3, 2, 1])
    expect(store.walkAncestors(ids[2]!).map((e) => e.eventId)).toEqual([ids[2], ids[1], ids[0]])
    store.close()
  })

  it('stops at the limit and reports it, but reports genesis when the limit lands on it', () => {
    const { store, ids } = chainStore(5)
    const out = store.walkAncestorsOutcome(ids[4]!, 2)
    expect(out.stopped).toBe('limit')
    expect(out.events.map((e) => e.clock)).toEqual([5, 4])
    expect(store.walkAncestorsOutcome(ids[4]!, 5).stopped).toBe('genesis')
    expect(store.walkAncestorsOutcome(ids[0]!, 1).stopped).toBe('genesis')
    store.close()
  })

  it('reads the chain in one native query, not one per event', () => {
    const { store, ids } = chainStore(50)
    const spy = vi.spyOn(store, 'readFiltered')
    expect(store.walkAncestors(ids[49]!, 40)).toHaveLength(40)
    expect(spy).toHaveBeenCalledTimes(1)
    expect(spy.mock.calls[0]![0]).toMatchObject({ entity: 'acct:1', exactEntity: true, clockFrom: 10, clockTo: 50 })
    store.close()
  })

  it('reports a missing parent when the predecessor is not in the store', () => {
    const { store } = chainStore(4)
    const chain = store.stream('acct:1')
    const window = chain.filter((e) => e.clock !== 2) // as after retention dropped clock 2
    const out = walkChain(window, Number.POSITIVE_INFINITY, blake3Hex)
    expect(out.stopped).toBe('missing-parent')
    expect(out.events.map((e) => e.clock)).toEqual([4, 3])
    expect(out.stopped === 'missing-parent' && out.missingParentHash).toBe(chain[1]!.contentHash)
    expect(walkChain(window.slice(1), 1, blake3Hex).stopped).toBe('limit')
    store.close()
  })

  it('throws CorruptionError naming the event whose payload no longer hashes to its content hash', () => {
    const { store } = chainStore(3)
    const chain = store.stream('acct:1').map(plain)
    const bytes = chain[1]!.payloadBytes
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1
    const err = (() => {
      try {
        walkChain(chain, Number.POSITIVE_INFINITY, blake3Hex)
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(CorruptionError)
    expect(err).toMatchObject({ code: 'E_CORRUPTION', eventId: chain[1]!.eventId, globalSequence: chain[1]!.globalSequence })
    expect(String((err as Error).message)).toContain(chain[1]!.eventId)
    store.close()
  })

  it('throws CorruptionError naming the event whose prevHash is not its predecessor\'s hash', () => {
    const { store } = chainStore(3)
    const chain = store.stream('acct:1').map(plain)
    chain[2] = { ...chain[2]!, prevHash: 'ab'.repeat(32) }
    expect(() => walkChain(chain, Number.POSITIVE_INFINITY, blake3Hex)).toThrow(new RegExp(`${chain[2].eventId}.*not linked`))
    store.close()
  })

  it('refuses an unknown id with NotFoundError and a bad limit with InvalidArgumentError', () => {
    const { store, ids } = chainStore(1)
    expect(() => store.walkAncestors('01890000-0000-7000-8000-000000000000')).toThrow(NotFoundError)
    for (const bad of [0, -1, 1.5, Number.NaN, '3']) expect(() => store.walkAncestors(ids[0]!, bad as number)).toThrow(InvalidArgumentError)
    store.close()
  })
})

describe('verifyChain', () => {
  it('finds nothing wrong in an untouched store, across several read pages', () => {
    const { store } = chainStore(2500) // 5000 events: more than one 4096-event page
    const r = store.verifyChain()
    expect(r).toEqual({ eventsChecked: 5000, contentMismatches: [], brokenLinks: [], missingParents: [], tombstones: 0 })
    store.close()
  })

  it('reports a payload byte changed on disk as a content mismatch and its successor as a broken link', () => {
    const dir = tempDir()
    const { store, ids } = chainStore(4, dir)
    const victim = store.get(ids[1]!)!
    const [seq, successor] = [victim.globalSequence, store.get(ids[2]!)!]
    store.close()
    tamperPayloadOnDisk(dir, seq, (p) => {
      const at = p.indexOf('entry-2')
      expect(at).toBeGreaterThan(0)
      p[at + 6] = '9'.charCodeAt(0) // "entry-2" -> "entry-9": still valid msgpack
    })
    const reopened = Store.open({ dataDir: dir })
    expect((reopened.get(ids[1]!)!.payload as { note: string }).note).toBe('entry-9') // the frame CRC checks
    const r = reopened.verifyChain()
    expect(r.eventsChecked).toBe(8)
    expect(r.contentMismatches).toEqual([{ eventId: ids[1], globalSequence: seq }])
    expect(r.brokenLinks).toEqual([
      { eventId: ids[2], globalSequence: successor.globalSequence, prevHash: victim.contentHash, parentHash: expect.not.stringMatching(victim.contentHash) },
    ])
    expect(r.missingParents).toEqual([])
    expect(() => reopened.walkAncestors(ids[3]!)).toThrow(new RegExp(ids[1]!))
    expect(reopened.walkAncestors(ids[3]!, 2)).toHaveLength(2) // the part above the damage still checks
    reopened.close()
  })

  it('lists an event whose predecessor is absent as a missing parent, not a broken link', () => {
    const { store } = chainStore(3)
    const v = new ChainVerifier(blake3Hex)
    const chain = store.stream('acct:1')
    for (const e of chain.filter((e) => e.clock !== 1)) v.check('acct:1', e)
    expect(v.report.missingParents).toEqual([{ eventId: chain[1]!.eventId, globalSequence: chain[1]!.globalSequence, prevHash: chain[0]!.contentHash }])
    expect(v.report.brokenLinks).toEqual([])
    store.close()
  })
})
