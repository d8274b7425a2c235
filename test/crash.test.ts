import { spawn } from 'node:child_process'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Region, Store } from '../src/index.js'
import { tempDir } from './helpers.js'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { payload } = require('./fixtures/payload.cjs') as { payload: (seq: number, seed: number) => unknown }
const WRITER = path.join(__dirname, 'fixtures/crash-writer.cjs')
const CYCLES = Number(process.env.CAUSEWAY_CRASH_CYCLES ?? 40)

interface Cycle {
  start: number
  seed: number
  maxAck: number
}

/** Runs the writer until `killAfterMs` past its open, then SIGKILLs it. */
function runAndKill(dir: string, seed: number, killAfterMs: number): Promise<Cycle> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, dir, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] })
    const cycle: Cycle = { start: -1, seed, maxAck: 0 }
    let buf = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString()
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const [word, n] = buf.slice(0, nl).split(' ')
        buf = buf.slice(nl + 1)
        if (word === 'open') {
          cycle.start = Number(n)
          setTimeout(() => child.kill('SIGKILL'), killAfterMs)
        } else if (word === 'ack') cycle.maxAck = Math.max(cycle.maxAck, Number(n))
      }
    })
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited with ${code}/${signal}: ${err}`))
      else if (cycle.start < 0) reject(new Error(`writer never opened: ${err}`))
      else resolve(cycle)
    })
  })
}

describe('process crash (SIGKILL)', () => {
  it(`loses no acknowledged event and leaves no gap over ${CYCLES} kill cycles`, async () => {
    const dir = tempDir('crash')
    const cycles: Cycle[] = []
    let acked = 0
    let rng = 12345
    const rand = (n: number) => (rng = (rng * 1103515245 + 12345) >>> 0) % n
    let totalEvents = 0
    for (let c = 0; c < CYCLES; c++) {
      const cycle = await runAndKill(dir, c + 1, 20 + rand(150))
      cycles.push(cycle)
      acked = Math.max(acked, cycle.maxAck)
      const s = Store.open({ dataDir: dir, segmentMaxBytes: 64 * 1024 })
      try {
        const events = s.query(Region.all())
        // No acknowledged event lost, no gap: sequences are exactly 0..k-1 with k >= every ack.
        expect(events.length, `cycle ${c}`).toBeGreaterThanOrEqual(acked)
        events.forEach((e, i) => expect(e.globalSequence).toBe(BigInt(i)))
        // Every present event, acknowledged or not, holds exactly its bytes.
        const from = Math.max(0, cycles[Math.max(0, cycles.length - 2)]!.start)
        for (let i = from; i < events.length; i++) {
          const writer = [...cycles].reverse().find((cy) => cy.start <= i)!
          expect(events[i]!.payload, `seq ${i}`).toEqual(payload(i, writer.seed))
        }
        // Every entity's chain is intact.
        const head = new Map<string, string>()
        for (const e of events) {
          const ent = e.coordinate.entity
          expect(e.prevHash).toBe(head.get(ent) ?? '0'.repeat(64))
          head.set(ent, e.contentHash)
        }
        totalEvents = events.length
      } finally {
        s.close()
      }
    }
    expect(totalEvents).toBeGreaterThan(CYCLES)
    console.log(`crash loop: ${CYCLES} SIGKILL cycles, ${totalEvents} events, ${acked} acknowledged, 0 lost`)
  })
})
