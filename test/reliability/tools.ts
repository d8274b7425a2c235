/**
 * Shared parts of the reliability suite: the deterministic payloads the
 * writers append, the store oracle, and the native helpers (the LD_PRELOAD
 * I/O interposer, fixtures/iofault.c).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { encodePayload } from '../../src/codec.js'
import { Store, type StoredEvent } from '../../src/index.js'
import { afterEach } from 'vitest'
import { dirDigest, repoRoot } from '../helpers.js'

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const { payload } = require('./fixtures/payload.cjs') as { payload: (seq: number, seed: number) => unknown }

export const FIXTURES = path.join(__dirname, 'fixtures')
export const ZERO_HASH = '0'.repeat(64)
export const HEADER = 128

/** The exact bytes event `seq` of writer `seed` must hold. */
export function payloadBytes(seq: number, seed: number): Buffer {
  return Buffer.from(encodePayload(payload(seq, seed)))
}

export function copyDir(src: string, dst: string): string {
  fs.mkdirSync(dst, { recursive: true })
  for (const n of fs.readdirSync(src)) {
    const p = path.join(src, n)
    if (fs.statSync(p).isFile()) fs.copyFileSync(p, path.join(dst, n))
  }
  return dst
}

export function digestEqual(a: Record<string, string>, b: Record<string, string>): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

export { dirDigest }

export { frameOffsets } from '../helpers.js'

/** Every event, read in pages through the internal raw filter (cursor building block). */
export function readFrom(s: Store, from: number, limit?: number): StoredEvent[] {
  return s.readFiltered(limit === undefined ? { fromSequence: from } : { fromSequence: from, limit })
}

/**
 * Checks prevHash links of consecutive clocks: `heads` carries each entity's
 * last (clock, contentHash) across calls. Returns the first broken link, if any.
 */
export function checkChain(events: StoredEvent[], heads: Map<string, { clock: number; hash: string }>): string | undefined {
  for (const e of events) {
    const ent = e.coordinate.entity
    const h = heads.get(ent)
    if (h && h.clock === e.clock - 1 && e.prevHash !== h.hash) return `seq ${e.globalSequence}: prevHash does not link to clock ${h.clock}`
    if (!h && e.clock === 1 && e.prevHash !== ZERO_HASH) return `seq ${e.globalSequence}: first event with a non-zero prevHash`
    heads.set(ent, { clock: e.clock, hash: e.contentHash })
  }
  return undefined
}

// ---------------------------------------------------------------------------
// Native helpers, built once per run into build/reliability (keyed by source hash).

const BUILD = path.join(repoRoot, 'build', 'reliability')

function compilers(): string[] {
  return [process.env.CC, 'cc', 'gcc', 'clang', 'clang-14'].filter((c): c is string => !!c)
}

/**
 * Why a test that runs children under the I/O interposer cannot run here, or
 * null: the interposer is an LD_PRELOAD library of glibc/musl symbols, so
 * Linux only (macOS and Windows runners skip these tests and say so).
 */
export const NO_INTERPOSER: string | null =
  process.platform === 'linux' ? null : `the I/O interposer is an LD_PRELOAD library for Linux, not ${process.platform}`

/** The LD_PRELOAD I/O interposer's sources: fixtures/iofault.c, the files it is split into, and their header. */
const INTERPOSER_SOURCES = ['iofault.c', 'iofault_journal.c', 'iofault_calls.c']
const INTERPOSER_HEADERS = ['iofault.h']

/** Builds the LD_PRELOAD I/O interposer (fixtures/iofault*.c) and returns its path. */
export function interposer(): string {
  const srcs = INTERPOSER_SOURCES.map((n) => path.join(FIXTURES, n))
  const h = createHash('sha256')
  for (const f of [...srcs, ...INTERPOSER_HEADERS.map((n) => path.join(FIXTURES, n))]) h.update(fs.readFileSync(f))
  const hash = h.digest('hex').slice(0, 12)
  const out = path.join(BUILD, `iofault-${hash}.so`)
  if (fs.existsSync(out)) return out
  fs.mkdirSync(BUILD, { recursive: true })
  const tmp = `${out}.${process.pid}.tmp`
  let last: unknown
  for (const cc of compilers()) {
    try {
      execFileSync(cc, ['-shared', '-fPIC', '-O1', '-o', tmp, ...srcs, '-ldl', '-lpthread'], { stdio: 'pipe' })
      fs.renameSync(tmp, out)
      return out
    } catch (e) {
      last = e
    }
  }
  throw new Error(`cannot build the I/O interposer: ${String(last)}`)
}

export interface IoEnv {
  dir: string
  killAt?: number
  killOp?: string
  failAt?: number
  failOp?: string
  failErrno?: number
  failPersist?: boolean
  trace?: string
  journal?: string
}

/** Environment that runs a child under the interposer. */
export function ioEnv(o: IoEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LD_PRELOAD: interposer(), CW_IO_DIR: fs.realpathSync(o.dir) }
  if (o.killAt !== undefined) env.CW_IO_KILL_AT = String(o.killAt)
  if (o.killOp) env.CW_IO_KILL_OP = o.killOp
  if (o.failAt !== undefined) env.CW_IO_FAIL_AT = String(o.failAt)
  if (o.failOp) env.CW_IO_FAIL_OP = o.failOp
  if (o.failErrno !== undefined) env.CW_IO_FAIL_ERRNO = String(o.failErrno)
  if (o.failPersist) env.CW_IO_FAIL_PERSIST = '1'
  if (o.trace) env.CW_IO_TRACE = o.trace
  if (o.journal) env.CW_IO_JOURNAL = o.journal
  return env
}

export interface TraceOp {
  n: number
  cls: string
  name: string
  path: string
}
export interface Trace {
  ops: TraceOp[]
  /** Lines the child wrote to stdout, with the number of ops done before each. */
  marks: Array<{ after: number; text: string }>
  fails: number[]
}

export function readTrace(file: string): Trace {
  const t: Trace = { ops: [], marks: [], fails: [] }
  if (!fs.existsSync(file)) return t
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const w = line.split(' ')
    if (w[0] === 'op') t.ops.push({ n: Number(w[1]), cls: w[2]!, name: w[3]!, path: w.slice(4).join(' ') })
    else if (w[0] === 'mark') t.marks.push({ after: Number(w[1]), text: w.slice(2).join(' ') })
    else if (w[0] === 'fail') t.fails.push(Number(w[1]))
  }
  return t
}

export interface ChildResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs node on a fixture and collects its output. */
export function runNode(script: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 60_000): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [path.join(FIXTURES, script), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

/** Runs `fn` over `items` with at most `width` at a time. */
export async function pool<T, R>(items: T[], width: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++
        out[i] = await fn(items[i]!, i)
      }
    }),
  )
  return out
}

export function tmpRoot(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `causeway-rel-${label}-`))
}

// Scratch directories on tmpfs (/dev/shm) where there is one: the trials that
// open thousands of copies pay for no disk fsync. The semantics checked do
// not depend on it (power loss is simulated, not real).
const SCRATCH_BASE = process.env.CAUSEWAY_RELIABILITY_TMP ?? (fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir())
const scratchMade: string[] = []
afterEach(() => {
  for (const d of scratchMade.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

/** A fresh temporary directory on tmpfs when available, removed after the test. */
export function scratch(label = 'store'): string {
  const d = fs.mkdtempSync(path.join(SCRATCH_BASE, `causeway-rel-${label}-`))
  scratchMade.push(d)
  return d
}
