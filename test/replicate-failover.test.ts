// Automatic failover on a real 3-node JetStream cluster (nats-server on
// 127.0.0.1): a primary process holding the writer's lease is SIGKILLed, a
// standby promotes itself once the lease expires, and nothing acknowledged
// is lost. Heavy: npm run test:full, with CAUSEWAY_JETSTREAM=1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Coordinate, EventKind } from '../src/index.js'
import { standby } from '../src/replicate/index.js'
import { tempDir } from './helpers.js'
import { NatsCluster, natsServer } from './nats-cluster.js'
import { exited, run, until } from './process-helpers.js'

const gate = process.env.CAUSEWAY_JETSTREAM === '1' ? natsServer() : { reason: 'set CAUSEWAY_JETSTREAM=1 (npm run test:full)' }
const reason = 'reason' in gate ? gate.reason : ''
const TTL = 1500
/** The bound on how long the standby may take to be the primary after the kill: the lease's TTL, then promote. */
const PROMOTE_BOUND_MS = 20_000

interface Line {
  ready?: boolean
  acked?: string
  seq?: string
  error?: string
  message?: string
}

function primary(dir: string, urls: string[], stream: string) {
  const lines: Line[] = []
  const child = run('replicated-primary.cjs', [dir, urls.join(','), stream, String(TTL)], (l) => lines.push(JSON.parse(l) as Line))
  return { child, lines, acked: () => lines.filter((l) => l.acked).map((l) => l.acked!) }
}

describe.skipIf(reason !== '')(`automatic failover with a lease in JetStream KV${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let nats: NatsCluster
  beforeAll(async () => {
    nats = await NatsCluster.start((gate as { bin: string }).bin, 3)
  })
  afterAll(async () => {
    await nats?.stopAll()
  })

  it('a SIGKILLed primary is replaced by the standby in bounded time, with every replicated-durable event, and fenced when it returns', async () => {
    const pdir = tempDir('primary')
    const old = primary(pdir, nats.urls, 'auto')
    await until('the primary acknowledged its first events', () => old.acked().length >= 30, 60_000)
    const s = await standby({ dataDir: tempDir('standby'), servers: nats.urls, stream: 'auto', leaseTtlMs: TTL })
    // The primary renews its lease: the standby only follows, for several TTLs.
    await new Promise((r) => setTimeout(r, TTL * 3))
    expect(s.status()).toMatchObject({ state: 'following', publisher: null })
    expect(s.status().leaseHolder).toContain(pdir)
    await until('more events acknowledged', () => old.acked().length >= 100, 60_000)
    old.child.kill('SIGKILL')
    const killedAt = Date.now()
    await exited(old.child)
    const acked = old.acked()
    const report = await Promise.race([s.promoted, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no promotion in ${PROMOTE_BOUND_MS} ms: ${JSON.stringify(s.status())}`)), PROMOTE_BOUND_MS))])
    const took = Date.now() - killedAt
    expect(took).toBeGreaterThanOrEqual(TTL / 2)
    expect(s.status()).toMatchObject({ state: 'primary', error: null })
    expect(report.caughtUp).toBe(true)
    // Every event the old primary saw acknowledged with durable: 'replicated' is on the new primary, with no gap.
    const store = s.store
    for (const id of acked) expect(store.get(id)?.eventId).toBe(id)
    expect(store.verifyChain()).toMatchObject({ contentMismatches: [], brokenLinks: [] })
    expect(BigInt(store.nativeHandle().nextSequence())).toBe(report.next)
    // The new primary takes writes and replicates them.
    const r = await store.append(new Coordinate('order/new', 'shop'), EventKind.custom(1, 1), { by: 'standby' }, { durable: 'replicated' })
    expect(r.globalSequence).toBe(report.next)
    // The old primary, restarted, is fenced (its lease and its publishes).
    const back = primary(pdir, nats.urls, 'auto')
    await until('the restarted primary reported', () => back.lines.some((l) => l.error), 60_000)
    await exited(back.child)
    expect(back.lines.find((l) => l.error)).toMatchObject({ error: 'E_FENCED' })
    expect(back.acked()).toEqual([])
    await s.close()
    console.log(`failover: ${acked.length} acknowledged events kept, promoted ${took} ms after the SIGKILL (lease TTL ${TTL} ms)`)
  }, 180_000)
})
