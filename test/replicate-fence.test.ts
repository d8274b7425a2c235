// Failover on one real nats-server (JetStream, R1) on loopback, small and
// fast (in npm test when nats-server is installed): promote's fence marker,
// the writer's lease and standby(), from code and from the CLI. The 3-node
// SIGKILL test is replicate-failover.test.ts (CAUSEWAY_JETSTREAM=1).
import { spawn } from 'node:child_process'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Coordinate, EventKind, isCausewayError, Store } from '../src/index.js'
import { openReplica, promote, replicate, standby } from '../src/replicate/index.js'
import { decodeFence, fenceSubjectOf } from '../src/replicate/wire.js'
import { repoRoot, tempDir } from './helpers.js'
import { NatsCluster, natsServer } from './nats-cluster.js'
import { expectSameLog, fill, Placed, streamMessages, waitUntil } from './replicate-helpers.js'

const found = natsServer()
const reason = 'reason' in found ? found.reason : ''
const K = EventKind.custom(1, 1)

describe.skipIf(reason !== '')(`failover on one JetStream node${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let nats: NatsCluster
  beforeAll(async () => {
    nats = await NatsCluster.start((found as { bin: string }).bin, 1)
  })
  afterAll(async () => {
    await nats?.stopAll()
  })

  it('promote fences the old primary before the new one publishes anything: its next publish and its restart are E_FENCED', async () => {
    const old = Store.open({ dataDir: tempDir('repl') })
    const oldPub = await replicate(old, { servers: nats.url(0), stream: 'five', replicas: 1 })
    const end = fill(old, 120)
    await oldPub.waitFor(end)
    const rdir = tempDir('replica')
    const replica = await openReplica({ dataDir: rdir, servers: nats.url(0), stream: 'five' })
    await replica.waitFor(end)
    await replica.close()
    const report = await promote({ dataDir: rdir, servers: nats.url(0) })
    expect(report).toMatchObject({ next: end, caughtUp: true })
    // The fence is the stream's last message, naming the new writer, right after the old primary's last event.
    const [fence] = await streamMessages(nats.url(0), 'five', Number(end) + 1, Number(end) + 1)
    expect(fence!.subject).toBe(fenceSubjectOf('five'))
    expect(decodeFence(fence!.data)).toEqual({ writer: report.writer, next: end })
    // The new primary has published nothing; the old one's next publish is refused all the same.
    old.append(new Coordinate('late', 's'), K, { by: 'old primary' })
    const err = await oldPub.done.then(() => undefined, (e: unknown) => e)
    expect(isCausewayError(err, 'E_FENCED')).toBe(true)
    expect(oldPub.status()).toMatchObject({ fenced: true, acknowledged: end })
    await oldPub.close()
    const restarted = await replicate(old, { servers: nats.url(0), stream: 'five', replicas: 1 })
    const again = await restarted.done.then(() => undefined, (e: unknown) => e)
    expect(isCausewayError(again, 'E_FENCED')).toBe(true)
    expect((again as Error).message).toMatch(/fenced at stream sequence/)
    await restarted.close()
    // The new primary goes on from the fence: its event is stream sequence end + 2 and a fresh replica skips the marker.
    const fresh = Store.open({ dataDir: rdir })
    const newPub = await replicate(fresh, { servers: nats.url(0), stream: 'five', replicas: 1 })
    const r = fresh.append(new Coordinate('order/1', 'shop'), K, { by: 'new primary' })
    await newPub.waitFor(r.globalSequence + 1n)
    const [moved] = await streamMessages(nats.url(0), 'five', Number(end) + 2, Number(end) + 2)
    expect(moved!.header.get('Nats-Msg-Id')).toBe(r.eventId)
    const fdir = tempDir('replica')
    const follower = await openReplica({ dataDir: fdir, servers: nats.url(0), stream: 'five' })
    await follower.waitFor(r.globalSequence + 1n)
    expect(expectSameLog(fresh, follower.store)).toBe(Number(end) + 1)
    await follower.close()
    // A replica restarted past the fence (its consumer starts at a lower bound) skips what it has.
    const after = fresh.append(new Coordinate('order/2', 'shop'), K, { by: 'new primary' })
    await newPub.waitFor(after.globalSequence + 1n)
    const resumed = await openReplica({ dataDir: fdir, servers: nats.url(0), stream: 'five' })
    await resumed.waitFor(after.globalSequence + 1n)
    expect(expectSameLog(fresh, resumed.store)).toBe(Number(end) + 2)
    expect(await resumed.catchUp()).toBe(end + 3n)
    await resumed.close()
    await newPub.close()
    fresh.close()
    old.close()
  })

  it('a standby follows while the primary renews its lease, and promotes itself (fence first) once the lease expires', async () => {
    const pdir = tempDir('repl')
    const primary = Store.open({ dataDir: pdir, replicate: { servers: nats.url(0), stream: 'nine', replicas: 1, leaseTtlMs: 600 } })
    await primary.replication!.ready
    expect(primary.replication!.status()!.lease).toBe('held')
    fill(primary, 30)
    const acked = await primary.append(new Coordinate('a', 's'), Placed, {}, { durable: 'replicated' })
    const s = await standby({ dataDir: tempDir('standby'), servers: nats.url(0), stream: 'nine', leaseTtlMs: 600, replicas: 1 })
    await new Promise((r) => setTimeout(r, 1500))
    expect(s.status()).toMatchObject({ state: 'following', leaseHolder: expect.stringContaining(pdir) })
    // The primary stops renewing (closed): the servers drop its lease a TTL later and the standby takes over.
    const t0 = Date.now()
    primary.close()
    await primary.replication!.closed
    const report = await s.promoted
    expect(Date.now() - t0).toBeLessThan(10_000)
    expect(report).toMatchObject({ next: acked.globalSequence + 1n, caughtUp: true })
    expect(s.status()).toMatchObject({ state: 'primary', leaseHolder: expect.not.stringContaining(pdir) })
    expect(s.store.get(acked.eventId)?.eventId).toBe(acked.eventId)
    const r = await s.store.append(new Coordinate('b', 's'), Placed, {}, { durable: 'replicated' })
    expect(r.globalSequence).toBe(report.next)
    // The old primary reopened: fenced at resume, its lease lost to the standby.
    const back = Store.open({ dataDir: pdir, replicate: { servers: nats.url(0), stream: 'nine', replicas: 1, leaseTtlMs: 600 } })
    await back.replication!.ready
    await expect(back.append(new Coordinate('a', 's'), Placed, {}, { durable: 'replicated' })).rejects.toMatchObject({ code: 'E_FENCED' })
    expect(back.replication!.status()).toMatchObject({ fenced: true, lease: 'stopped' })
    back.close()
    await back.replication!.closed
    await s.close()
  })

  it('causeway standby (CLI) takes over from a `causeway replicate --lease-ttl-ms` sidecar that stopped', async () => {
    const pdir = tempDir('repl')
    const primary = Store.open({ dataDir: pdir })
    const end = fill(primary, 50)
    primary.sync()
    const bin = path.join(repoRoot, 'bin/causeway')
    const lines = (child: ReturnType<typeof spawn>) => {
      const out: Array<Record<string, unknown>> = []
      let buf = ''
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString()
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          out.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>)
          buf = buf.slice(nl + 1)
        }
      })
      return out
    }
    const args = ['--nats', nats.url(0), '--stream', 'ten', '--replicas', '1', '--lease-ttl-ms', '600', '--status-ms', '50']
    const sidecar = spawn(process.execPath, [bin, 'replicate', pdir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    const pub = lines(sidecar)
    await waitUntil(() => pub.some((l) => l.acknowledged === String(end) && l.lease === 'held'))
    const sdir = tempDir('standby')
    const child = spawn(process.execPath, [bin, 'standby', sdir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    const st = lines(child)
    await waitUntil(() => st.some((l) => l.state === 'following'))
    await new Promise((r) => setTimeout(r, 1200))
    expect(st.every((l) => l.state === 'following')).toBe(true)
    sidecar.kill('SIGTERM')
    await new Promise((r) => sidecar.once('exit', r))
    await waitUntil(() => st.some((l) => l.state === 'primary'))
    child.kill('SIGTERM')
    const code = await new Promise((r) => child.once('exit', r))
    expect(code).toBe(0)
    const promoted = Store.open({ dataDir: sdir })
    expect(expectSameLog(primary, promoted)).toBe(Number(end))
    expect(promoted.append(new Coordinate('b', 's'), Placed, {}).globalSequence).toBe(end)
    promoted.close()
    primary.close()
  })
})
