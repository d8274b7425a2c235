// worker_threads safety: the addon is loaded by 4 workers at once, each opens
// its own store and appends in a loop, and the workers are terminated in the
// middle of that work. The process must survive, the main thread's own store
// must be untouched by the workers' teardown (per-environment addon data),
// and every terminated worker's directory must open again in the main thread
// at once, here and in another process (the environment cleanup closed its
// store and released its lock).
//
// The scenario runs in a child process so that a crash shows up as a signal
// and an exit code here, not as a lost test runner.
import { spawnSync } from 'node:child_process'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot, tempDir } from './helpers.js'

const entry = path.join(repoRoot, 'dist/cjs/index.js')

// The scenario: test/workers/driver.cjs, with test/workers/worker.cjs.
const driver = path.join(repoRoot, 'test/workers/driver.cjs')

describe('worker_threads', () => {
  it('4 workers load the addon at once, are terminated mid-work, and the process and their locks survive', () => {
    const base = tempDir('workers')
    const r = spawnSync(process.execPath, [driver, entry, base, '4'], { encoding: 'utf8', timeout: 60_000 })
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' })
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      rounds: { round: number; reported: number[]; counts: number[] }[]
      mainAppends: number
      mainEvents: number
    }
    expect(res.rounds).toHaveLength(4)
    for (const round of res.rounds.slice(1)) {
      for (let i = 0; i < 4; i++) {
        expect(round.reported[i]).toBeGreaterThanOrEqual(300)
        expect(round.counts[i]).toBeGreaterThanOrEqual(round.reported[i]!)
      }
    }
    expect(res.mainEvents).toBe(res.mainAppends)
  })

  it('a wrapped store refuses a foreign receiver with a TypeError, never a crash', () => {
    const script = `
      const { native } = require(${JSON.stringify(path.join(repoRoot, 'dist/cjs/native/index.js'))})
      const p = native().NativeStore.prototype
      const out = []
      for (const m of ['stats', 'append', 'sync', 'close', 'query']) {
        for (const recv of [{}, Object.create(p), new Uint8Array(8)]) {
          try { p[m].call(recv, new Uint8Array(8), false); out.push(m + ':returned') } catch (e) { out.push(m + ':' + e.constructor.name) }
        }
      }
      console.log(JSON.stringify(out))
    `
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 })
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' })
    const out = JSON.parse(r.stdout.trim()) as string[]
    expect(out).toHaveLength(15)
    for (const o of out) expect(o).toMatch(/:TypeError$/)
  })
})
