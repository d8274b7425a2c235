import { blake3 } from 'hash-wasm'
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, Region, Store } from '../src/index.js'
import { native } from '../src/native/loader.js'
import { tempDir } from './helpers.js'

const K = EventKind.custom(3, 9)

describe('hashes and checksums', () => {
  it('computes BLAKE3 exactly as an independent implementation (hash-wasm) does', async () => {
    for (const n of [0, 1, 63, 64, 65, 1023, 1024, 1025, 4096, 100_000]) {
      const b = randomBytes(n)
      expect(native().blake3(b).toString('hex')).toBe(await blake3(b))
    }
  })

  it('stores contentHash = BLAKE3 of exactly the stored payload bytes', async () => {
    const s = Store.open({ dataDir: tempDir() })
    const payloads = [null, 0, 'x', { a: [1, 2, { b: 'c' }] }, 'y'.repeat(70_000), { bin: randomBytes(300) }]
    for (const p of payloads) s.append(new Coordinate('h', 's'), K, p)
    const events = s.query(Region.all())
    let prev = '0'.repeat(64)
    for (const e of events) {
      expect(e.contentHash).toBe(await blake3(e.payloadBytes))
      expect(e.prevHash).toBe(prev)
      prev = e.contentHash
    }
    s.close()
  })

  it('uses a hardware CRC32C that agrees with the portable table code', () => {
    const b = native()
    if (process.arch === 'x64') expect(b.crc32cImplementation).toBe('sse4.2')
    expect(b.crc32c(Buffer.from('123456789'))).toBe(0xe3069283)
    for (let n = 0; n < 200; n++) {
      const buf = randomBytes(n + 3).subarray(n % 3)
      expect(b.crc32c(buf)).toBe(b.crc32c(buf, true))
    }
  })
})
