// The causeway CLI changing a store's files: compact and snapshot, killed at
// each step, dry runs, refusals (helpers in cli-helpers.ts).
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { Coordinate, Region, Store } from '../src/index.js'
import { segmentFiles, tempDir } from './helpers.js'
import { BIN, Charged, cli, events, requireBuild, shop } from './cli-helpers.js'

beforeAll(requireBuild)

describe('causeway compact and snapshot', () => {
  it.each(['compact:replacement-partly-written', 'compact:marker-written', 'compact:first-source-removed'])(
    'killed during compaction at %s, leaves a store that opens as the old or the new generation and verifies',
    (point) => {
      const { dir } = shop()
      const all = (() => {
        const s = Store.open({ dataDir: dir, readOnly: true })
        const ids = s.query(Region.all()).map((e) => e.eventId)
        s.close()
        return ids
      })()
      const r = spawnSync(process.execPath, [BIN, 'compact', dir, '--strategy', 'retention', '--drop-entity', 'mail'], {
        encoding: 'utf8',
        env: { ...process.env, CAUSEWAY_KILL_AT: point },
      })
      expect(r.signal).toBe('SIGKILL')
      const v = cli(['verify', dir, '--json'])
      expect(v.code, v.stdout).toBe(0)
      const s = Store.open({ dataDir: dir })
      const ids = s.query(Region.all()).map((e) => e.eventId)
      const mail = s.query(Region.entity('mail')).length
      s.close()
      // Old generation: every event. New: the sealed mail events gone, nothing else.
      if (ids.length === all.length) expect(ids).toEqual(all)
      else {
        expect(mail).toBeLessThan(30)
        expect(ids.every((id) => all.includes(id))).toBe(true)
      }
    },
  )

  it.each(['snapshot:sealed-linked', 'snapshot:active-copied'])('killed during snapshot at %s, leaves no half-made copy', (point) => {
    const { dir } = shop()
    const dest = path.join(tempDir('cli-snap'), 'copy')
    const r = spawnSync(process.execPath, [BIN, 'snapshot', dir, dest], { encoding: 'utf8', env: { ...process.env, CAUSEWAY_KILL_AT: point } })
    expect(r.signal).toBe('SIGKILL')
    expect(fs.existsSync(dest)).toBe(false)
    const again = cli(['snapshot', dir, dest, '--json'])
    expect(again.code, again.stderr).toBe(0)
    expect(cli(['verify', dest]).code).toBe(0)
  })

  it('--dry-run counts what the drop rules would remove and changes nothing', () => {
    const { dir } = shop()
    const before = fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f))] as const)
    const r = cli(['compact', dir, '--strategy', 'retention', '--drop-entity', 'mail', '--keep-kinds', '1:*,2:1,3:1,4:1', '--dry-run', '--json'])
    expect(r.code, r.stderr).toBe(0)
    // 30 mail events, and 60 notes (kind 5:7) outside --keep-kinds; the system event is kept.
    expect(JSON.parse(r.stdout)).toMatchObject({ dryRun: true, events: 181, wouldDrop: 90, wouldKeep: 91, byEntityPrefix: { order: 60, mail: 30 } })
    for (const [f, bytes] of before) expect(fs.readFileSync(path.join(dir, f)).equals(bytes), f).toBe(true)
    expect(cli(['compact', dir, '--strategy', 'retention']).code).toBe(2) // no drop rule
  })

  it(
    'merges sealed segments and applies retention rules; the store still verifies',
    () => {
      const { dir } = shop()
      const segments = segmentFiles(dir).length
      const merge = cli(['compact', dir, '--json'])
      expect(merge.code, merge.stderr).toBe(0)
      expect(JSON.parse(merge.stdout).report).toMatchObject({ performed: true })
      expect(segmentFiles(dir).length).toBeLessThan(segments)
      const retention = cli(['compact', dir, '--strategy', 'retention', '--drop-entity', 'mail', '--min-segments', '1'])
      expect(retention.code, retention.stderr).toBe(0)
      expect(retention.stdout).toMatch(/eventsDropped\s+[1-9]/)
      // Sealed segments lose their mail events; the active segment is not rewritten.
      const mails = events(dir).filter((e) => e.coordinate.entity.startsWith('mail:')).length
      expect(mails).toBeLessThan(30)
      expect(cli(['verify', dir]).code).toBe(0)
    },
  )

  it(
    'tombstones events; verify and walk treat an emptied payload as compaction, not damage',
    () => {
      const a = shop()
      const r = cli(['compact', a.dir, '--strategy', 'tombstone', '--drop-entity', 'payment:1', '--min-segments', '1', '--json'])
      expect(r.code, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout).report).toMatchObject({ performed: true, eventsTombstoned: 1 })
      // payment:1 goes on after its tombstone: the next link must still hold.
      const s = Store.open({ dataDir: a.dir })
      s.append(new Coordinate('payment:1', 'billing'), Charged, { amount: 1 })
      s.close()
      const v = cli(['verify', a.dir])
      expect(v.code, v.stdout).toBe(0)
      expect(v.stdout).toContain('(1 tombstoned event: compaction emptied the payload')
      expect(cli(['tail', a.dir, '--entity', 'payment:1']).stdout).toMatch(/^#1 \S+ payment:1 @billing 0x2001 \(tombstoned\)$/m)
      const w = cli(['walk', a.dir, a.placed])
      expect(w.code, w.stdout).toBe(0)
      // A tombstone is not damage: its recorded hash still links the chain.
      expect(w.stdout).toMatch(/payment:1: \d+ events? back to its first, every hash and link verified/)
    },
  )

  it(
    'writes a snapshot that verifies and holds the same events',
    () => {
      const { dir } = shop()
      const dest = path.join(tempDir('cli-snap'), 'snap')
      const r = cli(['snapshot', dir, dest])
      expect(r.code, r.stderr).toBe(0)
      expect(cli(['verify', dest]).code).toBe(0)
      expect(events(dest).map((e) => e.eventId)).toEqual(events(dir).map((e) => e.eventId))
      expect(cli(['snapshot', dir, dest]).code).toBe(2) // not an empty directory
    },
  )

})
