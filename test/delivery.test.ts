import * as path from 'node:path'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import {
  AppendConditionError,
  Coordinate,
  EventKind,
  Region,
  Store,
  StoreLockedError,
  SubscriptionLaggedError,
  type StoredEvent,
} from '../src/index.js'
import { tempDir } from './helpers.js'

const Job = EventKind.custom(1, 1)
const Note = EventKind.custom(2, 1)
const job = (i: number) => new Coordinate(`job:${i % 3}`, 'work')

function fill(s: Store, n: number, from = 0): void {
  for (let i = from; i < from + n; i++) s.append(job(i), i % 2 ? Note : Job, { n: i })
}

describe('cursor', () => {
  it('delivers every matching event once, in global order, across polls', () => {
    const s = Store.open({ dataDir: tempDir() })
    fill(s, 50)
    const c = s.cursor(Region.all().withFact(Job))
    const got: number[] = []
    got.push(...c.pollBatch(7).map((e) => (e.payload as { n: number }).n))
    let e: StoredEvent | undefined
    while ((e = c.poll())) got.push((e.payload as { n: number }).n)
    expect(got).toEqual(Array.from({ length: 25 }, (_, i) => i * 2))
    expect(c.pollBatch(10)).toEqual([])
    fill(s, 4, 50)
    expect(c.pollBatch(10).map((x) => (x.payload as { n: number }).n)).toEqual([50, 52])
    expect(c.position).toBe(54n)
    s.close()
  })

  it('waits for new events in async iteration without polling in a loop', async () => {
    const s = Store.open({ dataDir: tempDir() })
    const c = s.cursor(Region.entity('job'))
    let reads = 0
    const orig = s.readFiltered.bind(s)
    s.readFiltered = ((f) => {
      reads++
      return orig(f)
    }) as typeof s.readFiltered
    const got: number[] = []
    const consumer = (async () => {
      for await (const e of c) {
        got.push((e.payload as { n: number }).n)
        if (got.length === 6) break
      }
    })()
    await new Promise((r) => setTimeout(r, 150))
    const idleReads = reads
    expect(idleReads).toBeLessThanOrEqual(2) // parked, not spinning
    fill(s, 3)
    await new Promise((r) => setTimeout(r, 20))
    fill(s, 3, 3)
    await consumer
    expect(got).toEqual([0, 1, 2, 3, 4, 5])
    s.close()
  })

  it('resumes from its checkpoint after close and reopen (at-least-once)', () => {
    const dir = tempDir()
    let s = Store.open({ dataDir: dir })
    fill(s, 10)
    let c = s.cursor(Region.entity('job'), { checkpoint: 'mailer' })
    expect(c.pollBatch(4).map((e) => (e.payload as { n: number }).n)).toEqual([0, 1, 2, 3])
    c.commit()
    expect(c.pollBatch(2).map((e) => (e.payload as { n: number }).n)).toEqual([4, 5]) // handled, not committed
    s.close()
    s = Store.open({ dataDir: dir })
    c = s.cursor(Region.entity('job'), { checkpoint: 'mailer' })
    expect(c.pollBatch(100).map((e) => (e.payload as { n: number }).n)).toEqual([4, 5, 6, 7, 8, 9])
    expect(() => s.cursor(Region.entity('other'), { checkpoint: 'mailer' })).toThrow(/belongs to region/)
    s.close()
  })
})

describe('subscription', () => {
  it('pushes events appended after it was made, through on("event")', async () => {
    const s = Store.open({ dataDir: tempDir() })
    fill(s, 5)
    const sub = s.subscribe(Region.all().withFact(Note))
    const got: number[] = []
    const done = new Promise<void>((resolve) =>
      sub.on('event', (e: StoredEvent) => {
        got.push((e.payload as { n: number }).n)
        if (got.length === 3) resolve()
      }),
    )
    fill(s, 6, 5)
    await done
    expect(got).toEqual([5, 7, 9])
    sub.close()
    s.close()
  })

  it('tells a subscriber that fell behind the ring it lagged, and never stalls the writer', async () => {
    const s = Store.open({ dataDir: tempDir(), subscriberCapacity: 16 })
    const sub = s.subscribe(Region.all())
    fill(s, 100) // nobody reads: the writer must not wait
    const first = sub.poll(1000)
    expect(first.lagged).toBe(84)
    expect(first.events.map((e) => (e.payload as { n: number }).n)).toEqual(Array.from({ length: 16 }, (_, i) => 84 + i))
    expect(sub.missed).toBe(84)
    const lagged: number[] = []
    sub.on('lagged', (l: { missed: number }) => lagged.push(l.missed))
    const iter = s.subscribe(Region.all())
    fill(s, 40, 100)
    await new Promise((r) => setTimeout(r, 20))
    await expect(
      (async () => {
        for await (const _ of iter) void _
      })(),
    ).rejects.toBeInstanceOf(SubscriptionLaggedError)
    sub.close()
    s.close()
  })
})

