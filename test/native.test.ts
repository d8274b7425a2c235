import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { arm64Unavailable, portsOnly, qemuArm64 } from './cross.js'
import { repoRoot } from './helpers.js'

// Builds and runs the C++ tests of the core (native/test/*_test.cc, with
// fixture.cc and the runner, runner.cc): frame codec, CRC, segment, scan,
// recovery, store, concurrency, rings. Built in the addon's own
// build tree (build/, and build-arm64/ below) by the package's build script,
// so the core objects are compiled once for both and reruns are incremental.
// POSIX only: each case runs in a forked child, and the fault cases plant
// damage with mmap and ftruncate. On Windows the engine is tested through the
// addon (test/windows.test.ts runs it under Wine on the Linux machines).
describe.skipIf(process.platform === 'win32' || portsOnly)('C++ core tests', () => {
  it('passes every core_test case', () => {
    const build = path.join(repoRoot, 'build')
    execFileSync(process.execPath, ['scripts/prebuild.mjs', '--core-tests'], { cwd: repoRoot, stdio: 'pipe' })
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

/** Builds core_test with a sanitizer's flags in its own directory; returns that directory. */
function buildSanitizedCoreTests(dir: string, flags: string): string {
  const build = path.join(repoRoot, dir)
  fs.mkdirSync(build, { recursive: true })
  execFileSync(
    'cmake',
    ['-S', repoRoot, '-B', build, '-DCAUSEWAY_NATIVE_TESTS=ON', '-DCMAKE_BUILD_TYPE=RelWithDebInfo',
      `-DCMAKE_CXX_FLAGS=${flags}`, `-DCMAKE_C_FLAGS=${flags}`, `-DCMAKE_EXE_LINKER_FLAGS=${flags}`],
    { stdio: 'pipe' },
  )
  execFileSync('cmake', ['--build', build, '--target', 'core_test', '-j', '2'], { stdio: 'pipe' })
  return build
}

// The concurrency tests again, built with ThreadSanitizer: appends take no
// lock while readers use the index, so any access the memory orders do not
// cover is reported (and fails the run), not left to chance. It builds the
// core a second time (about 3 minutes on 2 cores), so it runs in
// `npm run test:full` (CAUSEWAY_PORTS set), not in `npm test`.
describe.skipIf(!process.env['CAUSEWAY_PORTS'])('C++ core tests under ThreadSanitizer', () => {
  it('reports no data race between the lock-free writer, readers, the flusher and the rings', () => {
    const build = buildSanitizedCoreTests('build/native-tests-tsan', '-fsanitize=thread')
    const suppressions = path.join(repoRoot, 'native/test/tsan.supp')
    let out = ''
    try {
      out = execFileSync(
        path.join(build, 'core_test'),
        ['--no-fork', 'ReadersSeePartialBatches', 'ConcurrentAppends', 'AppendRing', 'BroadcastRing'],
        {
          encoding: 'utf8',
          stdio: 'pipe',
          env: { ...process.env, TSAN_OPTIONS: `suppressions=${suppressions} halt_on_error=1 exitcode=66` },
        },
      )
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string }
      throw new Error(`core_test under ThreadSanitizer failed:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`)
    }
    expect(out).toMatch(/(\d+) tests, \1 passed, 0 failed/)
    expect(out).toContain('ReadersSeePartialBatchesOrTornIndexWhileAppending')
  }, 600_000)  // a second build of the core: about 3 minutes alone, longer beside the ports in test:full
})

// Every core test again, built with AddressSanitizer and UBSan (leaks
// included): the index retires segments, tables and column chunks while
// appends go on, and a writer that reaches into one after it was freed
// (AppendRightAfterASmallSegmentSealsTouchesNoRetiredList) would pass
// unseen in a plain build. A third build of the core (about 5 minutes on
// 2 cores): test:full only.
describe.skipIf(!process.env['CAUSEWAY_PORTS'])('C++ core tests under AddressSanitizer', () => {
  it('reports no use after free, overflow, leak or undefined behaviour in any core_test case', () => {
    const build = buildSanitizedCoreTests(
      'build/native-tests-asan',
      '-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined',
    )
    let out = ''
    try {
      out = execFileSync(path.join(build, 'core_test'), {
        encoding: 'utf8',
        stdio: 'pipe',
        env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1', UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1' },
      })
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string }
      throw new Error(`core_test under AddressSanitizer failed:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`)
    }
    expect(out).toMatch(/(\d+) tests, \1 passed, 0 failed/)
    expect(out).toContain('AppendRightAfterASmallSegmentSealsTouchesNoRetiredList')
  }, 900_000)
})

// The same tests cross-compiled for linux-arm64 and run under qemu: the ARMv8
// CRC32C path, BLAKE3's NEON code and the engine on a weakly ordered CPU
// model (qemu runs the atomics as arm64 instructions, on x64 cores).
const noArm64 = arm64Unavailable()
describe.skipIf(noArm64 !== null)(`C++ core tests on linux-arm64 (qemu)${noArm64 ? `: skipped, ${noArm64}` : ''}`, () => {
  it('passes every core_test case and dispatches CRC32C to the ARMv8 instructions', () => {
    // The package's arm64 cross build (prepack's step; the package test runs it too).
    const build = path.join(repoRoot, 'build-arm64')
    execFileSync(process.execPath, ['scripts/prebuild.mjs', '--cross', 'linux-arm64', '--core-tests'], { cwd: repoRoot, stdio: 'pipe' })
    // An ELF for the arm64 machine (e_machine 183, EM_AARCH64), not a host binary.
    expect(fs.readFileSync(path.join(build, 'core_test')).readUInt16LE(18)).toBe(183)
    let out = ''
    try {
      const qemu = qemuArm64()
      out = execFileSync(qemu[0]!, [...qemu.slice(1), path.join(build, 'core_test')], { encoding: 'utf8', stdio: 'pipe' })
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string }
      throw new Error(`core_test (arm64) failed:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`)
    }
    expect(out).toMatch(/(\d+) tests, \1 passed, 0 failed/)
    expect(out).toMatch(/crc32c implementation: armv8-crc/)
  }, 300_000)
})

