// Paging and ordering: query(region, { limit, after, reverse }),
// stream(entity, { fromClock, toClock, limit, reverse }) and clockOf(entity)
// on real stores, checked against the whole-array reads they page through.
import * as fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { Coordinate, CorruptionError, EventKind, EventPages, isCausewayError, Region, Store, type StoredEvent } from '../src/index.js'
import { exited, run, until } from './process-helpers.js'
import { frameOffsets, segmentFiles, tempDir } from './helpers.js'

const K = EventKind.custom(1, 1)
const K2 = EventKind.custom(1, 2)
const seqs = (events: Iterable<StoredEvent>) => [...events].map((e) => e.globalSequence)

/** 600 events over order:1..3 and user:1, two scopes and two kinds, interleaved unevenly. */
function mixed(dir: string): Store {
  const s = Store.open({ dataDir: dir })
  const items = Array.from({ length: 600 }, (_, i) => ({
    coord: new Coordinate(i % 5 === 0 ? 'user:1' : `order:${(i % 3) + 1}`, i % 2 ? 'shop' : 'admin'),
    kind: i % 4 ? K : K2,
    payload: { i },
  }))
  s.appendBatch(items.slice(0, 300))
  s.appendBatch(items.slice(300))
  return s
}

/** kill() returns before every thread of a process has stopped. */
function allThreadsStopped(pid: number): boolean {
  return fs.readdirSync(`/proc/${pid}/task`).every((t) => /^\d+ \(.*\) [Tt] /s.test(fs.readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8')))
}

/** Flips a byte in the first frame of the first segment while the store is open: reads of that event must fail. */
function damageFirstFrame(dir: string): void {
  const seg = segmentFiles(dir)[0]!
  const victim = frameOffsets(fs.readFileSync(seg))[0]!
  const fd = fs.openSync(seg, 'r+')
  const one = Buffer.alloc(1)
  fs.readSync(fd, one, 0, 1, victim.at + victim.len - 3)
  one[0]! ^= 0x80
  fs.writeSync(fd, one, 0, 1, victim.at + victim.len - 3)
  fs.closeSync(fd)
}

describe('paging', () => {
  it('reads the latest 20 events of a 50k-event stream without touching a damaged frame at its start', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir })
    const big = new Coordinate('big', 's')
    for (let b = 0; b < 50_000; b += 10_000) s.appendBatch(Array.from({ length: 10_000 }, (_, i) => ({ coord: big, kind: K, payload: b + i })))
    s.sync()
    damageFirstFrame(dir)
    // A read of the whole stream decodes clock 1 and reports it...
    expect(() => s.stream('big')).toThrow(CorruptionError)
    expect(() => s.stream('big', { pageSize: 1000 }).toArray()).toThrow(CorruptionError)
    // ...the newest 20 decode only their own frames,
    const last = s.stream('big', { reverse: true, limit: 20 }).toArray()
    expect(last.map((e) => e.clock)).toEqual(Array.from({ length: 20 }, (_, i) => 50_000 - i))
    expect(last.map((e) => e.payload)).toEqual(Array.from({ length: 20 }, (_, i) => 49_999 - i))
    expect(seqs(s.query(Region.entity('big'), { reverse: true, limit: 3 }))).toEqual([49_999n, 49_998n, 49_997n])
    // and so does a clock range that starts after the damage, and the clock itself.
    expect(s.stream(big, { fromClock: 2, toClock: 4 }).toArray().map((e) => e.clock)).toEqual([2, 3, 4])
    expect(s.clockOf('big')).toBe(50_000)
    s.close()
  })

  it('stops reading when the iteration stops: a reverse walk left after two pages never reaches the damaged first event', () => {
    const dir = tempDir()
    const s = mixed(dir)
    s.sync()
    damageFirstFrame(dir)
    const walk = s.query(Region.all(), { reverse: true, pageSize: 10 })
    const seen: bigint[] = []
    for (const e of walk) {
      seen.push(e.globalSequence)
      if (seen.length === 15) break
    }
    expect(seen).toEqual(Array.from({ length: 15 }, (_, i) => BigInt(599 - i)))
    expect(() => walk.toArray()).toThrow(CorruptionError)
    s.close()
  })

  it('pages every region to the events of the whole query, forward, and backward in reverse order', () => {
    const s = mixed(tempDir())
    const regions = [Region.all(), Region.entity('order'), Region.entity('order:2'), Region.scope('admin').withFact(K2), Region.entity('order').withClockRange(20, 60)]
    for (const region of regions) {
      const whole = seqs(s.query(region))
      expect(whole.length).toBeGreaterThan(0)
      for (const pageSize of [1, 7, 256]) {
        expect(seqs(s.query(region, { pageSize }))).toEqual(whole)
        expect(seqs(s.query(region, { pageSize, reverse: true }))).toEqual([...whole].reverse())
        expect(seqs(s.query(region, { pageSize, limit: 11 }))).toEqual(whole.slice(0, 11))
        expect(seqs(s.query(region, { pageSize, limit: 11, reverse: true }))).toEqual([...whole].reverse().slice(0, 11))
        expect(seqs(s.query(region, { pageSize, after: 299n }))).toEqual(whole.filter((q) => q > 299n))
        expect(seqs(s.query(region, { pageSize, after: 299n, reverse: true }))).toEqual(whole.filter((q) => q < 299n).reverse())
      }
      expect(seqs(s.query(region, { limit: 0 }))).toEqual([])
    }
    s.close()
  })

  it('covers a region exactly once when pages are chained by after, in both directions', () => {
    const s = mixed(tempDir())
    const region = Region.entity('order').withScope('shop')
    for (const reverse of [false, true]) {
      const got: bigint[] = []
      let after: bigint | undefined
      for (;;) {
        const page = s.query(region, after === undefined ? { limit: 17, reverse } : { limit: 17, reverse, after }).toArray()
        got.push(...seqs(page))
        if (page.length < 17) break
        after = page.at(-1)!.globalSequence
      }
      const whole = seqs(s.query(region))
      expect(got).toEqual(reverse ? whole.reverse() : whole)
    }
    s.close()
  })

  it('bounds a stream by clock on both ends, with limit, in both directions', () => {
    const s = mixed(tempDir())
    const clocks = (p: EventPages) => p.toArray().map((e) => e.clock)
    const all = s.stream('order:2').map((e) => e.clock)
    expect(all.length).toBe(160)
    expect(clocks(s.stream('order:2', { fromClock: 10, toClock: 14 }))).toEqual([10, 11, 12, 13, 14])
    expect(clocks(s.stream('order:2', { fromClock: 10, toClock: 14, reverse: true }))).toEqual([14, 13, 12, 11, 10])
    expect(clocks(s.stream('order:2', { fromClock: 150, limit: 100 }))).toEqual(all.slice(149))
    expect(clocks(s.stream('order:2', { toClock: 3, reverse: true, pageSize: 1 }))).toEqual([3, 2, 1])
    expect(clocks(s.stream('order:2', { fromClock: 100, reverse: true, limit: 2 }))).toEqual([160, 159])
    expect(clocks(s.stream('order:2', { fromClock: 161 }))).toEqual([])
    expect(clocks(s.stream('order', {}))).toEqual([]) // exactly that entity: order:* are others
    expect(clocks(s.stream('nobody', { reverse: true, limit: 5 }))).toEqual([])
    s.close()
  })

  it('answers clockOf from the index: 0 for an unknown entity, the newest clock after appends and a reopen', () => {
    const dir = tempDir()
    let s = mixed(dir)
    expect(s.clockOf('order:1')).toBe(s.stream('order:1').length)
    expect(s.clockOf(new Coordinate('user:1', 'x'))).toBe(120)
    expect(s.clockOf('order')).toBe(0)
    expect(s.clockOf('never')).toBe(0)
    s.append(new Coordinate('user:1', 'shop'), K, 'more')
    expect(s.clockOf('user:1')).toBe(121)
    s.close()
    s = Store.open({ dataDir: dir, readOnly: true })
    expect(s.clockOf('user:1')).toBe(121)
    expect(seqs(s.stream('user:1', { reverse: true, limit: 1 }))).toEqual([600n])
    s.close()
  })

  it('ends a walk at the events present when it began, even as appends go on', () => {
    const s = mixed(tempDir())
    const walk = s.query(Region.all(), { pageSize: 50 })[Symbol.iterator]()
    let n = 0
    while (!walk.next().done) if (++n % 50 === 0) s.append(new Coordinate('order:1', 'shop'), K, n)
    expect(n).toBe(600)
    s.close()
  })

  it('serves a client and a read-only open locally: pages read while the writer process is stopped', async () => {
    const dir = tempDir('paging-shared')
    const lines: string[] = []
    const writer = run('writer-daemon.cjs', [dir], (l) => lines.push(l), 'pipe')
    try {
      await until('the writer', () => lines.length > 0)
      writer.stdin!.write('append 300\n')
      await until('the appends', () => lines.length > 1)
      const stop = async () => {
        writer.kill('SIGSTOP')
        await until('the writer stopped', () => allThreadsStopped(writer.pid!))
      }
      const reads = (s: Store) => {
        expect(s.clockOf('e:1')).toBe(100)
        expect(s.stream('e:1', { reverse: true, limit: 3 }).toArray().map((e) => e.clock)).toEqual([100, 99, 98])
        expect(seqs(s.query(Region.all(), { reverse: true, after: 10n, limit: 2 }))).toEqual([9n, 8n])
        expect(seqs(s.query(Region.entity('e:2'), { limit: 2 }))).toEqual([2n, 5n])
      }
      const client = Store.open({ dataDir: dir, writerTimeoutMs: 300 })
      expect(client.stats().role).toBe('client')
      await stop()
      reads(client)
      // The control: a call that does go to the stopped writer fails. (The
      // writer may still apply it once resumed: another entity, so the reads stay as they are.)
      let err: unknown
      try {
        client.append(new Coordinate('late', 's'), K, 'late')
      } catch (e) {
        err = e
      }
      expect(isCausewayError(err, 'E_WRITER_UNAVAILABLE'), String(err)).toBe(true)
      // Closes wait for a stopped writer's answer: resume it first.
      writer.kill('SIGCONT')
      client.close()
      // One store per directory per thread: the read-only open comes after the client's close.
      const ro = Store.open({ dataDir: dir, readOnly: true, writerTimeoutMs: 300 })
      await stop()
      reads(ro)
      writer.kill('SIGCONT')
      ro.close()
    } finally {
      writer.kill('SIGKILL')
      await exited(writer)
    }
  })
})
