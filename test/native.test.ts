import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot } from './helpers.js'

// Builds and runs the C++ tests of the core (native/test/core_test.cc):
// frame codec, CRC, segment, scan, recovery, store. Build tree kept in
// build/native-tests so reruns are incremental.
describe('C++ core tests', () => {
  it('passes every core_test case', () => {
    const build = path.join(repoRoot, 'build/native-tests')
    fs.mkdirSync(build, { recursive: true })
    execFileSync('cmake', ['-S', repoRoot, '-B', build, '-DCAUSEWAY_NATIVE_TESTS=ON', '-DCMAKE_BUILD_TYPE=Release'], {
      stdio: 'pipe',
    })
    execFileSync('cmake', ['--build', build, '--target', 'core_test', '-j', '2'], { stdio: 'pipe' })
    let out = ''
    try {
      out = execFileSync(path.join(build, 'core_test'), { encoding: 'utf8', stdio: 'pipe' })
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string }
      throw new Error(`core_test failed:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`)
    }
    expect(out).toMatch(/pass/i)
  })
})
