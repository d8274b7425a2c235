/**
 * The publisher: follows a store from its acknowledged position and
 * publishes every event, in global order, to the stream (wire.ts). Each
 * publish names the stream sequence it expects before it
 * (Nats-Expected-Last-Sequence = the stream's last sequence as this
 * publisher left it), so nobody else's message can come between two of its
 * events: a publisher whose stream moved on without it (a promote published
 * a fence marker, a promoted replica writes there) is fenced.
 */
import type { JetStreamClient, JetStreamManager, PubAck } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { FencedError, isCausewayError, ReplicationError } from '../errors.js'
import type { StoredEvent } from '../event.js'
import { Notifier } from '../delivery/notifier.js'
import type { Store } from '../store.js'
import { replicationLinkOf, setReplicationLink } from '../replication-link.js'
import type { NatsPeers } from './nats.js'
import type { StateFile } from './state.js'
import type { Lease } from './lease.js'
import type { ReplicationStatus } from './api-types.js'
export type { ReplicationStatus } from './api-types.js'
import { checkFrame, decodeFence, fenceSubjectOf, frameOf, frameSequence, SEQUENCE_HEADER, subjectOf } from './wire.js'


/** A read-only store only learns of a writer's appends by refresh(): this often when nothing woke it. */
const REFRESH_MS = 200
const RETRY_MS = [100, 250, 500, 1000, 2000]

export class Publisher {
  private next = 0n
  /** The stream's last sequence as this publisher knows it (its expected last sequence). */
  private streamLast = 0n
  private published = 0
  private duplicates = 0
  private lastAckAt: number | null = null
  private error: { code: string; message: string } | null = null
  private fenced = false
  private stopped = false
  private wake: (() => void) | undefined
  private readonly waiters: Array<{ at: bigint; resolve: () => void; reject: (e: Error) => void }> = []
  readonly done: Promise<void>

  constructor(
    private readonly peers: NatsPeers,
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly store: Store,
    private readonly state: StateFile,
    private readonly stream: string,
    private readonly batchSize: number,
    private readonly onlyDurable: boolean,
    /** This store's writer identity (a promoted store's, from role.json); a fence marker naming another fences it. */
    private readonly writer: string | undefined,
    /** The failover lease this publisher keeps renewed (replicate's leaseTtlMs), if any. */
    private readonly lease?: Lease,
  ) {
    this.done = this.run()
    // A rejected `done` nobody awaits is still reported through status() and waitFor().
    this.done.catch(() => undefined)
    // Appends with durable: 'replicated' wait on this publisher (replication-link.ts).
    setReplicationLink(store, this)
    store.meter.replication = () => {
      const s = this.status()
      return { role: 'publisher', stream: s.stream, lagEvents: s.lag, position: Number(s.acknowledged), published: s.published, duplicates: s.duplicates, lastAckAt: s.lastAckAt, fenced: s.fenced, error: s.error }
    }
  }

  status(): ReplicationStatus {
    const storeNext = this.store.closed ? this.next : BigInt(this.store.nativeHandle().nextSequence())
    return {
      stream: this.stream,
      acknowledged: this.next,
      storeNext,
      lag: Number(storeNext > this.next ? storeNext - this.next : 0n),
      published: this.published,
      duplicates: this.duplicates,
      lastAckAt: this.lastAckAt,
      running: !this.stopped,
      fenced: this.fenced,
      error: this.error,
      lease: this.lease?.state ?? null,
    }
  }

  /** Resolves once every event below `sequence` is acknowledged by JetStream (rejects when fenced or closed first). */
  waitFor(sequence: bigint): Promise<void> {
    if (this.next >= sequence) return Promise.resolve()
    if (this.stopped) return Promise.reject(this.stopReason())
    return new Promise((resolve, reject) => {
      this.waiters.push({ at: sequence, resolve, reject })
      this.wake?.()
    })
  }

  /** @internal replication-link: why an append would not be acknowledged. */
  refusal(): Error | undefined {
    return this.stopped ? this.stopReason() : undefined
  }

  async close(): Promise<void> {
    this.stopped = true
    this.lease?.stop()
    this.store.meter.replication = undefined
    if (replicationLinkOf(this.store) === this) setReplicationLink(this.store, undefined)
    this.wake?.()
    await this.done.catch(() => undefined)
    await this.nc.close().catch(() => undefined)
  }

  private stopReason(): Error {
    if (this.fenced) return new FencedError(this.error?.message ?? 'fenced')
    return new ReplicationError('replication stopped before the event was acknowledged')
  }

  private async run(): Promise<void> {
    let attempt = 0
    try {
      while (!this.stopped) {
        try {
          await this.resume()
          await this.follow()
          return
        } catch (e) {
          if (isCausewayError(e)) throw e
          // A lost node, a leader election, a timeout: some publishes of the
          // window may have landed, so resume() asks the stream where it is.
          this.error = { code: String((e as { code?: unknown }).code ?? 'E_NATS'), message: (e as Error).message }
          await this.sleep(RETRY_MS[Math.min(attempt++, RETRY_MS.length - 1)]!)
        }
      }
    } catch (e) {
      this.fenced = isCausewayError(e, 'E_FENCED')
      this.error = { code: (e as { code: string }).code, message: (e as Error).message }
      throw e
    } finally {
      this.stopped = true
      // A publisher that stopped (fenced, or a stream it cannot go on with) no longer holds the writer's lease.
      this.lease?.stop()
      for (const w of this.waiters.splice(0)) w.reject(this.stopReason())
    }
  }

