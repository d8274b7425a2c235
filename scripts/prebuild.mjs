#!/usr/bin/env node
// Puts this machine's build of the addon where an installed package looks
// for it: prebuilds/<platform>-<arch>/causeway.napi[.glibc|.musl].node (the
// node-gyp-build naming), with a .json beside it that records what the binary
// needs (Node-API version, glibc floor) for the loader's error messages.
//
// The same script runs here (npm pack, npm test) and in every job of
// .github/workflows/release.yml:
//
//   node scripts/prebuild.mjs                 build with cmake-js (incremental), check, copy
//   node scripts/prebuild.mjs --no-build      check and copy build/Release/causeway.node as it is
//   node scripts/prebuild.mjs --max-glibc 2.28  ... and fail if the binary needs a newer glibc
//                                             (default for every glibc build: NODE_FLOOR below)
//   node scripts/prebuild.mjs --cross linux-arm64 [--if-toolchain]
//                                             cross-compile for linux-arm64 (glibc) with Debian's
//                                             aarch64-linux-gnu GCC into build-arm64/, check, copy;
//                                             --if-toolchain: do nothing when that GCC is missing.
//                                             The load check runs the binary in an arm64 Node under
//                                             qemu-aarch64 when CAUSEWAY_ARM64_NODE names one.
//   node scripts/prebuild.mjs --cross win32-x64 [--if-toolchain]
//                                             the same for win32-x64 with Debian's MinGW-w64 GCC
//                                             into build-win32/; the load check runs it in a
//                                             Windows Node under Wine when CAUSEWAY_WIN32_NODE
//                                             names one (node.exe).
//   node scripts/prebuild.mjs ... --core-tests  also build the C++ core tests (core_test) in the same
//                                             build tree, which the addon's core objects are shared with
//                                             (test/native.test.ts runs them; never shipped)
//   node scripts/prebuild.mjs --verify [linux-x64-glibc,darwin-arm64,...] [--max-glibc 2.28]
//                                             check that prebuilds/ holds exactly these targets
//                                             (default: RELEASE_TARGETS, what a release ships)
//
// Checks on the binary: it loads in this Node, imports no Node-API function
// newer than the version package.json pins (binary.napi_versions), was not
// compiled with -march=native, and (Linux) its GLIBC_/GLIBCXX_ floor.
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
const napiVersion = pkg.binary.napi_versions[0]

/**
 * Node 20's own Linux floor (its binaries are built on RHEL 8: glibc 2.28,
 * GCC 8's libstdc++). A glibc binary needing more would refuse to load on a
 * system where Node 20 runs, so no build above it is put in prebuilds/.
 */
const NODE_FLOOR = { glibc: '2.28', glibcxx: '3.4.25', cxxabi: '1.3.11' }

/** What a release ships: the jobs of .github/workflows/release.yml. */
const RELEASE_TARGETS = [
  'linux-x64-glibc',
  'linux-arm64-glibc',
  'linux-x64-musl',
  'linux-arm64-musl',
  'darwin-x64',
  'darwin-arm64',
  'win32-x64',
]

function fail(msg) {
  console.error(`prebuild: ${msg}`)
  process.exit(1)
}

function parseArgs(argv) {
  const o = { build: true, maxGlibc: NODE_FLOOR.glibc, verify: null, cross: null, ifToolchain: false, coreTests: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--no-build') o.build = false
    else if (a === '--max-glibc') o.maxGlibc = argv[++i]
    else if (a === '--cross') o.cross = argv[++i]
    else if (a === '--if-toolchain') o.ifToolchain = true
    else if (a === '--core-tests') o.coreTests = true
    else if (a === '--verify') o.verify = argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i].split(',').filter(Boolean) : RELEASE_TARGETS
    else fail(`unknown argument ${a}`)
  }
  return o
}

/** 'glibc' or 'musl' on Linux, null elsewhere. */
function hostLibc() {
  if (process.platform !== 'linux') return null
  if (process.env.LIBC) return process.env.LIBC
  return process.report.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl'
}

