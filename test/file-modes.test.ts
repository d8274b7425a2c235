// Files the store and the CLI write are private by default (0600, directories
// 0700), or get the `fileMode` asked for (0640 gives 0750 directories), never
// wider than the umask allows. Each case runs in a child process whose umask
// is set first, so the modes seen are what the code asked for.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, isCausewayError, Store } from '../src/index.js'
import { fileMode } from '../src/cli/parse.js'
import { BIN, cli, sh } from './cli-helpers.js'
import { repoRoot, segmentFiles, tempDir } from './helpers.js'

const DIST = path.join(repoRoot, 'dist/cjs/index.js')
const Noted = EventKind.custom(1, 1)

/**
 * In a child with `umask`: a store of several segments (rolled), a cursor
 * checkpoint, a retention compaction that leaves retired keys and heads, a
 * snapshot, and a close (index checkpoint).
 */
function writeEverything(dir: string, snap: string, umask: number, fileMode?: number): void {
  const script = `
    process.umask(${umask})
    const { Store, Coordinate, EventKind, Region } = require(${JSON.stringify(DIST)})
    const s = Store.open({ dataDir: ${JSON.stringify(dir)}, segmentMaxBytes: 4096${fileMode === undefined ? '' : `, fileMode: ${fileMode}`} })
    const k = EventKind.custom(1, 1)
    for (let i = 0; i < 3; i++) s.append(new Coordinate('gone:1', 's'), k, { i }, { idempotencyKey: 'gone-' + i })
    for (let i = 0; i < 60; i++) s.append(new Coordinate('e:' + (i % 3), 's'), k, { i, pad: 'x'.repeat(200) }, { idempotencyKey: 'key-' + i })
    const c = s.cursor(Region.all(), { checkpoint: 'mailer' })
    c.pollBatch(10)
    c.commit()
    s.compact({ strategy: 'retention', keep: (e) => e.coordinate.entity !== 'gone:1' })
    s.snapshot(${JSON.stringify(snap)})
    s.close()`
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
  expect(r.stderr).toBe('')
  expect(r.status).toBe(0)
}

/** Every file and directory under `root` (itself included), as path relative to root -> 'f'|'d' and mode. */
function modes(root: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (p: string): void => {
    const st = fs.lstatSync(p)
    out[path.relative(root, p) || '.'] = `${st.isDirectory() ? 'd' : 'f'}${(st.mode & 0o777).toString(8)}`
    if (st.isDirectory()) for (const n of fs.readdirSync(p)) walk(path.join(p, n))
  }
  walk(root)
  return out
}

function expectAll(root: string, file: string, dir: string): void {
  const m = modes(root)
  const want = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v[0] === 'd' ? `d${dir}` : `f${file}`]))
  expect(m).toEqual(want)
}

const posix = process.platform !== 'win32'

