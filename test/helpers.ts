import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterEach } from 'vitest'

const made: string[] = []

/** A fresh temporary directory, removed after the test. */
export function tempDir(label = 'store'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `causeway-${label}-`))
  made.push(d)
  return d
}

afterEach(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

/** name -> sha256 of every file in a directory: proves "no byte changed". */
export function dirDigest(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const n of fs.readdirSync(dir).sort()) {
    const p = path.join(dir, n)
    if (fs.statSync(p).isFile()) out[n] = createHash('sha256').update(fs.readFileSync(p)).digest('hex')
  }
  return out
}

/**
 * The files of an open store as a crash would leave them: copied while the
 * store is open, so they hold what the page cache holds, unsealed.
 */
export function crashImage(dir: string): string {
  const dst = tempDir('crash')
  // Files only: the writer's socket (writer.sock) holds no data.
  for (const n of fs.readdirSync(dir)) if (fs.lstatSync(path.join(dir, n)).isFile()) fs.copyFileSync(path.join(dir, n), path.join(dst, n))
  return dst
}

export function segmentFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.cwseg'))
    .sort()
    .map((n) => path.join(dir, n))
}

export const repoRoot = path.resolve(__dirname, '..')

/**
 * Keeps a store from installing index files for its first 64 segments: a
 * directory in each file's place makes the rename fail (holding a file, so
 * the store's removal of stray names fails on it too), and every row stays
 * in memory and in the checkpoint, as in the versions before index files.
 */
export function blockIndexFiles(dir: string): void {
  fs.mkdirSync(dir, { recursive: true })
  for (let id = 1; id <= 64; id++) {
    const d = path.join(dir, `${id.toString(16).padStart(16, '0')}.cwidx`)
    fs.mkdirSync(d)
    fs.writeFileSync(path.join(d, 'keep'), '')
  }
}

/**
 * Cuts each segment's footer off and removes its index file (`.cwidx`), so
 * an open without a checkpoint must scan (and check) every frame.
 */
export function stripFooters(dir: string): void {
  const magic = Buffer.from('CWFOOTv1')
  for (const f of segmentFiles(dir)) {
    const b = fs.readFileSync(f)
    const at = b.lastIndexOf(magic)
    if (at > 0) fs.truncateSync(f, at)
    const part = f.replace(/\.cwseg$/, '.cwidx')
    if (fs.existsSync(part) && fs.statSync(part).isFile()) fs.rmSync(part)
  }
}

/** The frames of a segment file, from their length fields; stops at the footer of a sealed one. */
export function frameOffsets(b: Buffer): Array<{ at: number; len: number; span: number }> {
  const out: Array<{ at: number; len: number; span: number }> = []
  for (let at = 128; at + 8 <= b.length; ) {
    if (b.toString('latin1', at, at + 8) === 'CWFOOTv1') break
    const len = b.readUInt32LE(at)
    if (len === 0 || at + len > b.length) break
    const span = (len + 7) & ~7
    out.push({ at, len, span })
    at += span
  }
  return out
}

/** The error `f` throws (fails the test when it returns), for asserting its fields. */
export function thrown(f: () => unknown): Record<string, unknown> & Error {
  try {
    f()
  } catch (e) {
    return e as Record<string, unknown> & Error
  }
  throw new Error('expected a throw')
}
