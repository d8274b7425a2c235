import * as path from 'node:path'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { Region, Store } from '../src/index.js'
import { tempDir } from './helpers.js'

const WORKERS = 4
const PER_WORKER = Number(process.env.CAUSEWAY_MP_COUNT ?? 100_000)

describe('multiple producers in one process', () => {
  it(`keeps ${WORKERS} workers x ${PER_WORKER} appends gapless, once each, with every chain intact`, async () => {
    const dir = tempDir('mp')
    const workers = Array.from(
      { length: WORKERS },
      (_, w) => new Worker(path.join(__dirname, 'fixtures/producer.cjs'), { workerData: { dir, w, count: PER_WORKER } }),
    )
    await Promise.all(workers.map((wk) => new Promise((r) => wk.once('message', r))))
    const results = workers.map((wk) => new Promise<{ clock: number; dedup: number }>((r) => wk.once('message', r)))
    for (const wk of workers) wk.postMessage('go')
    const done = await Promise.all(results)
    await Promise.all(workers.map((wk) => wk.terminate()))

    const s = Store.open({ dataDir: dir })
    const events = s.query(Region.all())
    expect(events.length).toBe(WORKERS * PER_WORKER)
    // Gapless global sequence.
    events.forEach((e, i) => expect(e.globalSequence).toBe(BigInt(i)))
    // Every (worker, i) present exactly once.
    const seen = new Set<string>()
    for (const e of events) {
      const p = e.payload as { w: number; i: number }
      const key = `${p.w}:${p.i}`
      expect(seen.has(key), key).toBe(false)
      seen.add(key)
    }
    expect(seen.size).toBe(WORKERS * PER_WORKER)
    // Per entity: clocks 1..n in global order, each prevHash the previous contentHash.
    const heads = new Map<string, { clock: number; hash: string }>()
    for (const e of events) {
      const h = heads.get(e.coordinate.entity) ?? { clock: 0, hash: '0'.repeat(64) }
      expect(e.clock).toBe(h.clock + 1)
      expect(e.prevHash).toBe(h.hash)
      heads.set(e.coordinate.entity, { clock: e.clock, hash: e.contentHash })
    }
    // Each worker's private entity grew by exactly its CAS-checked appends; retries wrote nothing.
    for (let w = 0; w < WORKERS; w++) {
      expect(heads.get(`w${w}`)?.clock).toBe(done[w]!.clock)
      expect(done[w]!.dedup).toBeGreaterThan(0)
    }
    expect(s.verifyChain()).toMatchObject({ contentMismatches: [], brokenLinks: [], missingParents: [] })
    s.close()
  })
})
