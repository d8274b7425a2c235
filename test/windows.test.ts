// win32-x64: the addon cross-compiled with MinGW-w64 and the engine run by a
// Windows Node under Wine (test/windows/engine.cjs), with another process
// holding the store's files wherever Windows' rules on open and mapped files
// bite: sealing, compaction, snapshot, locking, a killed writer. Wine keeps
// the older rules (no POSIX-semantics rename or delete), the strictest the
// engine meets on Windows. The release workflow builds the shipped win32-x64
// binary with MSVC on Windows and runs npm test there.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { win32Node, win32Unavailable, wineEnv, wineRun } from './cross.js'

const repoRoot = path.join(__dirname, '..')
const noWin32 = win32Unavailable()

describe.skipIf(noWin32 !== null)(`the engine on win32-x64 (MinGW-w64 build, Wine)${noWin32 ? `: skipped, ${noWin32}` : ''}`, () => {
  it('cross-builds, loads, and keeps every event through sealing, compaction, snapshot and a kill with another process holding the files', () => {
    const node = win32Node()
    const env = { ...wineEnv(), CAUSEWAY_WIN32_NODE: node, CAUSEWAY_WINEPREFIX: wineEnv().WINEPREFIX }
    // prebuild's own load check runs the binary in the Windows Node.
    const built = spawnSync(process.execPath, ['scripts/prebuild.mjs', '--cross', 'win32-x64'], { cwd: repoRoot, env, encoding: 'utf8' })
    expect(built.status, `${built.stdout}\n${built.stderr}`).toBe(0)
    expect(built.stdout).toMatch(/prebuilds\/win32-x64\/causeway\.napi\.node .*crc32c (sse4\.2|portable)/)
    const bin = path.join(repoRoot, 'prebuilds/win32-x64/causeway.napi.node')
    expect(fs.readFileSync(bin).subarray(0, 2).toString()).toBe('MZ') // a PE image, not a host binary

    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-win32-'))
    try {
      const r = wineRun([node, 'test/windows/engine.cjs', path.join(repoRoot, 'dist/cjs/index.js'), work], {
        cwd: repoRoot,
        env: { CAUSEWAY_PREBUILD: repoRoot, PREBUILDS_ONLY: '1' },
      })
      expect(r.status, `engine.cjs under Wine failed:\n${r.stdout}\n${r.stderr}`).toBe(0)
      const found = JSON.parse(r.stdout.trim().split('\n').pop()!)
      console.log(`win32-x64 under Wine: ${JSON.stringify(found)}`)
      expect(found.sealedKeptTail).toBeGreaterThan(0)
      expect(found.crashRecovered).toBeGreaterThanOrEqual(found.crashAcked)
    } finally {
      fs.rmSync(work, { recursive: true, force: true })
    }
  }, 600_000)
})
