#!/usr/bin/env node
// Fuzzing of the native frame and segment decoders (reliability target 9).
//
//   node scripts/reliability-fuzz.mjs replay        build the targets with ASan+UBSan (g++ or
//                                                   clang, no libFuzzer) and replay every input
//                                                   kept in test/fuzz/corpus/<target>/
//   node scripts/reliability-fuzz.mjs fuzz SECONDS  libFuzzer with ASan+UBSan (clang-14; installed
//                                                   with apt-get when missing), SECONDS split over
//                                                   the targets; a crash input is kept in
//                                                   test/fuzz/corpus/<target>/ and fails the run
//
// Builds go to build/reliability/fuzz-<engine>-<hash>/ (reused while sources and flags match).
// Prints one JSON line per target: {target, engine, inputs|execs, crashes}.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const TARGETS = { frame: 'native/fuzz/frame_fuzz.cc', segment: 'native/fuzz/segment_fuzz.cc', link: 'native/fuzz/link_fuzz.cc', msgpack: 'native/fuzz/msgpack_fuzz.cc' }
const corpusDir = (t) => path.join(root, 'test/fuzz/corpus', t)

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0
}

function blake3Dir() {
  return path.join(path.dirname(execFileSync(process.execPath, ['-p', "require.resolve('@c4312/blake3-native/package.json')"], { cwd: root, encoding: 'utf8' }).trim()), 'c')
}

function coreSources() {
  return fs
    .readdirSync(path.join(root, 'native'))
    .filter((n) => n.endsWith('.cc') && !n.startsWith('js_') && !n.endsWith('_win32.cc'))
    .map((n) => path.join(root, 'native', n))
}

function ensureClang() {
  if (has('clang++-14') && fs.existsSync('/usr/lib/llvm-14/lib/clang') && libfuzzerPresent()) return
  console.error('installing clang-14 and libclang-rt-14-dev (apt-get)')
  execFileSync('sh', ['-c', 'apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-14 libclang-rt-14-dev >/dev/null'], { stdio: 'inherit' })
}

function libfuzzerPresent() {
  try {
    return execFileSync('sh', ['-c', 'ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-aarch64.a 2>/dev/null'], { encoding: 'utf8' }).trim().length > 0
  } catch {
    return false
  }
}

