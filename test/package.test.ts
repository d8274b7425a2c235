// The package as users get it: `npm pack` (after the prepack step,
// scripts/prebuild.mjs, has put this machine's binary in prebuilds/), or the
// tarball named by CAUSEWAY_TEST_TARBALL (the release workflow's), installed
// into an empty project with --ignore-scripts, loaded with no compiler
// reachable; its declarations checked from an ESM and a CommonJS consumer; the
// tarball linted with publint; the load-failure message; the install script;
// and the source-build fallback from the packed sources.
import { type SpawnSyncReturns, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { arm64Node, arm64Unavailable, qemuArm64, win32Node, win32Unavailable, wineEnv, wineRun } from './cross.js'
import { repoRoot } from './helpers.js'

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const tuple = `${process.platform}-${process.arch}`
const libc =
  process.platform !== 'linux'
    ? undefined
    : (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime
      ? 'glibc'
      : 'musl'
const binaryName = ['causeway', 'napi', libc, 'node'].filter(Boolean).join('.')

let work: string
let tgz: string
let app: string // the tarball installed with --ignore-scripts
let nodeOnly: string // a PATH directory holding nothing but node
const timings: Record<string, number> = {}
// linux-arm64 is cross-compiled into the package and checked under qemu when this machine can.
const noArm64 = arm64Unavailable()
const ARM64 = 'prebuilds/linux-arm64/causeway.napi.glibc.node'
// So is win32-x64 (MinGW-w64), checked in a Windows Node under Wine.
const noWin32 = win32Unavailable()
const WIN32 = 'prebuilds/win32-x64/causeway.napi.node'

/** Node 20's own Linux floor (built on RHEL 8): a glibc binary needing more would not load where Node 20 runs. */
const VERSION = /^\d+(\.\d+)+$/
const below = (v: string, max: string) => {
  const [a, b] = [v, max].map((x) => x.split('.').map(Number))
  for (let i = 0; i < Math.max(a!.length, b!.length); i++) if ((a![i] ?? 0) !== (b![i] ?? 0)) return (a![i] ?? 0) < (b![i] ?? 0)
  return true
}
function expectNodeFloor(meta: { glibc: string; glibcxx: string; cxxabi: string }): void {
  // GCC 12 and glibc 2.36 here; native/glibc_floor.cc and cond_var.h keep the newer symbol versions out.
  for (const [lib, max] of [['glibc', '2.28'], ['glibcxx', '3.4.25'], ['cxxabi', '1.3.11']] as const) {
    expect(meta[lib], lib).toMatch(VERSION)
    expect(below(meta[lib], max), `${lib} ${meta[lib]} is above Node 20's ${max}`).toBe(true)
  }
}

function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8', maxBuffer: 64 << 20 })
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

function timed<T>(name: string, fn: () => T): T {
  const t = performance.now()
  try {
    return fn()
  } finally {
    timings[name] = Math.round(performance.now() - t)
  }
}

/** An empty project: package.json only. */
function project(name: string, extra: Record<string, unknown> = {}): string {
  const dir = path.join(work, name)
  fs.mkdirSync(dir)
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, ...extra }))
  return dir
}