  /**
   * The position to go on from: the stream's last message, checked against
   * the store, wins over the saved one. A crash between an ack and the save
   * leaves the saved position behind the stream: going on from the stream's
   * end publishes nothing twice; a stream behind the saved position lost
   * acknowledged events, which is an error, not something to paper over.
   */
  private async resume(): Promise<void> {
    const saved = this.state.load()
    const info = await this.jsm.streams.info(this.stream)
    const last = BigInt(info.state.last_seq)
    let next = 0n
    if (last > 0n) {
      this.refreshIfReadOnly()
      const storeNext = BigInt(this.store.nativeHandle().nextSequence())
      const msg = await this.jsm.streams.getMessage(this.stream, { seq: Number(last) })
      if (!msg) throw new ReplicationError(`stream ${this.stream} has no message ${last}`)
      if (msg.subject === fenceSubjectOf(this.stream)) {
        const fence = decodeFence(msg.data)
        if (!fence || fence.writer !== this.writer) {
          throw new FencedError(`stream ${this.stream} was fenced at stream sequence ${last} for writer ${fence?.writer ?? '?'}: another writer owns the stream`)
        }
        if (storeNext < fence.next) throw new ReplicationError(`the fence of stream ${this.stream} goes on from global sequence ${fence.next}, which this store has not reached`)
        next = fence.next
      } else {
        if (!checkFrame(msg.data)) throw new ReplicationError(`stream ${this.stream} message ${last} is not an event frame`)
        const g = frameSequence(msg.data)
        const id = msg.header?.get('Nats-Msg-Id')
        const local = g < storeNext ? this.store.readFiltered({ fromSequence: Number(g), limit: 1 })[0] : undefined
        if (!local || local.globalSequence !== g || local.eventId !== id) {
          throw new FencedError(
            `stream ${this.stream} holds event ${id ?? '?'} at global sequence ${g}, which this store ${local ? `has as ${local.eventId}` : 'does not have'}: another writer owns the stream`,
          )
        }
        next = g + 1n
      }
    }
    if (saved !== undefined && saved > next) {
      throw new ReplicationError(`stream ${this.stream} ends at global sequence ${next} but JetStream acknowledged up to ${saved}: the stream lost events`)
    }
    this.next = next
    this.streamLast = last
    if (saved !== next) this.state.save(next)
    this.settle()
  }

  private async follow(): Promise<void> {
    const notifier = Notifier.of(this.store)
    while (!this.stopped && !this.store.closed) {
      const h = this.store.nativeHandle()
      // Someone waits for an ack (a replicated-durable append): sync now rather than
      // at the next background sync, so the wait is one fsync plus one JetStream ack.
      if (this.onlyDurable && !this.store.readOnly && this.waiters.some((w) => BigInt(h.durableSequence()) < w.at)) this.store.sync()
      const seen = h.nextSequence()
      const end = this.onlyDurable ? BigInt(h.durableSequence()) : BigInt(seen)
      const events = end > this.next ? this.store.readFiltered({ fromSequence: Number(this.next), limit: this.batchSize }) : []
      const ready = events.filter((e) => e.globalSequence < end)
      if (ready.length > 0) {
        await this.publishWindow(ready)
        this.state.save(this.next)
        this.error = null
        this.settle()
        continue
      }
      await this.idle(notifier, seen)
    }
  }

  /** Publishes the events pipelined on one connection (in order), then checks every ack. */
  private async publishWindow(events: StoredEvent[]): Promise<void> {
    const subject = subjectOf(this.stream)
    const base = this.streamLast
    const acks: Array<Promise<PubAck>> = events.map((e, i) => {
      const hdrs = this.peers.transport.headers()
      hdrs.set(SEQUENCE_HEADER, e.globalSequence.toString())
      return this.js.publish(subject, frameOf(e), {
        msgID: e.eventId,
        headers: hdrs,
        expect: { lastSequence: Number(base) + i },
      })
    })
    // Every promise gets a handler now: a failure after the first is not unhandled.
    const settled = acks.map((p) => p.then((a) => ({ a }), (err: unknown) => ({ err })))
    for (let i = 0; i < events.length; i++) {
      const r = await settled[i]!
      const g = events[i]!.globalSequence
      if ('err' in r) {
        if ((r.err as { code?: unknown }).code === this.peers.jetstream.JetStreamApiCodes.StreamWrongLastSequence) {
          throw new FencedError(`stream ${this.stream} refused global sequence ${g}: its last sequence moved on without this store (another writer owns the stream)`)
        }
        throw r.err
      }
      const at = base + BigInt(i) + 1n
      if (BigInt(r.a.seq) !== at) {
        throw new FencedError(`stream ${this.stream} stored global sequence ${g} at stream sequence ${r.a.seq}, not ${at}`)
      }
      this.streamLast = at
      if (r.a.duplicate) this.duplicates++
      else this.published++
      this.next = g + 1n
      this.lastAckAt = Date.now()
    }
  }

  private settle(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!
      if (this.next >= w.at) {
        this.waiters.splice(i, 1)
        w.resolve()
      }
    }
  }

  private refreshIfReadOnly(): void {
    if (this.store.readOnly) this.store.refresh()
  }

  /** Waits for an append, a close, or REFRESH_MS (then a read-only store refreshes; a writable one re-checks durability). */
  private async idle(notifier: Notifier, seen: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const cancel = new Promise<void>((resolve) => {
      this.wake = resolve
      timer = setTimeout(resolve, this.onlyDurable && !this.store.readOnly ? 5 : REFRESH_MS)
    })
    try {
      await notifier.wait(seen, cancel)
    } finally {
      clearTimeout(timer)
      this.wake = undefined
    }
    if (!this.stopped && !this.store.closed) this.refreshIfReadOnly()
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms)
      this.wake = () => {
        clearTimeout(t)
        resolve()
      }
    })
  }
}