describe.runIf(posix)('file modes', () => {
  it('creates every file 0600 and directory 0700 by default, even under umask 0', () => {
    const base = tempDir('modes')
    const dir = path.join(base, 'data')
    const snap = path.join(base, 'snap')
    writeEverything(dir, snap, 0)
    const m = modes(dir)
    // The things this test means to cover are there.
    expect(Object.keys(m)).toEqual(
      expect.arrayContaining(['.', 'LOCK', 'index.ckpt', 'retired.keys', 'retired.heads', 'cursors', 'cursors/mailer.json']),
    )
    expect(segmentFiles(dir).length).toBeGreaterThanOrEqual(2) // rolled (compaction merged the sealed ones)
    expectAll(dir, '600', '700')
    expect(Object.keys(modes(snap))).toEqual(expect.arrayContaining(['retired.keys', 'retired.heads']))
    expectAll(snap, '600', '700')
  })

  it('gives fileMode 0o640 to files and 0750 to directories', () => {
    const base = tempDir('modes')
    const dir = path.join(base, 'data')
    const snap = path.join(base, 'snap')
    writeEverything(dir, snap, 0, 0o640)
    expectAll(dir, '640', '750')
    expectAll(snap, '640', '750')
  })

  it('never widens past the umask (fileMode 0o660 under umask 027 gives 0640)', () => {
    const base = tempDir('modes')
    const dir = path.join(base, 'data')
    const snap = path.join(base, 'snap')
    writeEverything(dir, snap, 0o027, 0o660)
    expectAll(dir, '640', '750')
    expectAll(snap, '640', '750')
  })

  it('refuses a fileMode without owner read and write, or out of range, with InvalidArgumentError and creates nothing', () => {
    const base = tempDir('modes')
    const dir = path.join(base, 'data')
    for (const fileMode of [0o400, 0o644 | 0o1000, 0o500, -1, 1.5, '640', 0o200]) {
      let err: unknown
      try {
        Store.open({ dataDir: dir, fileMode: fileMode as number })
      } catch (e) {
        err = e
      }
      expect(isCausewayError(err, 'E_INVALID_ARGUMENT'), String(fileMode)).toBe(true)
      expect(String((err as Error).message)).toMatch(/fileMode/)
    }
    expect(fs.existsSync(dir)).toBe(false)
  })

  it('makes CLI export, import and snapshot write private files under umask 0, or --file-mode ones', () => {
    const base = tempDir('modes')
    const src = path.join(base, 'src')
    const s = Store.open({ dataDir: src, segmentMaxBytes: 4096 })
    for (let i = 0; i < 30; i++) s.append(new Coordinate(`e:${i % 3}`, 's'), Noted, { i, pad: 'y'.repeat(200) })
    s.close()
    const run = (args: string): void => {
      const r = sh(`umask 0 && ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} ${args}`)
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
    }
    const q = (p: string): string => JSON.stringify(p)
    run(`export ${q(src)} -o ${q(path.join(base, 'out.jsonl'))}`)
    run(`export ${q(src)} -o ${q(path.join(base, 'group.jsonl'))} --file-mode 640`)
    run(`import ${q(path.join(base, 'out.jsonl'))} ${q(path.join(base, 'imported'))}`)
    run(`import ${q(path.join(base, 'out.jsonl'))} ${q(path.join(base, 'imported-g'))} --file-mode 0640`)
    run(`snapshot ${q(path.join(base, 'imported'))} ${q(path.join(base, 'snap'))}`)
    run(`snapshot ${q(path.join(base, 'imported-g'))} ${q(path.join(base, 'snap-g'))} --file-mode 0o640`)
    expect(modes(path.join(base, 'out.jsonl'))).toEqual({ '.': 'f600' })
    expect(modes(path.join(base, 'group.jsonl'))).toEqual({ '.': 'f640' })
    expectAll(path.join(base, 'imported'), '600', '700')
    expectAll(path.join(base, 'snap'), '600', '700')
    expectAll(path.join(base, 'imported-g'), '640', '750')
    expectAll(path.join(base, 'snap-g'), '640', '750')
  })

  it('refuses a --file-mode without owner read and write as wrong usage (exit 2), creating nothing', () => {
    for (const ok of ['600', '0640', '0o777']) expect(fileMode(ok)).toBe(Number.parseInt(ok.replace(/^0o?/, ''), 8))
    for (const bad of ['400', '1644', '0o500', 'rw', '0o9', '64']) expect(() => fileMode(bad), bad).toThrow(/owner read and write/)
    const base = tempDir('modes')
    const r = cli(['import', '-', path.join(base, 'x'), '--file-mode', '400'], '')
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/file-mode/)
    expect(fs.existsSync(path.join(base, 'x'))).toBe(false)
  })

  // Another local user (nobody) must not read a segment: the point of the modes.
  const asNobody = (file: string): ReturnType<typeof spawnSync> =>
    spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', `require('fs').readFileSync(${JSON.stringify(file)})`], {
      encoding: 'utf8',
    })
  const root = process.getuid?.() === 0
  const hasSetpriv = spawnSync('setpriv', ['--version']).status === 0
  it.skipIf(!root || !hasSetpriv)('keeps segments unreadable to another user (EACCES as nobody)', () => {
    // Skipped unless root with setpriv: only root can become another user.
    const base = tempDir('modes')
    fs.chmodSync(base, 0o755) // so nobody can reach the store and is stopped by its own modes
    const dir = path.join(base, 'data')
    const s = Store.open({ dataDir: dir })
    s.append(new Coordinate('e:1', 's'), Noted, { secret: 'personal data' })
    s.close()
    const seg = segmentFiles(dir)[0]!
    const refused = (): void => {
      const r = asNobody(seg)
      expect(r.status).not.toBe(0)
      expect(String(r.stderr)).toMatch(/EACCES/)
    }
    refused() // the directory (0700) stops nobody
    fs.chmodSync(dir, 0o755)
    refused() // and so does the file's own mode (0600)
    fs.chmodSync(seg, 0o644)
    expect(asNobody(seg).status).toBe(0) // the refusals came from the modes, not from setpriv
  })
})