const npmInstall = ['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error']

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-pack-'))
  if (process.env['CAUSEWAY_TEST_TARBALL']) {
    // The release workflow checks the tarball it is about to publish (every platform's prebuilds).
    tgz = path.resolve(process.env['CAUSEWAY_TEST_TARBALL'])
  } else {
    // `npm pack` runs prepack (scripts/prebuild.mjs: build, check, copy to prebuilds/) and prepare
    // (npm run build). npm test's pretest has just built everything, and rebuilding dist/ here would
    // pull it from under the test files running in parallel; so: the prepack step without its build,
    // then the pack itself.
    timed('prebuild', () => ok(run(process.execPath, ['scripts/prebuild.mjs', '--no-build'], { cwd: repoRoot }), 'prebuild'))
    // prepack's second step; here it also loads the cross-built binary in an arm64 Node under qemu.
    // (Both cross steps belong to the ports, which npm test leaves to npm run test:full.)
    if (noArm64 === null) {
      const crossEnv = { ...process.env, CAUSEWAY_ARM64_NODE: arm64Node() }
      timed('prebuild linux-arm64', () =>
        ok(run(process.execPath, ['scripts/prebuild.mjs', '--cross', 'linux-arm64', '--if-toolchain'], { cwd: repoRoot, env: crossEnv }), 'prebuild --cross'),
      )
    }
    // The third: win32-x64, its load check in a Windows Node under Wine.
    if (noWin32 === null) {
      const winEnv = { ...wineEnv(), CAUSEWAY_WIN32_NODE: win32Node(), CAUSEWAY_WINEPREFIX: wineEnv().WINEPREFIX }
      timed('prebuild win32-x64', () =>
        ok(run(process.execPath, ['scripts/prebuild.mjs', '--cross', 'win32-x64', '--if-toolchain'], { cwd: repoRoot, env: winEnv }), 'prebuild --cross win32-x64'),
      )
    }
    timed('npm pack', () =>
      ok(run(npm, ['pack', '--ignore-scripts', '--pack-destination', work, '--loglevel=error'], { cwd: repoRoot }), 'npm pack'),
    )
    const packed = fs.readdirSync(work).filter((f) => f.endsWith('.tgz'))
    expect(packed).toHaveLength(1)
    tgz = path.join(work, packed[0]!)
  }

  app = project('app')
  timed('npm install --ignore-scripts', () => ok(run(npm, [...npmInstall, tgz], { cwd: app }), 'npm install'))

  nodeOnly = path.join(work, 'node-only-bin')
  fs.mkdirSync(nodeOnly)
  fs.symlinkSync(process.execPath, path.join(nodeOnly, process.platform === 'win32' ? 'node.exe' : 'node'))
}, 420_000)

afterAll(() => {
  console.log(`package test timings (ms): ${JSON.stringify(timings)}; tarball ${fs.statSync(tgz).size} bytes`)
  fs.rmSync(work, { recursive: true, force: true })
})


function tarballFiles(): string[] {
  return ok(run('tar', ['-tzf', tgz], { cwd: work }), 'tar -t')
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''))
}

const SMOKE = `
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-smoke-'))
  const store = Store.open({ dataDir: dir })
  const order = new Coordinate('order:1', 'shop')
  const kind = EventKind.custom(1, 1)
  const ids = [0, 1, 2].map((n) => store.append(order, kind, { n }).eventId)
  const found = [...store.query(Region.entity('order'))].map((e) => e.payload.n)
  // The causal audit: the entity's hash chain from the newest event back, each link re-hashed.
  const chain = store.walkAncestors(ids[2])
  const loaded = process.report.getReport().sharedObjects.filter((f) => f.endsWith('.node'))
  store.close()
  fs.rmSync(dir, { recursive: true, force: true })
  console.log(JSON.stringify({ found, chain: chain.map((e) => e.eventId), ids: [...ids].reverse(), loaded }))
`

type Runner = (cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }) => SpawnSyncReturns<string>

/** A Windows program under Wine, through wineRun (output through files, not pipes). */
const underWine: Runner = (cmd, args, opts) => wineRun([cmd, ...args], opts) as SpawnSyncReturns<string>

function smoke(kind: 'esm' | 'cjs', cwd: string, env: NodeJS.ProcessEnv, node: string[] = [process.execPath], runner: Runner = run) {
  const file = path.join(cwd, kind === 'esm' ? 'smoke.mjs' : 'smoke.cjs')
  const head =
    kind === 'esm'
      ? `import { Store, Coordinate, EventKind, Region } from 'causeway'\nimport fs from 'node:fs'\nimport os from 'node:os'\nimport path from 'node:path'\n`
      : `const { Store, Coordinate, EventKind, Region } = require('causeway')\nconst fs = require('node:fs'), os = require('node:os'), path = require('node:path')\n`
  fs.writeFileSync(file, head + SMOKE)
  const out = ok(runner(node[0]!, [...node.slice(1), file], { cwd, env }), `smoke (${kind}, ${node.join(' ')})`)
  return JSON.parse(out.trim().split('\n').pop()!) as {
    found: number[]
    chain: string[]
    ids: string[]
    loaded: string[]
  }
}

