/**
 * Target 7, compaction and snapshot killed at each step: a child runs one
 * compaction (retention, tombstone, merge) or one snapshot and is SIGKILLed
 * by the I/O interposer right before its k-th I/O step, for every step of
 * the action (and at the named kill points of native/kill_point.h).
 * Pass, compaction: the reopened store holds the old or the new generation
 * exactly (byte for byte), leaves no temporary file, a read-only open changes
 * no byte, and compacting again completes.
 * Pass, snapshot: the source is intact; the destination either does not
 * exist or is a complete store holding the source's events exactly; a
 * snapshot taken afterwards to the same place succeeds.
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, Region, Store } from '../../src/index.js'
import { tempDir } from '../helpers.js'
import { FULL, figure } from './profile.js'
import { copyDir, dirDigest, digestEqual, FIXTURES, ioEnv, readTrace, NO_INTERPOSER } from './tools.js'

const K = EventKind.custom(1, 1)
const SEG = 4096
const RUN = path.join(FIXTURES, 'compact-run.cjs')

function build(dir: string): void {
  const s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
  for (let i = 0; i < 160; i++) {
    s.append(new Coordinate(`acct:${i % 5}`, 'bank'), K, { n: i, pad: 'p'.repeat(60) }, i % 4 === 1 ? { idempotencyKey: `key-${i}` } : {})
  }
  s.close()
}

function rows(dir: string, readOnly = false): string[] {
  const s = Store.open({ dataDir: dir, segmentMaxBytes: SEG, readOnly })
  try {
    return s.query(Region.all()).map((e) => `${e.globalSequence} ${e.eventId} ${e.tombstoned} ${e.prevHash} ${Buffer.from(e.payloadBytes).toString('hex')}`)
  } finally {
    s.close()
  }
}

/** The op numbers of the action (between its "start" and "done" marks) in a traced clean run. */
function actionSteps(root: string, pristine: string, args: string[]): { steps: number[]; after: string } {
  const dir = copyDir(pristine, path.join(root, 'traced'))
  const trace = path.join(root, 'trace')
  const r = spawnSync(process.execPath, [RUN, dir, ...args.map((a) => a.replace('DEST', path.join(root, 'traced-snap')))], { env: ioEnv({ dir: root, trace }), encoding: 'utf8' })
  expect(r.status, r.stderr).toBe(0)
  const t = readTrace(trace)
  const start = t.marks.find((m) => m.text === 'start')!.after
  const done = t.marks.find((m) => m.text === 'done')!.after
  const steps = t.ops.filter((o) => o.n > start && o.n <= done).map((o) => o.n)
  return { steps, after: dir }
}

describe.skipIf(NO_INTERPOSER !== null)(`target 7: compaction and snapshot killed at each step${NO_INTERPOSER ? `: skipped, ${NO_INTERPOSER}` : ''}`, () => {
  const strategies = FULL ? ['retention', 'tombstone', 'merge'] : ['retention']
  it.each(strategies)('reopens as the old or the new generation exactly after a kill at any I/O step of a %s compaction', (strategy) => {
    const root = tempDir('compact')
    const pristine = path.join(root, 'pristine')
    build(pristine)
    const old = rows(pristine, true)
    const { steps, after } = actionSteps(root, pristine, [strategy])
    const fresh = rows(after)
    expect(fresh).not.toEqual(strategy === 'merge' ? [] : old)
    let olds = 0
    let news = 0
    for (const k of steps) {
      const dir = copyDir(pristine, path.join(root, `k${k}`))
      const r = spawnSync(process.execPath, [RUN, dir, strategy], { env: ioEnv({ dir, killAt: k }), encoding: 'utf8' })
      expect(r.signal, `kill at step ${k}: ${r.stderr}`).toBe('SIGKILL')
      const got = rows(dir)
      const isOld = JSON.stringify(got) === JSON.stringify(old)
      const isNew = JSON.stringify(got) === JSON.stringify(fresh)
      expect(isOld || isNew, `kill at step ${k}: neither the old nor the new generation (${got.length} events)`).toBe(true)
      if (isNew && !isOld) news++
      else olds++
      expect(fs.readdirSync(dir).filter((n) => /compact|marker|\.tmp$/.test(n)), `kill at step ${k}: leftovers`).toEqual([])
      const once = dirDigest(dir)
      Store.open({ dataDir: dir, readOnly: true }).close()
      expect(digestEqual(dirDigest(dir), once), `kill at step ${k}: a read-only open changed bytes`).toBe(true)
      const again = spawnSync(process.execPath, [RUN, dir, strategy], { encoding: 'utf8' })
      expect(again.status, again.stderr).toBe(0)
      expect(rows(dir), `kill at step ${k}: compacting again`).toEqual(fresh)
      fs.rmSync(dir, { recursive: true, force: true })
    }
    figure(7, `${strategy} compaction killed before each of its ${steps.length} I/O steps: ${olds} reopened as the old generation, ${news} as the new, 0 mixed, 0 leftovers; compacting again completed every time`, { strategy, steps: steps.length })
  })

  it.skipIf(typeof Store.prototype.snapshot !== 'function')('leaves no snapshot or a complete one after a kill at any step of a snapshot, the source intact', () => {
    const root = tempDir('snapshot')
    const pristine = path.join(root, 'pristine')
    build(pristine)
    const old = rows(pristine, true)
    const { steps } = actionSteps(root, pristine, ['snapshot', 'DEST'])
    const points = ['snapshot:sealed-linked', 'snapshot:active-copied', 'snapshot:renamed']
    let absent = 0
    let complete = 0
    const trial = (label: string, env: NodeJS.ProcessEnv, dir: string, dest: string) => {
      const r = spawnSync(process.execPath, [RUN, dir, 'snapshot', dest], { env, encoding: 'utf8' })
      expect(r.signal, `${label}: ${r.stderr}`).toBe('SIGKILL')
      expect(rows(dir), `${label}: source changed`).toEqual(old)
      if (fs.existsSync(dest)) {
        expect(rows(dest, true), `${label}: the snapshot is not the source's events exactly`).toEqual(old)
        complete++
        fs.rmSync(dest, { recursive: true, force: true })
      } else absent++
      const again = spawnSync(process.execPath, [RUN, dir, 'snapshot', dest], { encoding: 'utf8' })
      expect(again.status, `${label}: snapshot again: ${again.stderr}`).toBe(0)
      expect(rows(dest, true)).toEqual(old)
    }
    for (const k of steps) {
      const box = path.join(root, `k${k}`)
      fs.mkdirSync(box)
      const dir = copyDir(pristine, path.join(box, 'store'))
      trial(`kill at step ${k}`, ioEnv({ dir: box, killAt: k }), dir, path.join(box, 'snap'))
      fs.rmSync(box, { recursive: true, force: true })
    }
    for (const p of points) {
      const box = path.join(root, p.replace(':', '-'))
      fs.mkdirSync(box)
      const dir = copyDir(pristine, path.join(box, 'store'))
      trial(`kill point ${p}`, { ...process.env, CAUSEWAY_KILL_AT: p }, dir, path.join(box, 'snap'))
    }
    figure(7, `snapshot killed before each of its ${steps.length} I/O steps and at its ${points.length} kill points: ${absent} left no destination, ${complete} a complete one, 0 partial; source intact and a new snapshot succeeded every time`, { steps: steps.length })
  })
})
