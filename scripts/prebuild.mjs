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
  const o = { build: true, maxGlibc: null, verify: null }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--no-build') o.build = false
    else if (a === '--max-glibc') o.maxGlibc = argv[++i]
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
function elfFloors(file) {
  let out
  try {
    out = execFileSync('objdump', ['-T', file], { encoding: 'utf8', maxBuffer: 64 << 20 })
  } catch (e) {
    fail(`objdump -T failed (install binutils): ${e.message}`)
  }
  const versions = (prefix) => [...out.matchAll(new RegExp(`\\b${prefix}_([0-9.]+)\\b`, 'g'))].map((m) => m[1])
  const undefinedSyms = out
    .split('\n')
    .filter((l) => l.includes('*UND*'))
    .map((l) => l.trim().split(/\s+/).pop())
  return { glibc: maxVersion(versions('GLIBC')), glibcxx: maxVersion(versions('GLIBCXX')), undefinedSyms }
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

function checkNoMarchNative() {
  for (const f of ['build/build.ninja', 'build/CMakeCache.txt']) {
    const p = path.join(root, f)
    if (fs.existsSync(p) && /-march=native|-mtune=native/.test(fs.readFileSync(p, 'utf8'))) {
      fail(`${f} has -march=native: a prebuilt binary must run on every CPU of its arch (runtime dispatch only)`)
    }
  }
}

function compilerOf() {
  const cache = path.join(root, 'build/CMakeCache.txt')
  if (!fs.existsSync(cache)) return null
  const text = fs.readFileSync(cache, 'utf8')
  const id = /CMAKE_CXX_COMPILER_ID:\w+=(.*)/.exec(text)?.[1]
  const compiler = /CMAKE_CXX_COMPILER:\w+=(.*)/.exec(text)?.[1]
  if (!compiler) return id ?? null
  const r = spawnSync(compiler, ['--version'], { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.split('\n')[0].trim() : compiler
}

/** Loads a binary in a fresh Node process: it must register and hash. */
function checkLoads(file) {
  const script = `
    const b = require(${JSON.stringify(file)})
    if (typeof b.NativeStore !== 'function' || b.crc32c(Buffer.from('123456789')) !== 0xe3069283) process.exit(3)
    console.log(b.crc32cImplementation)`
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
  if (r.status !== 0) fail(`${file} does not load in Node ${process.version}:\n${r.stderr}`)
  return r.stdout.trim()
}

function build() {
  const cmakeJs = path.join(path.dirname(require.resolve('cmake-js/package.json')), 'bin/cmake-js')
  const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--log-level', 'warn'], { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) fail('cmake-js compile failed')
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
      if (maxGlibc && m.glibc && cmp(m.glibc, maxGlibc) > 0) fail(`prebuilds/${tuple}/${f} needs glibc ${m.glibc}, above ${maxGlibc}`)
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

if (args.build) build()
const built = path.join(root, 'build/Release/causeway.node')
if (!fs.existsSync(built)) fail(`${path.relative(root, built)} is missing: run npm run build:native first`)
checkNoMarchNative()

const libc = hostLibc()
const tuple = `${process.platform}-${process.arch}`
const outDir = path.join(root, 'prebuilds', tuple)
const outFile = path.join(outDir, fileNameFor(libc))
// Checked in a scratch directory; prebuilds/ only ever receives a binary that passed.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-prebuild-'))
process.on('exit', () => fs.rmSync(scratch, { recursive: true, force: true }))
const candidate = path.join(scratch, 'causeway.node')
fs.copyFileSync(built, candidate)
// Symbols for debugging stay in build/; the shipped copy keeps only what the
// dynamic linker needs (dynamic symbols and version references survive).
if (process.platform === 'linux') execFileSync('strip', ['--strip-unneeded', candidate])
else if (process.platform === 'darwin') execFileSync('strip', ['-x', candidate])

const floors = process.platform === 'linux' ? elfFloors(candidate) : { glibc: null, glibcxx: null, undefinedSyms: null }
checkNapiImports(candidate, floors.undefinedSyms)
if (libc === 'glibc' && args.maxGlibc && floors.glibc && cmp(floors.glibc, args.maxGlibc) > 0) {
  fail(`the binary needs glibc ${floors.glibc}, above the allowed floor ${args.maxGlibc} (build in an older container)`)
}
const crc32c = checkLoads(candidate)
fs.mkdirSync(outDir, { recursive: true })
fs.copyFileSync(candidate, outFile)

const bytes = fs.readFileSync(outFile)
const meta = {
  name: pkg.name,
  version: pkg.version,
  platform: process.platform,
  arch: process.arch,
  libc,
  file: path.basename(outFile),
  napi: napiVersion,
  // Linux: the highest GLIBC_ / GLIBCXX_ symbol version the binary references,
  // so the lowest glibc / libstdc++ it runs with (null for musl and other OSes).
  glibc: libc === 'glibc' ? floors.glibc : null,
  glibcxx: libc === 'glibc' ? floors.glibcxx : null,
  bytes: bytes.length,
  sha256: createHash('sha256').update(bytes).digest('hex'),
  builtWith: { node: process.version, compiler: compilerOf(), crc32c },
}
fs.writeFileSync(outFile.replace(/\.node$/, '.json'), JSON.stringify(meta, null, 2) + '\n')
console.log(
  `prebuild: ${path.relative(root, outFile)} (${bytes.length} bytes, Node-API ${napiVersion}` +
    (meta.glibc ? `, glibc >= ${meta.glibc}, GLIBCXX >= ${meta.glibcxx}` : '') +
    `, crc32c ${crc32c})`,
)
