// The ports this machine cannot run: the native sources that differ by
// system or architecture, compiled for darwin-x64 and darwin-arm64 (against
// the macOS SDK headers Zig ships) and linux-x64/arm64 musl, warnings as
// errors. It is what catches a macOS-only branch of native/platform_posix.cc
// that does not compile, or a clang that wants a target feature GCC does not
// (the SSE4.2 CRC32C code needs "crc32" with clang 17, as in Xcode 15). The
// other sources are plain C++20; they first meet libc++ in the release
// workflow, which builds and tests the real binaries on macOS runners and in
// Alpine containers.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { portsSkipped, zigCompiler } from './cross.js'
import { repoRoot } from './helpers.js'

const require = createRequire(path.join(repoRoot, 'package.json'))
const supported = process.platform === 'linux' && process.arch === 'x64' && portsSkipped() === null

/**
 * The sources with code that differs by operating system or architecture:
 * system headers and calls, CRC32C's instructions, the ring's spin hint
 * (ring.h, compiled on its own as a C++ translation unit); with BLAKE3's C
 * sources (and assembly) for the architecture.
 */
const SYSTEM_SOURCES = ['native/crc32c.cc', 'native/platform_posix.cc', 'native/cond_var.cc', 'native/glibc_floor.cc', 'native/ring.h']

function sources(arch: 'x86_64' | 'aarch64'): string[] {
  const blake3 = path.join(path.dirname(require.resolve('@c4312/blake3-native/package.json')), 'c')
  const b3 = ['blake3.c', 'blake3_dispatch.c', 'blake3_portable.c'].concat(
    arch === 'x86_64' ? ['sse2', 'sse41', 'avx2', 'avx512'].map((k) => `blake3_${k}_x86-64_unix.S`) : ['blake3_neon.c'],
  )
  // Each system source is one the build compiles (CMakeLists.txt names it, or it is a header).
  const cmake = fs.readFileSync(path.join(repoRoot, 'CMakeLists.txt'), 'utf8')
  for (const f of SYSTEM_SOURCES) expect(f.endsWith('.h') || cmake.includes(f), `${f} in CMakeLists.txt`).toBe(true)
  return SYSTEM_SOURCES.map((f) => path.join(repoRoot, f)).concat(b3.map((f) => path.join(blake3, f)))
}

function compile(zig: string, target: string, src: string, out: string): Promise<{ code: number | null; output: string }> {
  const blake3 = path.join(path.dirname(require.resolve('@c4312/blake3-native/package.json')), 'c')
  const cxx = src.endsWith('.cc') || src.endsWith('.h')
  const args = [
    cxx ? 'c++' : 'cc',
    '-target',
    target,
    '-c',
    ...(src.endsWith('.h') ? ['-x', 'c++', '-Wno-pragma-once-outside-header'] : []),
    src,
    '-o',
    out,
    // The checks are the front end's and the target features': no optimiser, no debug
    // information, and none of the UBSan checks Zig adds to unoptimised code by default.
    '-O0',
    '-g0',
    '-fno-sanitize=all',
    ...(cxx
      ? ['-std=c++20', '-Wall', '-Wextra', '-Wno-unused-parameter', '-Werror', '-fvisibility=hidden', '-DNAPI_VERSION=8', '-DNAPI_DISABLE_CPP_EXCEPTIONS', '-DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS']
      : target.startsWith('aarch64') ? ['-DBLAKE3_USE_NEON=1'] : []),
    `-I${blake3}`,
    `-I${require('node-api-headers').include_dir}`,
    `-I${path.join(repoRoot, require('node-addon-api').include_dir)}`,
  ]
  return new Promise((resolve) => {
    const p = spawn(zig, args, { env: { ...process.env, ZIG_GLOBAL_CACHE_DIR: path.join(os.tmpdir(), 'causeway-zig-cache') } })
    let output = ''
    p.stdout.on('data', (d) => (output += d))
    p.stderr.on('data', (d) => (output += d))
    p.on('close', (code) => resolve({ code, output }))
  })
}

// Mach-O 64-bit and ELF object magic, and each format's CPU field.
const MACHO = 0xfeedfacf
const CPU = { 'x86_64-macos': 0x01000007, 'aarch64-macos': 0x0100000c, 'x86_64-linux-musl': 62, 'aarch64-linux-musl': 183 } as const

describe.skipIf(!supported)(`the native sources on the ports this machine cannot run${portsSkipped() ? `: skipped, ${portsSkipped()}` : ''}`, () => {
  it('compile for darwin-x64, darwin-arm64, linux-x64-musl and linux-arm64-musl with no warning', async () => {
    const zig = zigCompiler()
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-ports-'))
    try {
      const jobs: Array<() => Promise<string | null>> = []
      for (const target of Object.keys(CPU) as Array<keyof typeof CPU>) {
        const arch = target.startsWith('x86_64') ? 'x86_64' : 'aarch64'
        for (const src of sources(arch)) {
          const out = path.join(work, `${target}-${path.basename(src)}.o`)
          jobs.push(async () => {
            const r = await compile(zig, target, src, out)
            if (r.code !== 0 || r.output.trim()) return `${target} ${path.relative(repoRoot, src)}:\n${r.output}`
            const o = fs.readFileSync(out)
            const ok = target.endsWith('macos') ? o.readUInt32LE(0) === MACHO && o.readUInt32LE(4) === CPU[target] : o.readUInt32BE(0) === 0x7f454c46 && o.readUInt16LE(18) === CPU[target]
            return ok ? null : `${target} ${path.basename(src)}: not an object file for ${target}`
          })
        }
      }
      // Two at a time: this machine has two cores, and other test files run meanwhile.
      const failures: string[] = []
      const next = async (): Promise<void> => {
        for (let job = jobs.shift(); job; job = jobs.shift()) {
          const f = await job()
          if (f) failures.push(f)
        }
      }
      await Promise.all([next(), next()])
      expect(failures.join('\n\n')).toBe('')
    } finally {
      fs.rmSync(work, { recursive: true, force: true })
    }
  }, 600_000)
})