describe('reactLoop', () => {
  it('rejects done with E_INVALID_ARGUMENT when a reaction carries a key it would drop, appending nothing', async () => {
    const s = Store.open({ dataDir: tempDir() })
    s.append(new Coordinate('order:1', 'shop'), Job, 1)
    const loop = s.reactLoop(Region.entity('order'), () => [{ coord: new Coordinate('mail:1', 'mail'), kind: Note, payload: 1, idempotencyKey: 'k' } as never])
    await expect(loop.done).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT', option: 'idempotencyKey' })
    expect(s.stats().events).toBe(1)
    s.close()
  })

  it('appends reactions atomically with correlation kept and causation set, once per source event', async () => {
    const dir = tempDir()
    let s = Store.open({ dataDir: dir })
    const order = s.append(new Coordinate('order:1', 'shop'), Job, { n: 1 })
    const loop = s.reactLoop(
      Region.entity('order'),
      (e) => [
        { coord: new Coordinate('invoice:1', 'billing'), kind: Note, payload: { for: e.eventId } },
        { coord: new Coordinate('mail:1', 'mail'), kind: Note, payload: { for: e.eventId } },
      ],
      { checkpoint: 'billing' },
    )
    await new Promise((r) => setTimeout(r, 50))
    await loop.stop()
    const reactions = s.byCorrelation(order.eventId)
    expect(reactions.map((e) => e.coordinate.entity)).toEqual(['order:1', 'invoice:1', 'mail:1'])
    expect(reactions.slice(1).every((e) => e.causationId === order.eventId)).toBe(true)
    s.close()
    // Restarted from an older position (as after a crash before the checkpoint): nothing appended twice.
    s = Store.open({ dataDir: dir })
    const again = s.reactLoop(Region.entity('order'), () => [{ coord: new Coordinate('invoice:1', 'billing'), kind: Note, payload: 1 }, { coord: new Coordinate('mail:1', 'mail'), kind: Note, payload: 2 }], { from: 0n })
    await new Promise((r) => setTimeout(r, 50))
    await again.stop()
    expect(s.stats().events).toBe(3)
    s.close()
  })
})

describe('causal graph', () => {
  it('walks causes and effects across entities through the effects index', () => {
    const s = Store.open({ dataDir: tempDir() })
    const a = s.append(new Coordinate('order:1', 'shop'), Job, 'placed')
    const b = s.appendReaction(new Coordinate('payment:1', 'billing'), Note, 'charged', a.correlationId, a.eventId)
    const c = s.appendReaction(new Coordinate('shipment:1', 'ops'), Note, 'sent', a.correlationId, b.eventId)
    const d = s.appendReaction(new Coordinate('mail:1', 'mail'), Note, 'receipt', a.correlationId, b.eventId)
    s.append(new Coordinate('order:2', 'shop'), Job, 'unrelated')
    const g = s.causalGraph(b.eventId)
    expect(g.nodes.map((n) => n.eventId)).toEqual([a.eventId, b.eventId, c.eventId, d.eventId])
    expect(g.edges).toEqual(
      expect.arrayContaining([
        { cause: a.eventId, effect: b.eventId },
        { cause: b.eventId, effect: c.eventId },
        { cause: b.eventId, effect: d.eventId },
      ]),
    )
    expect(g.edges.length).toBe(3)
    expect(s.causalGraph(c.eventId, { direction: 'causes' }).nodes.map((n) => n.eventId)).toEqual([a.eventId, b.eventId, c.eventId])
    const shallow = s.causalGraph(a.eventId, { direction: 'effects', maxDepth: 1 })
    expect(shallow.nodes.map((n) => n.eventId)).toEqual([a.eventId, b.eventId])
    expect(shallow.truncated).toBe(true)
    expect(s.effectsOf(b.eventId).map((e) => e.eventId)).toEqual([c.eventId, d.eventId])
    expect(s.byCorrelation(a.correlationId).length).toBe(4)
    s.close()
  })
})

