/**
 * The one place that loads the native addon: finds the binary for this
 * system, loads it, and explains a load failure.
 */
import { createRequire } from 'node:module'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { errorClasses } from '../errors.js'
import type { Binding } from './binding.js'

/** The directory holding package.json: the addon is found relative to it. */
function packageRoot(): string {
  let dir = typeof __dirname === 'string' ? __dirname : process.cwd()
  for (;;) {
    const pj = path.join(dir, 'package.json')
    if (fs.existsSync(pj)) {
      try {
        if (JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'causeway') return dir
      } catch {
        /* keep looking */
      }
    }
    const up = path.dirname(dir)
    if (up === dir) throw new Error('causeway: cannot find its own package.json above ' + __dirname)
    dir = up
  }
}

/** The Node-API version the addon is compiled for (NAPI_VERSION in CMakeLists.txt, binary.napi_versions). */
const NAPI_REQUIRED = 8

/** 'glibc' or 'musl' on Linux, without the cost of a diagnostic report when a file tells. */
function libcFamily(): 'glibc' | 'musl' | undefined {
  if (process.platform !== 'linux') return undefined
  const env = process.env['LIBC']
  if (env === 'glibc' || env === 'musl') return env
  try {
    // glibc's ldd is a script naming "GNU C Library"; musl's is its dynamic loader.
    const ldd = fs.readFileSync('/usr/bin/ldd', 'latin1')
    if (ldd.includes('musl')) return 'musl'
    if (ldd.includes('GNU C Library') || ldd.includes('GLIBC')) return 'glibc'
  } catch {
    /* no ldd: ask the runtime */
  }
  return glibcRuntime() ? 'glibc' : 'musl'
}

function glibcRuntime(): string | undefined {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined
  return report?.header?.glibcVersionRuntime
}

function libc(): string {
  if (process.platform !== 'linux') return 'n/a'
  const v = glibcRuntime()
  return v ? `glibc ${v}` : 'musl (or unknown)'
}

/** What scripts/prebuild.mjs records beside each prebuilt binary. */
interface PrebuildMeta {
  platform: string
  arch: string
  libc: string | null
  napi: number
  glibc: string | null
  glibcxx: string | null
}

function readDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort()
  } catch {
    return []
  }
}

function readMeta(file: string): PrebuildMeta | undefined {
  try {
    return JSON.parse(fs.readFileSync(file.replace(/\.node$/, '.json'), 'utf8')) as PrebuildMeta
  } catch {
    return undefined
  }
}

const libcTag = (file: string) => path.basename(file).split('.').find((t) => t === 'glibc' || t === 'musl')

/**
 * The binaries to try, in order (the node-gyp-build rules, with a surer libc
 * test): a source build in build/Release or build/Debug, then
 * prebuilds/<platform>-<arch>/causeway*.node for this libc (tagged before
 * untagged). CAUSEWAY_PREBUILD=<dir> looks in <dir> instead of the package;
 * PREBUILDS_ONLY=1 skips build/.
 */
function candidates(base: string, family: string | undefined): string[] {
  const out: string[] = []
  if (!process.env['PREBUILDS_ONLY']) {
    for (const d of ['build/Release', 'build/Debug']) {
      const f = path.join(base, d, 'causeway.node')
      if (fs.existsSync(f)) out.push(f)
    }
  }
  const dir = path.join(base, 'prebuilds', `${process.platform}-${process.arch}`)
  const files = readDir(dir)
    .filter((n) => n.startsWith('causeway.') && n.endsWith('.node'))
    .map((n) => path.join(dir, n))
    .filter((f) => libcTag(f) === undefined || libcTag(f) === family)
    .sort((a, b) => (libcTag(a) ? 0 : 1) - (libcTag(b) ? 0 : 1))
  return out.concat(files)
}

/** "linux-x64 glibc >= 2.34, linux-x64 musl, darwin-arm64": what this package ships. */
function shipped(root: string): string {
  const all: string[] = []
  for (const tuple of readDir(path.join(root, 'prebuilds'))) {
    for (const n of readDir(path.join(root, 'prebuilds', tuple)).filter((x) => x.endsWith('.node'))) {
      const m = readMeta(path.join(root, 'prebuilds', tuple, n))
      const tag = libcTag(n)
      all.push(`${tuple}${tag ? ' ' + tag : ''}${m?.glibc ? ` (glibc >= ${m.glibc})` : ''}`)
    }
  }
  return all.length ? all.join(', ') : 'none'
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? ''
}

function load(): Binding {
  const napi = Number(process.versions.napi ?? 0)
  if (napi < NAPI_REQUIRED) {
    throw new Error(
      `causeway needs Node-API ${NAPI_REQUIRED} or later; this Node ${process.version} has Node-API ${napi}. Use Node 20 or later.`,
    )
  }
  const root = packageRoot()
  const base = process.env['CAUSEWAY_PREBUILD'] ? path.resolve(process.env['CAUSEWAY_PREBUILD']) : root
  const family = libcFamily()
  const req = createRequire(path.join(root, 'package.json'))
  const tried: string[] = []
  const why: string[] = []
  for (const file of candidates(base, family)) {
    try {
      return req(file) as Binding
    } catch (e) {
      const msg = firstLine(e)
      tried.push(`    ${path.relative(root, file) || file}: ${msg}`)
      const meta = readMeta(file)
      const glibc = /GLIBC_([0-9.]+)/.exec(msg)
      if (glibc || /GLIBCXX_|CXXABI_/.test(msg)) {
        why.push(
          glibc
            ? `  this system's glibc (${libc()}) is older than the ${meta?.glibc ?? glibc[1]} this binary needs.`
            : `  this system's libstdc++ is older than the GLIBCXX ${meta?.glibcxx ?? ''} this binary needs.`,
        )
      }
    }
  }
  const target = `${process.platform}-${process.arch}${family ? ' ' + family : ''}`
  if (tried.length === 0) why.push(`  this package has no prebuilt binary for ${target}.`)
  throw new Error(
    [
      'causeway: could not load its native addon.',
      `  this system: platform=${process.platform} arch=${process.arch} libc=${libc()} node=${process.version} napi=${napi} (needs napi >= ${NAPI_REQUIRED})`,
      `  package: ${root}${base !== root ? ` (CAUSEWAY_PREBUILD=${base})` : ''}`,
      `  prebuilt binaries in the package: ${shipped(root)}`,
      ...(tried.length ? ['  tried:', ...tried] : []),
      ...why,
      '  what to do:',
      '  - build it from source for this system (needs CMake >= 3.15 and a C++20 compiler):',
      '      npm install --save-dev --ignore-scripts cmake-js node-addon-api @c4312/blake3-native',
      '      npm rebuild causeway',
      '  - or set CAUSEWAY_PREBUILD to a directory holding prebuilds/<platform>-<arch>/ or build/Release/ with a binary for this system',
      '  - see "Installing" in the causeway README',
    ].join('\n'),
  )
}

let binding: Binding | undefined

/** The addon, loaded and given the error classes on first use. */
export function native(): Binding {
  if (!binding) {
    const b = load()
    b.init(errorClasses)
    binding = b
  }
  return binding
}

/** BLAKE3 of `bytes` as lowercase hex, the form receipts and exports carry. */
export function blake3Hex(bytes: Uint8Array): string {
  return native().blake3(bytes).toString('hex')
}
