// win32-x64: the addon cross-compiled with MinGW-w64 and run by a Windows
// Node under Wine. The engine (test/windows/engine.cjs) runs with another
// process holding the store's files wherever Windows' rules on open and
// mapped files bite: sealing, compaction, snapshot, locking, a killed writer.
// Several processes share a store over the writer link's named pipe
// (test/windows/processes.cjs): a client, a killed writer, failover.
// Wine keeps the older rules (no POSIX-semantics rename or delete), the
// strictest the engine meets on Windows. The worker_threads scenario
// (test/workers/driver.cjs) runs there too. The release workflow builds the
// shipped win32-x64 binary with MSVC on Windows and runs npm test there.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { win32Node, win32Unavailable, wineRun } from './cross.js'

const repoRoot = path.join(__dirname, '..')
const entry = path.join(repoRoot, 'dist/cjs/index.js')
const noWin32 = win32Unavailable()

describe.skipIf(noWin32 !== null)(`win32-x64 (MinGW-w64 build, a Windows Node under Wine)${noWin32 ? `: skipped, ${noWin32}` : ''}`, () => {
  let node: string
  let work: string
  let env: NodeJS.ProcessEnv

  beforeAll(() => {
    node = win32Node()
    // The package's own cross build (prepack's step, which the package test also runs:
    // build-win32/ is shared, and prebuild.mjs lets one at a time build it).
    const built = spawnSync(process.execPath, ['scripts/prebuild.mjs', '--cross', 'win32-x64'], { cwd: repoRoot, encoding: 'utf8' })
    expect(built.status, `${built.stdout}\n${built.stderr}`).toBe(0)
    const bin = path.join(repoRoot, 'prebuilds/win32-x64/causeway.napi.node')
    expect(fs.readFileSync(bin).subarray(0, 2).toString()).toBe('MZ') // a PE image, not a host binary
    // Where the loader looks when CAUSEWAY_PREBUILD names a directory.
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-win32-'))
    const pkg = path.join(work, 'pkg')
    fs.mkdirSync(path.join(pkg, 'prebuilds/win32-x64'), { recursive: true })
    fs.copyFileSync(bin, path.join(pkg, 'prebuilds/win32-x64/causeway.napi.node'))
    env = { CAUSEWAY_PREBUILD: pkg, PREBUILDS_ONLY: '1' }
  }, 600_000)

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true })
  })

  it('keeps every event through sealing, compaction, snapshot and a kill, with another process holding the files', () => {
    const r = wineRun([node, 'test/windows/engine.cjs', entry, path.join(work, 'stores')], { cwd: repoRoot, env })
    expect(r.status, `engine.cjs under Wine failed:\n${r.stdout}\n${r.stderr}`).toBe(0)
    const found = JSON.parse(r.stdout.trim().split('\n').pop()!)
    console.log(`win32-x64 under Wine: ${JSON.stringify(found)}`)
    expect(found.sealedKeptTail).toBeGreaterThan(0)
    expect(found.crashRecovered).toBeGreaterThanOrEqual(found.crashAcked)
  }, 300_000)

  it('a second process is the writer\'s client over the named pipe, takes the role when the writer is killed, and no acknowledged key is lost or doubled', () => {
    const r = wineRun([node, 'test/windows/processes.cjs', entry, path.join(work, 'processes')], { cwd: repoRoot, env, timeout: 240_000 })
    expect(r.status, `processes.cjs under Wine failed:\n${r.stdout}\n${r.stderr}`).toBe(0)
    const found = JSON.parse(r.stdout.trim().split('\n').pop()!) as { clientAppends: number; failoverMs: number; acknowledged: number; events: number }
    console.log(`win32-x64 under Wine, several processes: ${JSON.stringify(found)}`)
    expect(found.clientAppends).toBe(104)
    expect(found.acknowledged).toBeLessThanOrEqual(found.events) // the killed writer may have applied one it never acknowledged
    expect(found.failoverMs).toBeLessThan(10_000)
  }, 300_000)

  it('4 workers load the addon at once, are terminated mid-work, and the process and their locks survive', () => {
    const base = path.join(work, 'workers')
    fs.mkdirSync(base)
    const r = wineRun([node, 'test/workers/driver.cjs', entry, base, '3'], { cwd: repoRoot, env })
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' })
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as { rounds: { reported: number[]; counts: number[] }[]; mainAppends: number; mainEvents: number }
    expect(res.rounds).toHaveLength(3)
    for (const round of res.rounds.slice(1)) {
      for (let i = 0; i < 4; i++) {
        expect(round.reported[i]).toBeGreaterThanOrEqual(300)
        expect(round.counts[i]).toBeGreaterThanOrEqual(round.reported[i]!)
      }
    }
    expect(res.mainEvents).toBe(res.mainAppends)
  }, 300_000)
})
