// Several processes, one store: real processes (node:cluster, spawned
// appenders), real SIGKILL and SIGSTOP, a real socket.
import { type ChildProcess, execFile } from 'node:child_process'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, isCausewayError, Region, Store } from '../src/index.js'
import { tempDir } from './helpers.js'
import { exited, FIX, run, until } from './process-helpers.js'

const K = EventKind.custom(1, 1)
const KILLS = process.env.CAUSEWAY_RELIABILITY === 'full' ? 500 : 50 // the full profile: npm run test:reliability

/** True once every thread of `pid` is in state T (stopped), read from /proc. */
function allThreadsStopped(pid: number): boolean {
  const tasks = fs.readdirSync(`/proc/${pid}/task`)
  return tasks.every((t) => {
    const stat = fs.readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8')
    return /^\d+ \(.*\) [Tt] /s.test(stat)
  })
}

/** Every event in sequence order, checked gapless from 0. */
function allEvents(s: Store) {
  const events = s.query(Region.all())
  events.forEach((e, i) => expect(e.globalSequence, 'gapless global sequence').toBe(BigInt(i)))
  return events
}

describe('several processes, one store', () => {
  it('loses no receipt and leaves no gap with 4 node:cluster workers appending at once (one writer, three clients)', async () => {
    const dir = tempDir('cluster')
    const out = path.join(tempDir('cluster-out'), 'receipts.json')
    await promisify(execFile)(process.execPath, [path.join(FIX, 'cluster-app.cjs'), dir, out, '600'], { timeout: 120_000 })
    const { receipts, roles } = JSON.parse(fs.readFileSync(out, 'utf8')) as { receipts: Array<[string, string, number]>; roles: string[] }
    expect(roles.sort()).toEqual(['client', 'client', 'client', 'writer'])
    const s = Store.open({ dataDir: dir })
    try {
      const events = allEvents(s)
      expect(events.length).toBe(receipts.length)
      for (const [id, seq] of receipts) expect(s.get(id)?.globalSequence, `receipt ${id}`).toBe(BigInt(seq))
      const report = s.verifyChain()
      expect([report.brokenLinks, report.contentMismatches, report.missingParents]).toEqual([[], [], []])
      for (let w = 0; w < 4; w++) expect(s.stream(`worker:${w}`).map((e) => e.clock)).toEqual(Array.from({ length: 601 }, (_, i) => i + 1))
    } finally {
      s.close()
    }
  }, 150_000)

  it(`hands the writer role on within a second of a SIGKILL, ${KILLS} times, losing no acknowledged write and applying each retried key once`, async () => {
    const dir = tempDir('failover')
    const acked = new Map<string, bigint>()
    let lastAck = 0
    const roles = new Map<ChildProcess, string>()
    let tags = 0
    const spawnOne = () => {
      const tag = `p${tags++}`
      const c: ChildProcess = run('failover-appender.cjs', [dir, tag], (line) => {
        const [what, a, b, t] = line.split(' ')
        if (what === 'role') roles.set(c, a!)
        if (what === 'ack') {
          const prev = acked.get(a!)
          if (prev !== undefined) expect(BigInt(b!), `key ${a} acknowledged twice with different events`).toBe(prev)
          acked.set(a!, BigInt(b!))
          lastAck = Number(t)
        }
      })
      return c
    }
    const live = [spawnOne(), spawnOne(), spawnOne()]
    const failovers: number[] = []
    for (let k = 0; k < KILLS; k++) {
      await until('a writer', () => live.some((c) => roles.get(c) === 'writer'))
      await until('appends', () => acked.size > 0 && Date.now() - lastAck < 50)
      const writer = live.find((c) => roles.get(c) === 'writer')!
      const killedAt = Date.now()
      writer.kill('SIGKILL')
      await exited(writer)
      live.splice(live.indexOf(writer), 1)
      // Time to the next acknowledged write of a survivor: a new writer took the role and serves.
      await until('an append after the kill', () => lastAck > killedAt)
      failovers.push(lastAck - killedAt)
      live.push(spawnOne())
    }
    for (const c of live) c.kill('SIGTERM')
    await Promise.all(live.map(exited))
    const s = Store.open({ dataDir: dir })
    try {
      const events = allEvents(s)
      const count = new Map<string, number>()
      for (const e of events) {
        const key = (e.payload as { key: string }).key
        count.set(key, (count.get(key) ?? 0) + 1)
      }
      const lost = [...acked].filter(([key, seq]) => events[Number(seq)]?.payload?.['key' as never] !== key)
      expect(lost, 'acknowledged writes missing or moved').toEqual([])
      expect([...count].filter(([, n]) => n > 1), 'keys applied twice').toEqual([])
    } finally {
      s.close()
    }
    failovers.sort((a, b) => a - b)
    const p = (q: number) => failovers[Math.min(failovers.length - 1, Math.floor(q * failovers.length))]
    console.log(`[failover] ${KILLS} SIGKILLs of the writer: ${acked.size} acknowledged writes, 0 lost, 0 duplicates; kill to next acknowledged write: median ${p(0.5)} ms, p95 ${p(0.95)} ms, max ${failovers.at(-1)} ms`)
    expect(p(0.95)!, 'failover within a second').toBeLessThan(1000)
  }, 600_000)

  it('gives a client E_WRITER_UNAVAILABLE after writerTimeoutMs when the writer hangs, and applies the retry once when it resumes', async () => {
    const dir = tempDir('hung')
    const lines: string[] = []
    const writer = run('lock-holder.cjs', [dir, 'shared'], (l) => lines.push(l))
    await until('the writer', () => lines.length > 0)
    expect(lines[0]).toBe('ready writer')
    const c = Store.open({ dataDir: dir, writerTimeoutMs: 300 })
    try {
      expect(c.stats().role).toBe('client')
      c.append(new Coordinate('a', 's'), K, 1, { idempotencyKey: 'k0' })
      writer.kill('SIGSTOP')
      // kill() returns before every thread of the writer has stopped: a
      // connection thread spinning on its socket could still answer.
      await until('the writer stopped', () => allThreadsStopped(writer.pid!))
      const t0 = Date.now()
      let err: unknown
      try {
        c.append(new Coordinate('a', 's'), K, 2, { idempotencyKey: 'k1' })
      } catch (e) {
        err = e
      }
      expect(isCausewayError(err, 'E_WRITER_UNAVAILABLE'), String(err)).toBe(true)
      expect(Date.now() - t0).toBeGreaterThanOrEqual(290)
      writer.kill('SIGCONT')
      const r = c.append(new Coordinate('a', 's'), K, 2, { idempotencyKey: 'k1' })
      const again = c.append(new Coordinate('a', 's'), K, 2, { idempotencyKey: 'k1' })
      expect(again.deduplicated).toBe(true)
      expect(again.globalSequence).toBe(r.globalSequence)
      expect(c.stream('a').length).toBe(2)
    } finally {
      writer.kill('SIGKILL')
      await exited(writer)
      c.close()
    }
  }, 30_000)

  it('answers a malformed or truncated request with a typed refusal and writes nothing', async () => {
    const dir = tempDir('malformed')
    const s = Store.open({ dataDir: dir })
    try {
      s.append(new Coordinate('a', 's'), K, 1)
      const talk = (bytes: Buffer) =>
        new Promise<Buffer>((resolve) => {
          const chunks: Buffer[] = []
          const sock = net.connect(path.join(dir, 'writer.sock'))
          sock.on('data', (d) => chunks.push(d))
          sock.on('close', () => resolve(Buffer.concat(chunks)))
          sock.on('error', () => {})
          sock.end(bytes)
        })
      const frame = (body: Buffer) => Buffer.concat([Buffer.from(Uint32Array.of(body.length).buffer), body])
      // Not a hello; a hello of another version; a length past the limit; a request cut short.
      const noHello = await talk(frame(Buffer.from([2, 0, 1, 0, 0, 0])))
      expect(noHello.subarray(4).toString('latin1')).toMatch(/no hello/)
      expect(noHello[4], 'status code: invalid argument').toBe(3)
      const hello = Buffer.concat([Buffer.from([1]), Buffer.from(Uint32Array.of(0x314c5743, 99).buffer), Buffer.from([0])])
      expect((await talk(frame(hello))).subarray(4).toString('latin1')).toMatch(/version 99/)
      expect((await talk(Buffer.from(Uint32Array.of(0xffffffff).buffer))).subarray(4).toString('latin1')).toMatch(/out of bounds/)
      expect((await talk(Buffer.concat([Buffer.from(Uint32Array.of(100).buffer), Buffer.from([1, 2, 3])]))).length).toBe(0)
      expect(s.stats().events).toBe(1)
      s.append(new Coordinate('a', 's'), K, 2)
      expect(s.stats().events).toBe(2)
    } finally {
      s.close()
    }
  })

  it('refuses a client running as another user', async (ctx) => {
    if (typeof process.getuid !== 'function' || process.getuid() !== 0) return ctx.skip()
    const dir = tempDir('uid')
    const s = Store.open({ dataDir: dir })
    try {
      // Let the other user reach the socket at all: the check under test is the writer's.
      fs.chmodSync(dir, 0o755)
      fs.chmodSync(path.join(dir, 'writer.sock'), 0o777)
      const script = `const s=require('net').connect(${JSON.stringify(path.join(dir, 'writer.sock'))});const c=[];s.on('data',d=>c.push(d));s.on('error',()=>{});s.on('close',()=>{process.stdout.write(Buffer.concat(c).subarray(4).toString('latin1'))})`
      const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { uid: 65534, gid: 65534, timeout: 10_000 })
      expect(stdout).toMatch(/refused a client running as uid 65534/)
      expect(s.stats().events).toBe(0)
    } finally {
      s.close()
    }
  })

  it('wakes a cursor in a client on another process appending, without polling', async () => {
    const dir = tempDir('wake')
    const lines: string[] = []
    const writer = run('busy-writer.cjs', [dir], (l) => lines.push(l))
    try {
      await until('the writer', () => lines.length > 0)
      const c = Store.open({ dataDir: dir })
      try {
        expect(c.stats().role).toBe('client')
        const from = c.stats().nextSequence
        const cursor = c.cursor(Region.entity('tick'), { from })
        const it = cursor[Symbol.asyncIterator]()
        const first = await it.next()
        expect(first.value.globalSequence).toBeGreaterThanOrEqual(from)
      } finally {
        c.close()
      }
    } finally {
      writer.kill('SIGKILL')
      await exited(writer)
    }
  })
})