/** Compiles the core, BLAKE3 and each target; returns target -> binary path. */
function build(engine) {
  const fuzz = engine === 'libfuzzer'
  const cxx = fuzz ? 'clang++-14' : process.env.CXX || (has('g++') ? 'g++' : 'clang++')
  const cc = fuzz ? 'clang-14' : process.env.CC || (has('gcc') ? 'gcc' : 'clang')
  const san = fuzz ? ['-fsanitize=fuzzer-no-link,address,undefined'] : ['-fsanitize=address,undefined']
  const common = ['-g', '-O1', '-fno-omit-frame-pointer', '-fno-sanitize-recover=undefined', ...san]
  const b3 = blake3Dir()
  const b3src = ['blake3.c', 'blake3_dispatch.c', 'blake3_portable.c'].map((n) => path.join(b3, n))
  const b3defs = ['-DBLAKE3_NO_SSE2', '-DBLAKE3_NO_SSE41', '-DBLAKE3_NO_AVX2', '-DBLAKE3_NO_AVX512']
  const units = [
    ...coreSources().map((src) => ({ src, cmd: [cxx, '-std=c++20', ...common, `-I${b3}`, '-c', src] })),
    ...b3src.map((src) => ({ src, cmd: [cc, ...common, ...b3defs, '-c', src] })),
  ]
  const mains = Object.fromEntries(Object.entries(TARGETS).map(([t, src]) => [t, path.join(root, src)]))
  const replay = path.join(root, 'native/fuzz/replay_main.cc')
  const h = createHash('sha256').update(JSON.stringify({ engine, cxx, common }))
  for (const f of [...units.map((u) => u.src), ...Object.values(mains), replay, ...fs.readdirSync(path.join(root, 'native')).filter((n) => n.endsWith('.h')).map((n) => path.join(root, 'native', n))]) h.update(fs.readFileSync(f))
  const out = path.join(root, 'build/reliability', `fuzz-${engine}-${h.digest('hex').slice(0, 12)}`)
  const bins = Object.fromEntries(Object.keys(TARGETS).map((t) => [t, path.join(out, `${t}_fuzz`)]))
  if (Object.values(bins).every((b) => fs.existsSync(b))) return bins
  fs.mkdirSync(out, { recursive: true })
  // Two compilers at a time (2 cores).
  const objs = units.map((u, i) => path.join(out, `${i}-${path.basename(u.src)}.o`))
  let next = 0
  const jobs = []
  const runOne = async () => {
    while (next < units.length) {
      const i = next++
      const u = units[i]
      await new Promise((resolve, reject) => {
        const p = spawn(u.cmd[0], [...u.cmd.slice(1), '-o', objs[i]], { stdio: ['ignore', 'ignore', 'pipe'] })
        let err = ''
        p.stderr.on('data', (d) => (err += d))
        p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${u.cmd.join(' ')}\n${err}`))))
      })
    }
  }
  for (let j = 0; j < 2; j++) jobs.push(runOne())
  return Promise.all(jobs).then(() => {
    for (const [t, main] of Object.entries(mains)) {
      const extra = fuzz ? [] : [replay]
      const link = fuzz ? ['-fsanitize=fuzzer,address,undefined'] : ['-fsanitize=address,undefined']
      execFileSync(cxx, ['-std=c++20', '-g', '-O1', ...link, main, ...extra, ...objs, '-lpthread', '-o', bins[t]], { stdio: 'pipe' })
    }
    return bins
  })
}

async function replayAll() {
  const bins = await build('replay')
  let failed = false
  for (const [t, bin] of Object.entries(bins)) {
    const dir = corpusDir(t)
    fs.mkdirSync(dir, { recursive: true })
    const r = spawnSync(bin, [dir], { encoding: 'utf8', env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1', UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1' } })
    const inputs = Number(/replayed (\d+)/.exec(r.stdout)?.[1] ?? 0)
    const ok = r.status === 0
    if (!ok) failed = true
    console.log(JSON.stringify({ target: t, engine: 'replay', inputs, crashes: ok ? 0 : 1, output: ok ? undefined : (r.stderr || '').slice(-3000) }))
  }
  process.exitCode = failed ? 1 : 0
}

function seedSegments(work) {
  // Real segments as seeds: a store with small segments, a batch, keys and causation.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-fuzz-seed-'))
  execFileSync(process.execPath, ['-e', `
    const { Store, Coordinate, EventKind } = require(${JSON.stringify(path.join(root, 'dist/cjs/index.js'))})
    const s = Store.open({ dataDir: ${JSON.stringify(dir)}, segmentMaxBytes: 4096 })
    const K = EventKind.custom(1, 1)
    for (let i = 0; i < 40; i++) {
      const r = s.append(new Coordinate('e' + (i % 3), 's'), K, { i, p: 'x'.repeat(i * 3) }, i % 5 === 0 ? { idempotencyKey: 'k' + i } : {})
      if (i % 7 === 0) s.appendBatch([{ coord: new Coordinate('b', 's'), kind: K, payload: i }, { coord: new Coordinate('b', 's'), kind: K, payload: [i], causation: { priorItem: 0 } }])
    }
    s.close()`])
  let n = 0
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.cwseg'))) {
    const b = fs.readFileSync(path.join(dir, f))
    fs.writeFileSync(path.join(work.segment, `seed-${n}`), b)
    fs.writeFileSync(path.join(work.frame, `seed-${n}`), b.subarray(128))
    n++
  }
  fs.rmSync(dir, { recursive: true, force: true })
}

async function fuzzAll(seconds) {
  ensureClang()
  const bins = await build('libfuzzer')
  const work = {}
  for (const t of Object.keys(TARGETS)) {
    work[t] = path.join(root, 'build/reliability/fuzz-work', t)
    fs.mkdirSync(work[t], { recursive: true })
  }
  if (fs.existsSync(path.join(root, 'dist/cjs/index.js'))) seedSegments(work)
  const each = Math.max(1, Math.floor(seconds / Object.keys(TARGETS).length))
  let failed = false
  for (const [t, bin] of Object.entries(bins)) {
    const keep = corpusDir(t)
    fs.mkdirSync(keep, { recursive: true })
    const r = spawnSync(
      bin,
      [work[t], keep, `-max_total_time=${each}`, '-max_len=1048576', '-rss_limit_mb=2048', '-timeout=10', `-artifact_prefix=${keep}/crash-`, '-print_final_stats=1'],
      { encoding: 'utf8', env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1', UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1' }, maxBuffer: 1 << 28 },
    )
    const execs = Number(/stat::number_of_executed_units:\s*(\d+)/.exec(r.stderr)?.[1] ?? 0)
    const crashed = r.status !== 0
    if (crashed) failed = true
    console.log(JSON.stringify({ target: t, engine: 'libfuzzer', seconds: each, execs, crashes: crashed ? 1 : 0, output: crashed ? r.stderr.slice(-3000) : undefined }))
  }
  process.exitCode = failed ? 1 : 0
}

const [mode, arg] = process.argv.slice(2)
if (mode === 'replay') await replayAll()
else if (mode === 'fuzz') await fuzzAll(Number(arg ?? 90))
else {
  console.error('usage: reliability-fuzz.mjs replay | fuzz SECONDS')
  process.exitCode = 2
}
