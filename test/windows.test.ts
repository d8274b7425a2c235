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
import { win32Node, win32Unavailable, wineRun } from './cross.js'

const repoRoot = path.join(__dirname, '..')
const noWin32 = win32Unavailable()

describe.skipIf(noWin32 !== null)(`the engine on win32-x64 (MinGW-w64 build, Wine)${noWin32 ? `: skipped, ${noWin32}` : ''}`, () => {
  it('cross-builds, loads, and keeps every event through sealing, compaction, snapshot and a kill with another process holding the files', () => {
    const node = win32Node()
    // Its own build directory: the package test cross-builds build-win32/ for prebuilds/ meanwhile.
    const build = path.join(repoRoot, 'build/native-tests-win32')
    const cmakeJs = path.join(repoRoot, 'node_modules/cmake-js/bin/cmake-js')
    const toolchain = path.join(repoRoot, 'scripts/x86_64-w64-mingw32.cmake')
    const built = spawnSync(process.execPath, [cmakeJs, 'compile', '--log-level', 'warn', '--out', build, '--arch', 'x64', `--CDCMAKE_TOOLCHAIN_FILE=${toolchain}`], {
      cwd: repoRoot,
      encoding: 'utf8',
    })
    expect(built.status, `${built.stdout}\n${built.stderr}`).toBe(0)
    const bin = path.join(build, 'causeway.node')
    expect(fs.readFileSync(bin).subarray(0, 2).toString()).toBe('MZ') // a PE image, not a host binary

    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-win32-'))
    try {
      // Where the loader looks when CAUSEWAY_PREBUILD names a directory.
      const pkg = path.join(work, 'pkg')
      fs.mkdirSync(path.join(pkg, 'prebuilds/win32-x64'), { recursive: true })
      fs.copyFileSync(bin, path.join(pkg, 'prebuilds/win32-x64/causeway.napi.node'))
      const r = wineRun([node, 'test/windows/engine.cjs', path.join(repoRoot, 'dist/cjs/index.js'), path.join(work, 'stores')], {
        cwd: repoRoot,
        env: { CAUSEWAY_PREBUILD: pkg, PREBUILDS_ONLY: '1' },
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