/** "linux-x64-glibc", "darwin-arm64", ...: how targets are named in --verify and the workflow. */
function targetName(platform, arch, libc) {
  return [platform, arch, libc].filter(Boolean).join('-')
}

function fileNameFor(libc) {
  return ['causeway', 'napi', libc, 'node'].filter(Boolean).join('.')
}

const cmp = (a, b) => {
  const x = a.split('.').map(Number)
  const y = b.split('.').map(Number)
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0)
  }
  return 0
}
const maxVersion = (vs) => vs.reduce((m, v) => (m === null || cmp(v, m) > 0 ? v : m), null)

/** Versioned symbol references of an ELF shared object (objdump -T). */
function elfFloors(file, objdump = 'objdump') {
  let out
  try {
    out = execFileSync(objdump, ['-T', file], { encoding: 'utf8', maxBuffer: 64 << 20 })
  } catch (e) {
    fail(`objdump -T failed (install binutils): ${e.message}`)
  }
  const versions = (prefix) => [...out.matchAll(new RegExp(`\\b${prefix}_([0-9.]+)\\b`, 'g'))].map((m) => m[1])
  const undefinedSyms = out
    .split('\n')
    .filter((l) => l.includes('*UND*'))
    .map((l) => l.trim().split(/\s+/).pop())
  return { glibc: maxVersion(versions('GLIBC')), glibcxx: maxVersion(versions('GLIBCXX')), cxxabi: maxVersion(versions('CXXABI')), undefinedSyms }
}

/**
 * What is wrong with a glibc binary's floors ({glibc, glibcxx, cxxabi}, as
 * elfFloors reads them and the metadata records them): glibc above
 * `maxGlibc`, libstdc++ above Node 20's. Null when nothing is.
 */
function floorProblem(floors, maxGlibc) {
  const limits = { ...NODE_FLOOR, glibc: maxGlibc }
  for (const lib of ['glibc', 'glibcxx', 'cxxabi']) {
    if (limits[lib] && floors[lib] && cmp(floors[lib], limits[lib]) > 0) {
      return `needs ${lib === 'glibc' ? 'glibc ' : `${lib.toUpperCase()}_`}${floors[lib]}, above ${limits[lib]} (see native/glibc_floor.cc, or build in an older container)`
    }
  }
  return null
}

/** Node-API functions named node_api_* arrived with Node-API 9 or later; napi_* are all <= 8. */
function checkNapiImports(file, undefinedSyms) {
  let syms = undefinedSyms
  if (!syms) {
    if (process.platform === 'darwin') {
      const r = spawnSync('nm', ['-u', file], { encoding: 'utf8' })
      syms = r.status === 0 ? r.stdout.split('\n').map((s) => s.trim().replace(/^_/, '')) : []
    } else syms = [] // Windows: imports go through node.lib delay-load; not checked here
  }
  const newer = syms.filter((s) => s.startsWith('node_api_'))
  if (napiVersion < 9 && newer.length) {
    fail(`the binary imports Node-API functions newer than Node-API ${napiVersion}: ${newer.join(', ')}`)
  }
}

function checkNoMarchNative(buildDir = 'build') {
  for (const f of [`${buildDir}/build.ninja`, `${buildDir}/CMakeCache.txt`]) {
    const p = path.join(root, f)
    if (fs.existsSync(p) && /-march=native|-mtune=native/.test(fs.readFileSync(p, 'utf8'))) {
      fail(`${f} has -march=native: a prebuilt binary must run on every CPU of its arch (runtime dispatch only)`)
    }
  }
}

