import { spawn } from 'node:child_process'
import * as path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Coordinate, EventKind, Store } from '../src/index.js'
import { cli } from './cli-helpers.js'
import { tempDir } from './helpers.js'

// Several processes, one store (issue 15), its first part: `causeway
// snapshot` beside a writer in another process appending at full speed.
let writer: ReturnType<typeof spawn> | undefined
afterEach(() => {
  writer?.kill('SIGKILL')
  writer = undefined
})

/** Starts the busy writer; resolves with a function reading the last "synced <n>" it printed. */
function busyWriter(dir: string, atLeast: number): Promise<() => number> {
  const child = spawn(process.execPath, [path.join(__dirname, 'fixtures/busy-writer.cjs'), dir], { stdio: ['ignore', 'pipe', 'inherit'] })
  writer = child
  let synced = 0
  let tail = ''
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`the writer synced only ${synced} events in 30 s`)), 30_000)
    child.stdout!.on('data', (d: Buffer) => {
      const lines = (tail + d.toString()).split('\n')
      tail = lines.pop() ?? ''
      for (const l of lines) if (l.startsWith('synced ')) synced = Number(l.slice(7))
      if (synced >= atLeast) {
        clearTimeout(deadline)
        resolve(() => synced)
      }
    })
    child.on('exit', (code) => reject(new Error(`the writer exited (${code})`)))
  })
}

describe('causeway snapshot beside a running writer', () => {
  it('copies a store another process is appending to, holding every event it had synced, instead of StoreLockedError', async () => {
    const dir = tempDir('live')
    const syncedNow = await busyWriter(dir, 3000)
    const before = syncedNow()
    const dest = path.join(tempDir('live-copy'), 'copy')
    const r = cli(['snapshot', dir, dest, '--json']) // blocks this process; the writer goes on
    await new Promise((resolve) => setTimeout(resolve, 300)) // its output since then arrives
    const during = syncedNow()
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ live: true })
    expect(during).toBeGreaterThan(before) // the writer kept appending meanwhile
    writer!.kill('SIGKILL')
    const copy = Store.open({ dataDir: dest, readOnly: true })
    const events = copy.readFiltered({})
    copy.close()
    expect(events.length).toBeGreaterThanOrEqual(before)
    expect(events.map((e) => Number(e.globalSequence))).toEqual(events.map((_, i) => i)) // gapless from 0
    const v = cli(['verify', dest, '--json'])
    expect(v.code, v.stdout + v.stderr).toBe(0)
  })

  it('compacts through the running writer from the CLI while it appends at full speed, keeping every event', async () => {
    const dir = tempDir('live-compact')
    const syncedNow = await busyWriter(dir, 5000)
    const before = syncedNow()
    const r = cli(['compact', dir, '--json']) // a client of the writer: the writer compacts
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as { byWriter: boolean; report: { performed: boolean; segmentsAfter: number; segmentsBefore: number } }
    expect(out.byWriter).toBe(true)
    expect(out.report.performed).toBe(true)
    expect(out.report.segmentsAfter).toBeLessThan(out.report.segmentsBefore)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(syncedNow()).toBeGreaterThan(before) // the writer kept appending
    writer!.kill('SIGKILL')
    await new Promise((resolve) => writer!.once('exit', resolve))
    const s = Store.open({ dataDir: dir })
    const events = s.readFiltered({})
    s.close()
    expect(events.length).toBeGreaterThanOrEqual(syncedNow())
    expect(events.map((e) => Number(e.globalSequence))).toEqual(events.map((_, i) => i))
    const v = cli(['verify', dir, '--json'])
    expect(v.code, v.stdout + v.stderr).toBe(0)
  })

  it('answers stats, verify, export and tail beside the writer, each from a read-only open', async () => {
    const dir = tempDir('live-reads')
    const syncedNow = await busyWriter(dir, 2000)
    const before = syncedNow()
    const stats = cli(['stats', dir, '--json'])
    expect(stats.code, stats.stderr).toBe(0)
    expect(JSON.parse(stats.stdout).events).toBeGreaterThanOrEqual(before)
    const verify = cli(['verify', dir, '--json'])
    expect(verify.code, verify.stdout + verify.stderr).toBe(0)
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true })
    const exported = cli(['export', dir])
    expect(exported.code, exported.stderr).toBe(0)
    expect(exported.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(before)
    // Exactly the last 3, however fast the writer appends meanwhile (it printed every later event, megabytes of them, until it caught up)
    const tail = cli(['tail', dir, '-n', '3', '--json'])
    expect(tail.code, tail.stderr).toBe(0)
    const seqs = tail.stdout.trim().split('\n').map((l) => BigInt((JSON.parse(l) as { globalSequence: string }).globalSequence))
    expect(seqs).toHaveLength(3)
    expect(seqs[1]! - seqs[0]!).toBe(1n)
    expect(seqs[2]! - seqs[1]!).toBe(1n)
    // --from prints what the store held at its start, then exits
    const from = cli(['tail', dir, '--from', String(seqs[2]! - 50n), '--json'])
    expect(from.code, from.stderr).toBe(0)
    const got = from.stdout.trim().split('\n').map((l) => BigInt((JSON.parse(l) as { globalSequence: string }).globalSequence))
    expect(got[0]).toBe(seqs[2]! - 50n)
    expect(got.every((q, i) => q === got[0]! + BigInt(i))).toBe(true)
  })

  it('still takes a writable snapshot when no writer runs', () => {
    const dir = tempDir('idle')
    const s = Store.open({ dataDir: dir })
    for (let i = 0; i < 10; i++) s.append(new Coordinate('order:1', 'shop'), EventKind.custom(1, 1), { i })
    s.close()
    const dest = path.join(tempDir('idle-copy'), 'copy')
    const r = cli(['snapshot', dir, dest, '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ live: false, report: { sequence: '10' } })
  })
})
