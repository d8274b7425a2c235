import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, InvalidArgumentError, Store, type MaintenanceCounters, type Projection } from '../src/index.js'
import { tempDir } from './helpers.js'
import { FIX, exited, run, until } from './process-helpers.js'

const Tick = EventKind.custom(1, 1)
const SEG = 4096

function fill(store: Store, n: number, from = 0): void {
  const c = new Coordinate('meter:1', 'plant')
  for (let i = from; i < from + n; i++) store.append(c, Tick, { n: i, pad: 'x'.repeat(40) })
}

const counters = (s: Store): MaintenanceCounters => s.metrics().maintenance!
const keepEven = (e: { payload: unknown }) => (e.payload as { n: number }).n % 2 === 0
const count: Projection<number> = { name: 'count', version: 1, init: () => 0, apply: (n) => n + 1 }

describe('automatic maintenance', () => {
  it('compacts in the background once enough segments are sealed, while appends go on', async () => {
    const dir = tempDir()
    const s = Store.open({
      dataDir: dir,
      segmentMaxBytes: SEG,
      maintenance: { checkEveryMs: 10, compact: { when: { sealedSegments: 3 }, strategy: 'retention', keep: keepEven } },
    })
    fill(s, 300)
    let appended = 300
    await until('a background compaction', () => {
      fill(s, 1, appended++)
      return counters(s).compactions > 0
    })
    const m = counters(s)
    expect(m).toMatchObject({ failures: 0, lastError: null })
    expect(m.eventsDropped).toBeGreaterThan(0)
    expect(m.lastCompactionAt).toBeInstanceOf(Date)
    expect(s.stats().events).toBe(appended - m.eventsDropped)
    expect(s.diagnostics().maintenance).toMatchObject({ compactions: m.compactions, eventsDropped: m.eventsDropped })
    s.close()
  })

  it('compacts when the dead fraction of sealed events reaches the threshold, not before', async () => {
    const dir = tempDir()
    const s = Store.open({
      dataDir: dir,
      segmentMaxBytes: SEG,
      maintenance: { checkEveryMs: 10, compact: { when: { deadFraction: 0.4 }, strategy: 'tombstone', keep: (e) => (e.payload as { n: number }).n >= 40 } },
    })
    fill(s, 200, 40) // nothing dead
    await new Promise((r) => setTimeout(r, 100))
    expect(counters(s).compactions).toBe(0)
    s.close()
    const t = Store.open({
      dataDir: dir,
      segmentMaxBytes: SEG,
      maintenance: { checkEveryMs: 10, compact: { when: { deadFraction: 0.4 }, strategy: 'tombstone', keep: keepEven } },
    })
    await until('a compaction at half the events dead', () => counters(t).compactions > 0)
    expect(counters(t).failures).toBe(0)
    t.close()
  })

  it('takes snapshots every interval into their own directories and prunes beyond keep', async () => {
    const dir = tempDir()
    const to = tempDir('snaps')
    fs.mkdirSync(path.join(to, 'not-mine'))
    const s = Store.open({ dataDir: dir, maintenance: { checkEveryMs: 10, snapshot: { every: 20, to, keep: 2 } } })
    fill(s, 20)
    await until('four snapshots', () => counters(s).snapshots >= 4)
    s.close()
    const snaps = fs.readdirSync(to).filter((n) => n.startsWith('snapshot-'))
    expect(snaps).toHaveLength(2)
    expect(fs.existsSync(path.join(to, 'not-mine'))).toBe(true)
    // Each is a whole, openable store.
    const copy = Store.open({ dataDir: path.join(to, snaps[1]!), readOnly: true })
    expect(copy.stats().events).toBe(20)
    copy.close()
  })

  it('refuses bad maintenance options with a typed error and opens nothing', () => {
    const dir = path.join(tempDir(), 'never')
    const bad: unknown[] = [
      { compact: { when: { sealedSegments: 0 }, strategy: 'merge' } },
      { compact: { when: { deadFraction: 0.5 }, strategy: 'merge' } },
      { compact: { when: { deadFraction: 1.5 }, strategy: 'retention', keep: () => true } },
      { compact: { when: { sealedSegments: 2, deadFraction: 0.5 }, strategy: 'merge' } },
      { compact: { when: { sealedSegments: 2 }, strategy: 'retention' } },
      { compact: { when: { sealedSegments: 2 }, strategy: 'shred' } },
      { compact: { when: { sealedSegments: 2 }, strategy: 'merge', often: true } },
      { snapshot: { every: 0, to: tempDir('s'), keep: 1 } },
      { snapshot: { every: 10, to: tempDir('s'), keep: 0 } },
      { snapshot: { every: 10, to: path.join(dir, 'backups'), keep: 1 } },
      { snapshot: { every: 10, keep: 1 } },
      { checkEveryMs: 1, snapshot: { every: 10, to: tempDir('s'), keep: 1 } },
      { nightly: true },
      {},
      'daily',
    ]
    for (const m of bad) expect(() => Store.open({ dataDir: dir, maintenance: m as never }), JSON.stringify(m)).toThrow(InvalidArgumentError)
    expect(fs.existsSync(dir)).toBe(false)
  })

  it('a client process runs no maintenance, and its timers never hold it open', async () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    fill(s, 300)
    let out = ''
    const child = run('maintainer.cjs', [dir, 'idle'], (l) => (out = l))
    await exited(child) // the child never closes its store
    expect(child.exitCode).toBe(0)
    expect(JSON.parse(out)).toMatchObject({ role: 'client', maintenance: { compactions: 0, failures: 0 } })
    expect(s.stats().events).toBe(300)
    s.close()
  })

  // One kill point in npm test; every compaction kill point with CAUSEWAY_MAINTENANCE_KILLS=1 (test:full).
  const points = process.env.CAUSEWAY_MAINTENANCE_KILLS
    ? ['compact:checkpoint-removed', 'compact:replacement-partly-written', 'compact:replacement-written', 'compact:marker-written', 'compact:renamed', 'compact:sources-removed']
    : ['compact:marker-written']
  it.each(points)('a maintenance run killed at %s leaves the old or new generation and reuses no projection state', (point) => {
    const dir = tempDir()
    let s = Store.open({ dataDir: dir, segmentMaxBytes: SEG, projectionSnapshots: true })
    fill(s, 200)
    expect(s.project('meter:1', count).state).toBe(200)
    s.close()
    const killed = spawnSync(process.execPath, [path.join(FIX, 'maintainer.cjs'), dir, 'compact'], {
      env: { ...process.env, CAUSEWAY_KILL_AT: point },
      timeout: 20_000,
    })
    expect(killed.signal).toBe('SIGKILL')
    s = Store.open({ dataDir: dir, segmentMaxBytes: SEG, projectionSnapshots: true })
    const events = s.stream('meter:1')
    // The old generation (all 200) or the new one (odd events of sealed segments gone); every even one stands.
    const committed = !['compact:checkpoint-removed', 'compact:replacement-partly-written', 'compact:replacement-written'].includes(point)
    if (committed) expect(events.length).toBeLessThan(200)
    else expect(events).toHaveLength(200)
    expect(events.filter((e) => (e.payload as { n: number }).n % 2 === 0)).toHaveLength(100)
    // The compaction's epoch was left busy by a dead process: the snapshot from before is not trusted.
    const r = s.project('meter:1', count)
    expect(r).toMatchObject({ cacheHit: false, state: events.length })
    expect(s.verifyChain().contentMismatches).toEqual([])
    fill(s, 100, 200) // more sealed segments to compact
    s.close()
    // And maintenance completes a compaction on the store afterwards.
    const done = spawnSync(process.execPath, [path.join(FIX, 'maintainer.cjs'), dir, 'compact'], { encoding: 'utf8', timeout: 20_000 })
    expect(done.status).toBe(0)
    expect(JSON.parse(done.stdout)).toMatchObject({ role: 'writer', maintenance: { compactions: 1, failures: 0 } })
  })

  // With the other kill points: CAUSEWAY_MAINTENANCE_KILLS=1 (test:full).
  it.runIf(process.env.CAUSEWAY_MAINTENANCE_KILLS)('a maintenance snapshot killed midway leaves no snapshot, and the next run clears its leftovers', () => {
    const dir = tempDir()
    const to = tempDir('snaps')
    const s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
    fill(s, 100)
    s.close()
    const fixture = path.join(FIX, 'maintainer.cjs')
    const killed = spawnSync(process.execPath, [fixture, dir, 'snapshot', to], { env: { ...process.env, CAUSEWAY_KILL_AT: 'snapshot:active-copied' }, timeout: 20_000 })
    expect(killed.signal).toBe('SIGKILL')
    expect(fs.readdirSync(to).filter((n) => !n.includes('.tmp-'))).toEqual([])
    expect(fs.readdirSync(to).filter((n) => n.includes('.tmp-'))).toHaveLength(1)
    const done = spawnSync(process.execPath, [fixture, dir, 'snapshot', to], { encoding: 'utf8', timeout: 20_000 })
    // At least one: with snapshot.every 1 ms a second may finish before the fixture's 10 ms poll sees the first.
    const m = (JSON.parse(done.stdout) as { maintenance: { snapshots: number; failures: number } }).maintenance
    expect(m.failures).toBe(0)
    expect(m.snapshots).toBeGreaterThanOrEqual(1)
    const left = fs.readdirSync(to) // keep: 1
    expect(left).toHaveLength(1)
    const copy = Store.open({ dataDir: path.join(to, left[0]!), readOnly: true })
    expect(copy.stats().events).toBe(100)
    copy.close()
  })
})