function compilerOf(buildDir = 'build', fallback = null) {
  const cache = path.join(root, buildDir, 'CMakeCache.txt')
  if (!fs.existsSync(cache)) return null
  const text = fs.readFileSync(cache, 'utf8')
  const id = /CMAKE_CXX_COMPILER_ID:\w+=(.*)/.exec(text)?.[1]
  // A toolchain file sets the compiler outside the cache.
  const compiler = /CMAKE_CXX_COMPILER:\w+=(.*)/.exec(text)?.[1] ?? fallback
  if (!compiler) return id ?? null
  const r = spawnSync(compiler, ['--version'], { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.split('\n')[0].trim() : compiler
}

/**
 * Loads a binary in a fresh Node process: it must register and hash. `node`
 * is a command line (a foreign-arch Node goes behind qemu); null skips it.
 */
function checkLoads(file, node = [process.execPath], env = process.env) {
  const script = `
    const b = require(${JSON.stringify(file)})
    if (typeof b.NativeStore !== 'function' || b.crc32c(Buffer.from('123456789')) !== 0xe3069283) process.exit(3)
    console.log(b.crc32cImplementation)`
  // Output goes to files, not pipes: a Windows Node under Wine cannot write to a pipe.
  const out = path.join(scratch, 'load.out')
  const err = path.join(scratch, 'load.err')
  const fds = [fs.openSync(out, 'w'), fs.openSync(err, 'w')]
  const r = spawnSync(node[0], [...node.slice(1), '-e', script], { stdio: ['ignore', fds[0], fds[1]], env })
  fds.forEach((fd) => fs.closeSync(fd))
  if (r.status !== 0) fail(`${file} does not load in ${node.join(' ')}:\n${fs.readFileSync(err, 'utf8')}`)
  return fs.readFileSync(out, 'utf8').trim()
}

/** Cross targets from a Debian x64 host: linux-arm64 (glibc) and win32-x64 (MinGW-w64). */
const CROSS = {
  'linux-arm64': {
    platform: 'linux',
    arch: 'arm64',
    libc: 'glibc',
    gxx: 'aarch64-linux-gnu-g++',
    apt: 'g++-aarch64-linux-gnu',
    strip: 'aarch64-linux-gnu-strip',
    objdump: 'aarch64-linux-gnu-objdump',
    toolchainFile: 'scripts/aarch64-linux-gnu.cmake',
    buildDir: 'build-arm64',
    built: 'Release/causeway.node',
    // Runs an arm64 Node under user-mode emulation against Debian's arm64 libraries.
    node: () => (process.env.CAUSEWAY_ARM64_NODE ? ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu', process.env.CAUSEWAY_ARM64_NODE] : null),
  },
  'win32-x64': {
    platform: 'win32',
    arch: 'x64',
    libc: null,
    gxx: 'x86_64-w64-mingw32-g++-posix',
    apt: 'g++-mingw-w64-x86-64-posix',
    strip: 'x86_64-w64-mingw32-strip',
    objdump: null,
    toolchainFile: 'scripts/x86_64-w64-mingw32.cmake',
    buildDir: 'build-win32',
    // A DLL is a CMake "runtime" output: not under Release/ when cross-built.
    built: 'causeway.node',
    // A Windows Node under Wine, in the prefix CAUSEWAY_WINEPREFIX names.
    node: () => (process.env.CAUSEWAY_WIN32_NODE ? ['wine', process.env.CAUSEWAY_WIN32_NODE] : null),
    env: () => ({ ...process.env, WINEDEBUG: '-all', ...(process.env.CAUSEWAY_WINEPREFIX ? { WINEPREFIX: process.env.CAUSEWAY_WINEPREFIX } : {}) }),
  },
}

function crossBuild(t) {
  const cmakeJs = path.join(path.dirname(require.resolve('cmake-js/package.json')), 'bin/cmake-js')
  const r = spawnSync(
    process.execPath,
    [cmakeJs, 'compile', '--log-level', 'warn', '--out', t.buildDir, '--arch', t.arch, `--CDCMAKE_TOOLCHAIN_FILE=${path.join(root, t.toolchainFile)}`],
    { cwd: root, stdio: 'inherit' },
  )
  if (r.status !== 0) fail(`cmake-js compile for ${t.platform}-${t.arch} failed`)
}

function build() {
  const cmakeJs = path.join(path.dirname(require.resolve('cmake-js/package.json')), 'bin/cmake-js')
  const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--log-level', 'warn'], { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) fail('cmake-js compile failed')
}

/** core_test in a configured build tree: the option turned on, then that one target built. */
function buildCoreTests(dir) {
  const tree = path.join(root, dir)
  for (const args of [['-S', root, '-B', tree, '-DCAUSEWAY_NATIVE_TESTS=ON'], ['--build', tree, '--target', 'core_test', '-j', '2']]) {
    const r = spawnSync('cmake', args, { cwd: root, stdio: 'inherit' })
    if (r.status !== 0) fail(`cmake ${args.join(' ')} failed`)
  }
}

/** Holds `<dir>.lock` until this process exits; waits while another live process holds it. */
function lockBuildDir(dir) {
  const lock = path.join(root, `${dir}.lock`)
  const sleep = new Int32Array(new SharedArrayBuffer(4))
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' })
      process.on('exit', () => fs.rmSync(lock, { force: true }))
      return
    } catch (e) {
      if (e.code !== 'EEXIST') throw e
    }
    let holder = NaN
    try {
      holder = Number(fs.readFileSync(lock, 'utf8'))
      process.kill(holder, 0)
    } catch (e) {
      // A holder that died, or a lock file naming no process: take it over.
      if (e.code === 'ESRCH' || Number.isNaN(holder)) fs.rmSync(lock, { force: true })
    }
    Atomics.wait(sleep, 0, 0, 250)
  }
}

function verify(targets, maxGlibc) {
  const dir = path.join(root, 'prebuilds')
  const found = []
  for (const tuple of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    for (const f of fs.readdirSync(path.join(dir, tuple))) {
      if (!f.endsWith('.node')) continue
      const meta = path.join(dir, tuple, f.replace(/\.node$/, '.json'))
      if (!fs.existsSync(meta)) fail(`prebuilds/${tuple}/${f} has no metadata (${path.basename(meta)})`)
      const m = JSON.parse(fs.readFileSync(meta, 'utf8'))
      const bytes = fs.readFileSync(path.join(dir, tuple, f))
      if (createHash('sha256').update(bytes).digest('hex') !== m.sha256) fail(`prebuilds/${tuple}/${f}: sha256 differs from its metadata`)
      if (m.napi !== napiVersion) fail(`prebuilds/${tuple}/${f} was built for Node-API ${m.napi}, package.json pins ${napiVersion}`)
      if (m.version !== pkg.version) fail(`prebuilds/${tuple}/${f} was built for causeway ${m.version}, this is ${pkg.version}`)
      const floor = m.libc === 'glibc' ? floorProblem(m, maxGlibc) : null
      if (floor) fail(`prebuilds/${tuple}/${f} ${floor}`)
      found.push(targetName(m.platform, m.arch, m.libc))
    }
  }
  const missing = targets.filter((t) => !found.includes(t))
  const extra = found.filter((t) => !targets.includes(t))
  if (missing.length || extra.length) fail(`prebuilds: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`)
  console.log(`prebuild: all ${targets.length} targets present: ${found.sort().join(', ')}`)
}

const args = parseArgs(process.argv.slice(2))
if (args.verify) {
  verify(args.verify, args.maxGlibc)
  process.exit(0)
}

const cross = args.cross ? CROSS[args.cross] : null
if (args.cross && !cross) fail(`--cross ${args.cross}: unknown target (known: ${Object.keys(CROSS).join(', ')})`)
if (cross && spawnSync(cross.gxx, ['--version']).status !== 0) {
  if (args.ifToolchain) {
    // No stale binary from an earlier build may ship in its place.
    fs.rmSync(path.join(root, 'prebuilds', args.cross), { recursive: true, force: true })
    console.log(`prebuild: no ${cross.gxx} on PATH, so no ${args.cross} binary (apt-get install ${cross.apt})`)
    process.exit(0)
  }
  fail(`${cross.gxx} is not on PATH (apt-get install ${cross.apt})`)
}
const buildDir = cross ? cross.buildDir : 'build'
// Test files may run this for the same target at once (the package test and
// the Windows test both want build-win32/): one at a time per build tree.
lockBuildDir(buildDir)
if (args.build) cross ? crossBuild(cross) : build()
if (args.coreTests) buildCoreTests(buildDir)
const built = path.join(root, buildDir, cross ? cross.built : 'Release/causeway.node')
if (!fs.existsSync(built)) fail(`${path.relative(root, built)} is missing: run npm run build:native first`)
checkNoMarchNative(buildDir)

const platform = cross ? cross.platform : process.platform
const arch = cross ? cross.arch : process.arch
const libc = cross ? cross.libc : hostLibc()
const tuple = `${platform}-${arch}`
const outDir = path.join(root, 'prebuilds', tuple)
const outFile = path.join(outDir, fileNameFor(libc))
// Checked in a scratch directory; prebuilds/ only ever receives a binary that passed.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-prebuild-'))
process.on('exit', () => fs.rmSync(scratch, { recursive: true, force: true }))
const candidate = path.join(scratch, 'causeway.node')
fs.copyFileSync(built, candidate)
// Symbols for debugging stay in build/; the shipped copy keeps only what the
// dynamic linker needs (dynamic symbols and version references survive).
if (platform === 'linux' || cross?.platform === 'win32') execFileSync(cross ? cross.strip : 'strip', ['--strip-unneeded', candidate])
else if (platform === 'darwin') execFileSync('strip', ['-x', candidate])

const floors = platform === 'linux' ? elfFloors(candidate, cross ? cross.objdump : 'objdump') : { glibc: null, glibcxx: null, cxxabi: null, undefinedSyms: null }
checkNapiImports(candidate, floors.undefinedSyms)
const floor = libc === 'glibc' ? floorProblem(floors, args.maxGlibc) : null
if (floor) fail(`the binary ${floor}`)
const loader = cross ? cross.node() : [process.execPath]
const crc32c = loader ? checkLoads(candidate, loader, cross?.env ? cross.env() : process.env) : null
fs.mkdirSync(outDir, { recursive: true })
fs.copyFileSync(candidate, outFile)

const bytes = fs.readFileSync(outFile)
const meta = {
  name: pkg.name,
  version: pkg.version,
  platform,
  arch,
  libc,
  file: path.basename(outFile),
  napi: napiVersion,
  // Linux: the highest GLIBC_ / GLIBCXX_ / CXXABI_ symbol version the binary
  // references, so the lowest glibc / libstdc++ it runs with (null for musl and other OSes).
  glibc: libc === 'glibc' ? floors.glibc : null,
  glibcxx: libc === 'glibc' ? floors.glibcxx : null,
  cxxabi: libc === 'glibc' ? floors.cxxabi : null,
  bytes: bytes.length,
  sha256: createHash('sha256').update(bytes).digest('hex'),
  // crc32c: the implementation the load check saw (null: not loaded here, a cross build without an emulated Node).
  builtWith: { node: process.version, compiler: compilerOf(buildDir, cross?.gxx), crc32c, cross: cross ? `${process.platform}-${process.arch}` : null },
}
fs.writeFileSync(outFile.replace(/\.node$/, '.json'), JSON.stringify(meta, null, 2) + '\n')
console.log(
  `prebuild: ${path.relative(root, outFile)} (${bytes.length} bytes, Node-API ${napiVersion}` +
    (meta.glibc ? `, glibc >= ${meta.glibc}, GLIBCXX >= ${meta.glibcxx}, CXXABI >= ${meta.cxxabi}` : '') +
    `, crc32c ${crc32c ?? 'not loaded'})`,
)