describe('causal graph bounds', () => {
  it('stops at maxNodes and says so, every edge between events it holds (an unbounded walk of a huge fan-out would take the log into memory)', () => {
    const s = Store.open({ dataDir: tempDir() })
    const root = s.append(new Coordinate('order:1', 'shop'), Job, 'placed')
    const effects = s.appendBatch(Array.from({ length: 50 }, (_, i) => ({ coord: new Coordinate(`task:${i}`, 'ops'), kind: Note, payload: i, causation: root.eventId })))
    const leaf = s.append(new Coordinate('task:0', 'ops'), Note, 'done', { causationId: effects[0]!.eventId })
    const g = s.causalGraph(root.eventId, { maxNodes: 10 })
    expect(g.nodes).toHaveLength(10)
    expect(g.truncated).toBe(true)
    const held = new Set(g.nodes.map((n) => n.eventId))
    expect(held.has(root.eventId)).toBe(true)
    for (const e of g.edges) expect(held.has(e.cause) && held.has(e.effect), `${e.cause} > ${e.effect}`).toBe(true)
    expect(g.edges).toHaveLength(9)
    // From the leaf upward: the bound applies to causes too.
    const up = s.causalGraph(leaf.eventId, { direction: 'causes', maxNodes: 2 })
    expect(up.nodes.map((n) => n.eventId)).toEqual([effects[0]!.eventId, leaf.eventId])
    expect(up.truncated).toBe(true)
    const whole = s.causalGraph(root.eventId)
    expect(whole.nodes).toHaveLength(52)
    expect(whole.truncated).toBe(false)
    expect(() => s.causalGraph(root.eventId, { maxNodes: 0 })).toThrow(/maxNodes/)
    s.close()
  })
})

describe('appendIf (dynamic consistency boundary)', () => {
  it('appends only when no event matching the boundary came after the decision', () => {
    const s = Store.open({ dataDir: tempDir() })
    const seat = Region.entity('seat:1A')
    expect(s.appendIf([{ coord: new Coordinate('seat:1A', 'f'), kind: Job, payload: 'ada' }], { failIfEventsMatch: seat, after: null }).length).toBe(1)
    let err: unknown
    try {
      s.appendIf([{ coord: new Coordinate('seat:1A', 'f'), kind: Job, payload: 'bob' }], { failIfEventsMatch: seat, after: null })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(AppendConditionError)
    expect((err as AppendConditionError).conflictSequence).toBe(0n)
    s.append(new Coordinate('seat:2B', 'f'), Job, 'elsewhere') // outside the boundary
    expect(s.appendIf([{ coord: new Coordinate('seat:1A', 'f'), kind: Note, payload: 'ada paid' }], { failIfEventsMatch: seat, after: 0n }).length).toBe(1)
    expect(s.stats().events).toBe(3)
    s.close()
  })

  it('lets exactly one of two racing worker deciders win', async () => {
    const dir = tempDir()
    const main = Store.open({ dataDir: dir })
    for (let round = 0; round < 5; round++) {
      const workerDir = path.join(dir)
      const workers = ['w1', 'w2'].map(
        (name) => new Worker(path.join(__dirname, 'fixtures/worker-decider.cjs'), { workerData: { dir: workerDir, name } }),
      )
      await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))))
      const results = workers.map((w) => new Promise<{ result: string }>((r) => w.once('message', r)))
      for (const w of workers) w.postMessage('go')
      const got = (await Promise.all(results)).map((r) => r.result).sort()
      expect(got).toEqual(['E_APPEND_CONDITION', 'won'])
      await Promise.all(workers.map((w) => w.terminate()))
      main.append(new Coordinate('seat:1A', 'flight'), Note, 'released') // next round starts from a new position
    }
    main.close()
  })
})

describe('worker threads', () => {
  it('delivers events appended on the main thread to a cursor and a subscription in a worker', async () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir })
    const w = new Worker(path.join(__dirname, 'fixtures/worker-listener.cjs'), { workerData: { dir, expect: 30 } })
    await new Promise((r) => w.once('message', r))
    const result = new Promise<{ fromCursor: number; fromSub: number }>((r) => w.once('message', r))
    for (let i = 0; i < 30; i++) {
      s.append(new Coordinate('job:1', 'w'), Job, { n: i })
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5))
    }
    expect(await result).toEqual({ fromCursor: 30, fromSub: 30 })
    await w.terminate()
    s.close()
  })

  it('still refuses a second open of the same directory on the same thread', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir })
    expect(() => Store.open({ dataDir: dir })).toThrow(StoreLockedError)
    s.close()
  })
})

describe('event loop', () => {
  it('lets the process exit once a waiting cursor is closed while the store stays open', async () => {
    const { execFileSync } = await import('node:child_process')
    const dir = tempDir()
    const script = `
      const { Store, Region } = require(${JSON.stringify(path.join(__dirname, '../dist/cjs/index.js'))})
      const s = Store.open({ dataDir: ${JSON.stringify(dir)} })
      const c = s.cursor(Region.all())
      ;(async () => { for await (const e of c) void e; console.log('iterator ended') })()
      setTimeout(() => c.close(), 50)
    `
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 })
    expect(out.trim()).toBe('iterator ended')
  })
})
