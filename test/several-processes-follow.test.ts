// Several processes, one store: what readers in other processes learn from
// the writer's watch notes. A read-only store (and `causeway tail --follow`)
// wakes on another process's appends without polling and never takes the
// writer role; a client's durableSequence and durable flags say what the
// writer synced, not what it mapped. Real processes, a real socket.
import { type ChildProcess, spawn } from 'node:child_process'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, Region, Store } from '../src/index.js'
import { repoRoot, tempDir } from './helpers.js'
import { exited, run, until } from './process-helpers.js'

const K = EventKind.custom(1, 1)
// The bound on a wake: loose enough for a loaded 2-core CI machine, tight
// enough that polling at tail's no-writer fallback (1 s) would miss it.
const WAKE_MS = 500

/** writer-daemon.cjs: "ok <nextSequence>" after open and after each command. */
function daemon(dir: string, options: object = {}) {
  const replies: number[] = []
  const child = run('writer-daemon.cjs', [dir, JSON.stringify(options)], (l) => replies.push(Number(l.split(' ')[1])), 'pipe')
  const send = async (cmd: string) => {
    const want = replies.length + 1
    child.stdin!.write(`${cmd}\n`)
    await until(`the writer's answer to ${cmd}`, () => replies.length >= want)
    return replies[want - 1]!
  }
  return { child, replies, send }
}

/** The first event a new cursor from `from` yields; rejects after 5 s (a cursor nothing wakes). */
function nextEvent(s: Store, from: bigint): Promise<{ globalSequence: bigint }> {
  const it = s.cursor(Region.all(), { from })[Symbol.asyncIterator]()
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the cursor never woke')), 5000)))
  return Promise.race([it.next().then((r) => r.value as { globalSequence: bigint }), timeout]).finally(() => clearTimeout(timer))
}

