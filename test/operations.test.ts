import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, InvalidArgumentError, Region, Store, StoreLockedError } from '../src/index.js'
import { tempDir } from './helpers.js'

const K = EventKind.custom(1, 1)

function payloads(s: Store): number[] {
  return s.query(Region.all()).map((e) => (e.payload as { n: number }).n)
}

/** A writer process answering "ok <nextSequence>" to each command. */
class Daemon {
  private readonly child: ChildProcessWithoutNullStreams
  private buf = ''
  private waiting: Array<(n: number) => void> = []
  constructor(dir: string) {
    this.child = spawn(process.execPath, [path.join(__dirname, 'fixtures/writer-daemon.cjs'), dir])
    this.child.stdout.on('data', (d: Buffer) => {
      this.buf += d.toString()
      let nl: number
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl)
        this.buf = this.buf.slice(nl + 1)
        this.waiting.shift()?.(Number(line.split(' ')[1]))
      }
    })
  }
  next(): Promise<number> {
    return new Promise((r) => this.waiting.push(r))
  }
  send(cmd: string): Promise<number> {
    const p = this.next()
    this.child.stdin.write(cmd + '\n')
    return p
  }
}

describe('snapshot', () => {
  it('copies a consistent, openable store while a worker keeps appending', async () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir, segmentMaxBytes: 4096 })
    for (let i = 0; i < 200; i++) s.append(new Coordinate(`e:${i % 4}`, 's'), K, { n: i })
    const worker = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads')
       const { Store, Coordinate, EventKind } = require(${JSON.stringify(path.join(__dirname, '../dist/cjs/index.js'))})
       const s = Store.open({ dataDir: workerData.dir, segmentMaxBytes: 4096 })
       parentPort.postMessage('ready')
       for (let i = 200; i < 2200; i++) s.append(new Coordinate('e:' + (i % 4), 's'), EventKind.custom(1, 1), { n: i })
       s.close(); parentPort.postMessage('done')`,
      { eval: true, workerData: { dir } },
    )
    await new Promise((r) => worker.once('message', r))
    const done = new Promise((r) => worker.once('message', r))
    const dest = path.join(tempDir('snap'), 'copy')
    const rep = s.snapshot(dest)
    await done
    await worker.terminate()
    expect(rep.sequence).toBeGreaterThanOrEqual(200n)
    expect(rep.linked).toBeGreaterThan(0)
    const copy = Store.open({ dataDir: dest, segmentMaxBytes: 4096 })
    const got = payloads(copy)
    expect(got).toEqual(payloads(s).slice(0, Number(rep.sequence)))
    // The copy's chains are intact and it accepts appends of its own.
    copy.append(new Coordinate('e:0', 's'), K, { n: -1 })
    copy.close()
    expect(payloads(s).length).toBe(2200)
    expect(() => s.snapshot(dest)).toThrow(InvalidArgumentError) // not empty
    s.close()
  })

  it.each(['snapshot:sealed-linked', 'snapshot:active-copied', 'snapshot:renamed'])(
    'leaves no destination or a complete one when killed at %s',
    (point) => {
      const dir = tempDir()
      const s = Store.open({ dataDir: dir, segmentMaxBytes: 4096 })
      for (let i = 0; i < 150; i++) s.append(new Coordinate('e', 's'), K, { n: i })
      s.close()
      const dest = path.join(tempDir('snap'), 'copy')
      const script = `const { Store } = require(${JSON.stringify(path.join(__dirname, '../dist/cjs/index.js'))})
        const s = Store.open({ dataDir: ${JSON.stringify(dir)}, segmentMaxBytes: 4096 }); s.snapshot(${JSON.stringify(dest)})`
      const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, CAUSEWAY_KILL_AT: point } })
      expect(r.signal).toBe('SIGKILL')
      if (fs.existsSync(dest)) {
        const copy = Store.open({ dataDir: dest, readOnly: true })
        expect(payloads(copy)).toEqual(Array.from({ length: 150 }, (_, i) => i))
        copy.close()
      } else {
        expect(point).not.toBe('snapshot:renamed')
        const again = Store.open({ dataDir: dir, segmentMaxBytes: 4096 })
        again.snapshot(dest) // the leftover temporary directory does not get in the way
        again.close()
        expect(fs.readdirSync(path.dirname(dest))).toEqual(['copy'])
      }
      const source = Store.open({ dataDir: dir, segmentMaxBytes: 4096 })
      expect(payloads(source).length).toBe(150)
      source.close()
    },
  )
})

describe('read-only open', () => {
  it('reads while another process writes, and follows it by itself and with refresh()', async () => {
    const dir = tempDir()
    const d = new Daemon(dir)
    await d.next()
    await d.send('append 50')
    await d.send('sync')
    const r = Store.open({ dataDir: dir, readOnly: true, segmentMaxBytes: 4096 })
    expect(payloads(r)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    expect(() => r.append(new Coordinate('x', 'y'), K, 1)).toThrow(InvalidArgumentError)
    await d.send('append 70')
    // The writer's notes bring most of them by themselves (a read-only store
    // watches a live writer); refresh() returns what it added beyond those
    // and leaves the view current.
    expect(r.refresh()).toBeLessThanOrEqual(70)
    expect(payloads(r).length).toBe(120)
    // A cursor on the read-only store wakes when refresh brings events.
    const c = r.cursor(Region.all(), { from: 120n })
    const first = (async () => {
      for await (const e of c) return (e.payload as { n: number }).n
      return -1
    })()
    await d.send('append 5')
    r.refresh()
    expect(await first).toBe(120)
    // A compaction by the writer: refresh reloads, nothing is lost.
    await d.send('compact')
    r.refresh()
    expect(payloads(r)).toEqual(Array.from({ length: 125 }, (_, i) => i))
    expect(r.stream('e:1').map((e) => e.clock)).toEqual(Array.from({ length: 42 }, (_, i) => i + 1))
    await d.send('exit')
    r.refresh()
    expect(payloads(r).length).toBe(125)
    r.close()
  })

  it('is refused next to a writer in the same process, and the reverse', () => {
    const dir = tempDir()
    const w = Store.open({ dataDir: dir })
    expect(() => Store.open({ dataDir: dir, readOnly: true })).toThrow(StoreLockedError)
    w.close()
    const r = Store.open({ dataDir: dir, readOnly: true })
    expect(() => Store.open({ dataDir: dir })).toThrow(StoreLockedError)
    r.close()
  })
})

describe('diagnostics', () => {
  it('describes segments, sequences, index memory and syncs', () => {
    const s = Store.open({ dataDir: tempDir(), segmentMaxBytes: 4096 })
    for (let i = 0; i < 100; i++) s.append(new Coordinate('e', 's'), K, { n: i })
    s.sync()
    const d = s.diagnostics()
    expect(d.events).toBe(100)
    expect(d.durableSequence).toBe(100n)
    expect(d.unsyncedEvents).toBe(0n)
    expect(d.segmentList.length).toBe(d.segments)
    expect(d.segmentList.filter((x) => x.active).length).toBe(1)
    expect(d.segmentList.every((x, i) => i === d.segmentList.length - 1 || x.sealed)).toBe(true)
    expect(d.segmentList[0]!.baseSequence).toBe(0n)
    expect(d.segmentList.at(-1)!.nextSequence).toBe(100n)
    expect(d.indexBytesPerEvent).toBeGreaterThan(0)
    expect(d.syncs).toBeGreaterThan(0)
    s.close()
  })
})