describe('the packed package', () => {
  it('holds the prebuilt binary with its metadata, both entry points and the sources of a source build', () => {
    const files = tarballFiles()
    // The steps this test takes in place of npm's lifecycle are the package's own.
    const scripts = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).scripts
    expect(scripts).toMatchObject({
      prepack: 'node scripts/prebuild.mjs && node scripts/prebuild.mjs --cross linux-arm64 --if-toolchain && node scripts/prebuild.mjs --cross win32-x64 --if-toolchain',
      install: 'node scripts/install.mjs',
    })
    const bin = `prebuilds/${tuple}/${binaryName}`
    expect(files).toContain(bin)
    expect(files).toContain(bin.replace(/\.node$/, '.json'))
    for (const f of ['dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/esm/index.mjs', 'dist/esm/index.d.mts']) {
      expect(files).toContain(f)
    }
    expect(files).toContain('scripts/install.mjs')
    expect(files).toContain('CMakeLists.txt')
    // Nothing of the development tree: sources, tests, build output, benchmarks.
    expect(files.filter((f) => /^(src|test|build|bench|examples|node_modules|\.ci|\.github)\//.test(f))).toEqual([])

    // Every native source CMakeLists.txt compiles, and every header they include, is in the tarball.
    const cmake = fs.readFileSync(path.join(repoRoot, 'CMakeLists.txt'), 'utf8')
    const sources = [...cmake.matchAll(/\bnative\/[\w./-]+\.cc\b/g)].map((m) => m[0]).filter((f) => !f.startsWith('native/test/'))
    expect(sources.length).toBeGreaterThan(5)
    for (const s of sources) expect(files, s).toContain(s)
    for (const f of files.filter((x) => x.startsWith('native/'))) {
      const text = fs.readFileSync(path.join(repoRoot, f), 'utf8')
      for (const m of text.matchAll(/#include "([^"]+)"/g)) {
        // Headers of the repository's native/ (blake3.h comes from @c4312/blake3-native).
        if (fs.existsSync(path.join(repoRoot, 'native', m[1]!))) expect(files, `${f} includes ${m[1]}`).toContain(`native/${m[1]}`)
      }
    }

    // The metadata matches the binary and records what it needs.
    const dir = path.join(app, 'node_modules/causeway/prebuilds', tuple)
    const meta = JSON.parse(fs.readFileSync(path.join(dir, binaryName.replace(/\.node$/, '.json')), 'utf8'))
    const bytes = fs.readFileSync(path.join(dir, binaryName))
    expect(meta).toMatchObject({ platform: process.platform, arch: process.arch, napi: 8, bytes: bytes.length })
    expect(meta.sha256).toBe(createHash('sha256').update(bytes).digest('hex'))
    if (libc === 'glibc') expectNodeFloor(meta)
    console.log(`prebuild ${tuple}: ${bytes.length} bytes, glibc >= ${meta.glibc}, GLIBCXX >= ${meta.glibcxx}, CXXABI >= ${meta.cxxabi}`)

    // All seven release targets together stay well under this.
    expect(fs.statSync(tgz).size).toBeLessThan(4 << 20)
  })

  it('installed with --ignore-scripts, loads from the prebuilt binary with no compiler on PATH (ESM and CommonJS)', () => {
    const pkgDir = path.join(app, 'node_modules/causeway')
    expect(fs.existsSync(path.join(pkgDir, 'build'))).toBe(false)
    // PATH holds node alone: no cc, c++, cmake, make, python, npm.
    expect(fs.readdirSync(nodeOnly)).toEqual([process.platform === 'win32' ? 'node.exe' : 'node'])
    const env = { PATH: nodeOnly, HOME: work, TMPDIR: os.tmpdir() }
    for (const kind of ['esm', 'cjs'] as const) {
      const r = timed(`smoke ${kind}`, () => smoke(kind, app, env))
      expect(r.found).toEqual([0, 1, 2])
      expect(r.chain).toEqual(r.ids)
      expect(r.loaded.filter((f) => f.includes(`${path.sep}causeway${path.sep}`))).toEqual([
        fs.realpathSync(path.join(pkgDir, 'prebuilds', tuple, binaryName)),
      ])
    }
  })

  it.skipIf(noArm64 !== null)(`installed with --ignore-scripts, loads on linux-arm64 (an arm64 Node under qemu)${noArm64 ? `: skipped, ${noArm64}` : ''}`, () => {
    expect(tarballFiles()).toEqual(expect.arrayContaining([ARM64, ARM64.replace(/\.node$/, '.json')]))
    const pkgDir = path.join(app, 'node_modules/causeway')
    const meta = JSON.parse(fs.readFileSync(path.join(pkgDir, ARM64.replace(/\.node$/, '.json')), 'utf8'))
    const bytes = fs.readFileSync(path.join(pkgDir, ARM64))
    expect(meta).toMatchObject({ platform: 'linux', arch: 'arm64', libc: 'glibc', napi: 8, bytes: bytes.length })
    expect(meta.sha256).toBe(createHash('sha256').update(bytes).digest('hex'))
    expectNodeFloor(meta)
    const node = [...qemuArm64(), arm64Node()]
    expect(ok(run(node[0]!, [...node.slice(1), '-p', 'process.arch'], { cwd: app }), 'arm64 node').trim()).toBe('arm64')
    const env = { PATH: nodeOnly, HOME: work, TMPDIR: os.tmpdir() }
    for (const kind of ['esm', 'cjs'] as const) {
      const r = timed(`smoke ${kind} arm64`, () => smoke(kind, app, env, node))
      expect(r.found).toEqual([0, 1, 2])
      expect(r.chain).toEqual(r.ids)
      expect(r.loaded.filter((f) => f.includes(`${path.sep}causeway${path.sep}`))).toEqual([fs.realpathSync(path.join(pkgDir, ARM64))])
    }
    console.log(`prebuild linux-arm64: ${bytes.length} bytes, glibc >= ${meta.glibc}, GLIBCXX >= ${meta.glibcxx}, CXXABI >= ${meta.cxxabi}, crc32c ${meta.builtWith.crc32c}`)
  })

  it.skipIf(noWin32 !== null)(`installed with --ignore-scripts, loads on win32-x64 (a Windows Node under Wine)${noWin32 ? `: skipped, ${noWin32}` : ''}`, () => {
    expect(tarballFiles()).toEqual(expect.arrayContaining([WIN32, WIN32.replace(/\.node$/, '.json')]))
    const pkgDir = path.join(app, 'node_modules/causeway')
    const meta = JSON.parse(fs.readFileSync(path.join(pkgDir, WIN32.replace(/\.node$/, '.json')), 'utf8'))
    const bytes = fs.readFileSync(path.join(pkgDir, WIN32))
    expect(meta).toMatchObject({ platform: 'win32', arch: 'x64', libc: null, napi: 8, bytes: bytes.length })
    expect(meta.sha256).toBe(createHash('sha256').update(bytes).digest('hex'))
    expect(bytes.subarray(0, 2).toString()).toBe('MZ')
    const node = [win32Node()]
    expect(ok(underWine(node[0]!, ['-p', 'process.platform + "-" + process.arch'], { cwd: app }), 'win32 node').trim()).toBe('win32-x64')
    for (const kind of ['esm', 'cjs'] as const) {
      const r = timed(`smoke ${kind} win32`, () => smoke(kind, app, {}, node, underWine))
      expect(r.found).toEqual([0, 1, 2])
      expect(r.chain).toEqual(r.ids)
      // Windows names the loaded module by its Windows path (Z:\... under Wine).
      expect(r.loaded.filter((f) => /[\\/]causeway[\\/]/.test(f)).map((f) => f.split(/[\\/]/).slice(-3).join('/'))).toEqual([WIN32])
    }
    console.log(`prebuild win32-x64: ${bytes.length} bytes, ${meta.builtWith.compiler}, crc32c ${meta.builtWith.crc32c}`)
  })

  it('gives ESM and CommonJS consumers the same declarations, each through its own condition', () => {
    const dir = path.join(app, 'types')
    fs.mkdirSync(dir)
    const check = (other: 'import' | 'require') => `
      import { Store, Coordinate, EventKind, Region, isCausewayError } from 'causeway'
      import type * as here from 'causeway'
      import type * as there from 'causeway' with { 'resolution-mode': '${other}' }
      type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
      const same: Equal<typeof here.Store, typeof there.Store> = true
      const sameRegion: Equal<typeof here.Region, typeof there.Region> = true
      const sameErrors: Equal<typeof here.StoreLockedError, typeof there.StoreLockedError> = true
      const s: here.Store = Store.open({ dataDir: 'x' })
      const r = s.append(new Coordinate('a', 'b'), EventKind.custom(1, 1), { ok: true })
      const seq: bigint = r.globalSequence
      // @ts-expect-error: the declarations are precise, not any
      Store.open({ dataDir: 42 })
      // @ts-expect-error: a receipt's sequence is a bigint
      const n: number = r.globalSequence
      export const used = [same, sameRegion, sameErrors, seq, n, Region.all(), isCausewayError]
    `
    fs.writeFileSync(path.join(dir, 'esm.mts'), check('require') +
        // The ESM entry's default export is the CommonJS module object (no "default" of its own).
        `\nimport causeway from 'causeway'\n` +
        `export const d1: typeof causeway = null as unknown as Omit<typeof there, 'default'>\n` +
        `export const d2: Omit<typeof there, 'default'> = causeway\n` +
        `export const d3: Equal<typeof causeway.Store, typeof there.Store> = true\n`)
    fs.writeFileSync(path.join(dir, 'cjs.cts'), check('import'))
    fs.writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'node16',
          moduleResolution: 'node16',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          skipLibCheck: false, // the shipped .d.ts files are checked too
          types: ['node'],
          typeRoots: [path.join(repoRoot, 'node_modules/@types')],
        },
        files: ['esm.mts', 'cjs.cts'],
      }),
    )
    const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc')
    const out = timed('tsc', () => run(process.execPath, [tsc, '-p', dir, '--listFiles'], { cwd: dir }))
    expect(out.stderr + out.stdout.split('\n').filter((l) => !l.startsWith('/')).join('\n')).toBe('')
    expect(out.status).toBe(0)
    const listed = out.stdout.split('\n').map((l) => path.relative(path.join(app, 'node_modules/causeway'), l))
    expect(listed).toContain(path.join('dist/esm/index.d.mts'))
    expect(listed).toContain(path.join('dist/cjs/index.d.ts'))
  })

  it('passes publint, on the tarball itself', async () => {
    const b = fs.readFileSync(tgz)
    const tarball = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer
    const { publint } = await import('publint')
    const { formatMessage } = await import('publint/utils')
    const { messages, pkg } = await publint({ pack: { tarball }, level: 'suggestion', strict: true })
    expect(messages.map((m) => `${m.type} ${m.code}: ${formatMessage(m, pkg)}`)).toEqual([])
  })

  it('explains a load failure: platform, arch, libc, Node-API version and what to do', () => {
    const env = { PATH: nodeOnly, HOME: work }
    const script = `try { require('causeway').Store.open({ dataDir: 'unused' }) } catch (e) { console.log(e.message) }`
    // No binary for this platform at all.
    const empty = path.join(work, 'empty-prebuilds')
    fs.mkdirSync(empty)
    const none = ok(run(process.execPath, ['-e', script], { cwd: app, env: { ...env, CAUSEWAY_PREBUILD: empty } }), 'load')
    expect(none).toContain('causeway: could not load its native addon.')
    expect(none).toMatch(
      new RegExp(`platform=${process.platform} arch=${process.arch} libc=\\S+.* node=v\\d+.* napi=\\d+ \\(needs napi >= 8\\)`),
    )
    expect(none).toContain(`no prebuilt binary for ${tuple}`)
    expect(none).toMatch(new RegExp(`prebuilt binaries in the package: [^\\n]*${tuple}`))
    expect(none).toContain('npm rebuild causeway')
    // A binary that is there but does not load (as a too-new glibc would make it): named, with the loader's reason.
    const broken = path.join(work, 'broken-prebuilds')
    fs.mkdirSync(path.join(broken, 'prebuilds', tuple), { recursive: true })
    fs.writeFileSync(path.join(broken, 'prebuilds', tuple, binaryName), 'not a shared object')
    const bad = ok(run(process.execPath, ['-e', script], { cwd: app, env: { ...env, CAUSEWAY_PREBUILD: broken } }), 'load')
    expect(bad).toContain('tried:')
    expect(bad).toContain(binaryName)
    expect(bad).toMatch(/invalid ELF header|not a valid|too short|file too short/i)
  })

  it('install script (when scripts are allowed): finds the prebuilt binary and builds nothing, or names the missing build tools', () => {
    const script = path.join(app, 'node_modules/causeway/scripts/install.mjs')
    const env = { PATH: nodeOnly, HOME: work }
    const fine = run(process.execPath, [script], { cwd: path.dirname(path.dirname(script)), env })
    expect(fine.status, fine.stderr).toBe(0)
    expect(fs.existsSync(path.join(app, 'node_modules/causeway/build'))).toBe(false)

    const empty = path.join(work, 'no-prebuilds')
    fs.mkdirSync(empty)
    const missing = run(process.execPath, [script], {
      cwd: path.dirname(path.dirname(script)),
      env: { ...env, CAUSEWAY_PREBUILD: empty },
    })
    expect(missing.status).toBe(1)
    expect(missing.stderr).toContain('a source build needs the npm packages cmake-js, node-addon-api, @c4312/blake3-native')
    expect(missing.stderr).toContain('npm rebuild causeway')
  })

  // A full compile of the addon (about 75 s on 2 cores): in npm run test:full (CAUSEWAY_PORTS set), which CI runs too.
  it.skipIf(!process.env['CAUSEWAY_PORTS'])('builds from the packed sources with `npm rebuild causeway` once the build tools are added', () => {
    // The BLAKE3 package's own dependency needs the override the repository uses.
    const src = project('source-build', { overrides: { '@c4312/blake3-internal': '3.0.0' } })
    const dev = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).devDependencies
    const tools = ['cmake-js', 'node-addon-api', '@c4312/blake3-native'].map((n) => `${n}@${dev[n]}`)
    timed('install with build tools', () => ok(run(npm, [...npmInstall, tgz, ...tools], { cwd: src }), 'npm install'))
    const pkgDir = path.join(src, 'node_modules/causeway')
    fs.rmSync(path.join(pkgDir, 'prebuilds'), { recursive: true })
    timed('npm rebuild causeway', () => ok(run(npm, ['rebuild', 'causeway', '--loglevel=error'], { cwd: src }), 'npm rebuild'))
    const r = smoke('cjs', src, { PATH: nodeOnly, HOME: work, TMPDIR: os.tmpdir() })
    expect(r.found).toEqual([0, 1, 2])
    expect(r.loaded.filter((f) => f.includes(`${path.sep}causeway${path.sep}`))).toEqual([
      fs.realpathSync(path.join(pkgDir, 'build/Release/causeway.node')),
    ])
  }, 300_000)  // a full compile of the addon: about 75 s on an idle 2-core machine
})