describe('readers in other processes follow the writer', () => {
  it('wakes a read-only cursor within 500 ms of an append in another process, and the reader never becomes the writer, across a writer kill', async () => {
    const dir = tempDir('ro-follow')
    let w = daemon(dir)
    await until('the writer', () => w.replies.length > 0)
    const ro = Store.open({ dataDir: dir, readOnly: true })
    try {
      expect(ro.stats().role).toBe('read-only')
      // Without the watch link, a read-only store only grows on refresh(): this cursor would never wake.
      let woke = nextEvent(ro, 0n)
      let t0 = Date.now()
      await w.send('append 1')
      expect((await woke).globalSequence).toBe(0n)
      expect(Date.now() - t0, 'wake latency (ms)').toBeLessThan(WAKE_MS)

      // The writer dies and nobody takes its place: the read-only store waits, it never promotes itself.
      w.child.kill('SIGKILL')
      await exited(w.child)
      await new Promise((r) => setTimeout(r, 300))
      expect(ro.stats().role).toBe('read-only')

      // The next writer (a fresh process: the lock was free): the reader watches it too.
      w = daemon(dir)
      await until('the next writer', () => w.replies.length > 0)
      woke = nextEvent(ro, 1n)
      t0 = Date.now()
      await w.send('append 1')
      expect((await woke).globalSequence).toBe(1n)
      expect(Date.now() - t0, 'wake latency after the failover (ms)').toBeLessThan(WAKE_MS)
      expect(ro.stats().role).toBe('read-only')
      expect(() => ro.append(new Coordinate('x', 's'), K, 1)).toThrow(/read-only/)
    } finally {
      w.child.kill('SIGKILL')
      await exited(w.child)
      ro.close()
    }
  })

  it('prints an event appended by a writer in another process within 500 ms with causeway tail --follow, watching the writer instead of polling', async () => {
    const dir = tempDir('tail-follow')
    const w = daemon(dir)
    await until('the writer', () => w.replies.length > 0)
    await w.send('append 1')
    let out = ''
    const tail: ChildProcess = spawn(process.execPath, [path.join(repoRoot, 'bin/causeway'), 'tail', dir, '--follow', '-n', '1', '--json'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    tail.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
    const lines = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { globalSequence: string })
    try {
      await until('tail to print the last event', () => lines().length === 1)
      // It watches the writer's notes (the writer counts its connection): no polling.
      let clients = 0
      for (const t0 = Date.now(); clients === 0 && Date.now() - t0 < 2000; ) clients = await w.send('clients')
      expect(clients, 'connections the writer serves').toBe(1)
      for (const want of ['1', '2']) {
        const t0 = Date.now()
        w.child.stdin!.write('append 1\n')
        await until(`tail to print #${want}`, () => lines().some((e) => e.globalSequence === want), 5000)
        expect(Date.now() - t0, 'tail --follow latency (ms)').toBeLessThan(WAKE_MS)
      }
    } finally {
      tail.kill('SIGTERM')
      await exited(tail)
      w.child.kill('SIGKILL')
      await exited(w.child)
    }
    expect(tail.exitCode).toBe(0)
    expect(lines().map((e) => e.globalSequence)).toEqual(['0', '1', '2'])
  })

  it("keeps a client's durableSequence and durable flags below a non-durable append until the writer syncs", async () => {
    const dir = tempDir('client-durable')
    // A writer that never syncs on its own: only sync() and durable appends sync.
    const w = daemon(dir, { sync: { mode: 'none' } })
    await until('the writer', () => w.replies.length > 0)
    const c = Store.open({ dataDir: dir })
    try {
      expect(c.stats().role).toBe('client')
      const a = c.append(new Coordinate('a', 's'), K, 1)
      expect(a.durable).toBe(false)
      // Before: a client's catch-up set durableSequence to what it mapped (a + 1).
      expect(c.stats().durableSequence).toBeLessThanOrEqual(a.globalSequence)
      expect(c.get(a.eventId)!.durable).toBe(false)
      // Notes come at once; none of them may raise it either.
      await new Promise((r) => setTimeout(r, 100))
      expect(c.stats().durableSequence).toBeLessThanOrEqual(a.globalSequence)

      // The writer syncs by itself: its next note carries the new durable sequence.
      await w.send('sync')
      await until('the note of the writer sync', () => c.stats().durableSequence > a.globalSequence, 2000)
      expect(c.get(a.eventId)!.durable).toBe(true)

      // A sync right after an append: its advance usually lands in the
      // notifier's pause after the append's note, and must still reach the
      // client (no later publish would carry it).
      for (let i = 0; i < 20; i++) {
        const next = await w.send('appendsync 1')
        await until(`the note of sync ${i} after an append`, () => c.stats().durableSequence >= BigInt(next), 2000)
      }

      // The client's own sync(): exact as soon as it returns.
      const b = c.append(new Coordinate('a', 's'), K, 2)
      expect(c.stats().durableSequence).toBeLessThanOrEqual(b.globalSequence)
      c.sync()
      expect(c.stats().durableSequence).toBeGreaterThan(b.globalSequence)
      expect(c.get(b.eventId)!.durable).toBe(true)

      // A durable append's receipt says so, and the client's view with it.
      const d = c.append(new Coordinate('a', 's'), K, 3, { durable: true })
      expect(d.durable).toBe(true)
      expect(c.stats().durableSequence).toBeGreaterThan(d.globalSequence)
    } finally {
      c.close()
      w.child.kill('SIGKILL')
      await exited(w.child)
    }
  })

  it('closes a read-only store and a client at once while the writer is stopped, instead of waiting out writerTimeoutMs', async () => {
    const dir = tempDir('stopped-close')
    const w = daemon(dir)
    await until('the writer', () => w.replies.length > 0)
    w.child.kill('SIGSTOP')
    try {
      for (const options of [{ readOnly: true }, {}]) {
        const s = Store.open({ dataDir: dir, ...options })
        // Its watch connection now waits for a hello the stopped writer never answers.
        await new Promise((r) => setTimeout(r, 300))
        const t0 = Date.now()
        s.close()
        expect(Date.now() - t0, `close of ${JSON.stringify(options)} (ms)`).toBeLessThan(2000)
      }
    } finally {
      w.child.kill('SIGCONT')
      w.child.kill('SIGKILL')
      await exited(w.child)
    }
  })
})
