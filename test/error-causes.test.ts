// Distinct errors for distinct causes: a size limit (E_PAYLOAD_TOO_LARGE) is
// not an entity-clock overflow, a full name table or running out of memory.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ClockOverflowError, Coordinate, EventKind, isCausewayError, PayloadTooLargeError, Store } from '../src/index.js'
import { native } from '../src/native/index.js'
import { tempDir } from './helpers.js'

const K = EventKind.custom(1, 1)

/**
 * Writes "retired.heads" (what compaction leaves for entities whose newest
 * event it dropped; layout in native/retired.cc): "CWHEADv1", u32 masked
 * CRC32C of the rest, u64 count, then per entity u16 name length, the name,
 * u32 clock and the 32-byte content hash. Opening the store raises each
 * named entity's clock to the one given.
 */
function writeRetiredHead(dir: string, entity: string, clock: number): void {
  const name = Buffer.from(entity, 'utf8')
  const rest = Buffer.alloc(8 + 2 + name.length + 4 + 32)
  rest.writeBigUInt64LE(1n, 0)
  rest.writeUInt16LE(name.length, 8)
  name.copy(rest, 10)
  rest.writeUInt32LE(clock, 10 + name.length)
  const crc = native().crc32c(rest)
  const head = Buffer.alloc(12)
  head.write('CWHEADv1', 0, 'latin1')
  head.writeUInt32LE(((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0, 8)
  fs.writeFileSync(path.join(dir, 'retired.heads'), Buffer.concat([head, rest]))
}

describe('error causes', () => {
  it('refuses an append to an entity at the maximum clock with ClockOverflowError (E_CLOCK_OVERFLOW), writing nothing', () => {
    const dir = tempDir()
    let s = Store.open({ dataDir: dir })
    s.append(new Coordinate('other:1', 'bank'), K, { n: 1 })
    s.close()
    writeRetiredHead(dir, 'acct:1', 0xffffffff)
    s = Store.open({ dataDir: dir })
    try {
      const events = s.stats().events
      const full = new Coordinate('acct:1', 'bank')
      let caught: unknown
      try {
        s.append(full, K, { n: 2 })
      } catch (e) {
        caught = e
      }
      expect(caught).toBeInstanceOf(ClockOverflowError)
      expect(caught).not.toBeInstanceOf(PayloadTooLargeError)
      expect(isCausewayError(caught, 'E_CLOCK_OVERFLOW')).toBe(true)
      expect((caught as Error).message).toBe('entity clock overflow for acct:1')
      expect(() => s.appendBatch([{ coord: full, kind: K, payload: 1 }])).toThrow(ClockOverflowError)
      expect(s.stats().events).toBe(events)
      // Other entities are unaffected.
      s.append(new Coordinate('other:1', 'bank'), K, { n: 3 })
      expect(s.stats().events).toBe(events + 1)
    } finally {
      s.close()
    }
  })
})
