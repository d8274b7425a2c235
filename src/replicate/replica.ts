/**
 * openReplica({ dataDir, servers, stream }): a local store built and kept
 * up to date from the stream (an ordered JetStream consumer from the
 * store's end), byte for byte the primary's log. The replica holds the
 * store's writer role (exclusive) so that nothing else appends to it;
 * `store` serves every read API meanwhile.
 */
import * as fs from 'node:fs'
import type { ConsumerMessages, JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { InvalidArgumentError, isCausewayError, ReplicationError } from '../errors.js'
import { DEFAULT_FILE_MODE, dirModeFor } from '../options.js'
import { Store } from '../store.js'
import { checkOptions, optionKeys } from '../strict.js'
import { FrameAppender } from './frames.js'
import { loadNats, type NatsPeers, STALE_SERVER } from './nats.js'
import { readRole, writeRole } from './role.js'
import { serverList } from './replicate.js'
import { checkFrame, checkStreamName, encodeFence, fenceSubjectOf, frameSequence } from './wire.js'
import { ensureStream } from './stream.js'
import type { ReplicaHandle, ReplicaOptions, ReplicaStatus } from './api-types.js'

export type { ReplicaOptions, ReplicaStatus } from './api-types.js'



/** A consumer that delivers nothing this long while the stream is ahead of the replica is replaced. */
const STALL_MS = 3000

const KEYS = optionKeys<ReplicaOptions>()(['dataDir', 'servers', 'stream', 'fileMode'])

export class Replica implements ReplicaHandle {
  private lag = 0
  /** Every stream message up to this stream sequence is applied (or skipped: fence markers). */
  private streamSeen = 0n
  private readonly streamWaiters: Array<{ at: bigint; resolve: () => void; reject: (e: Error) => void }> = []
  private stopped = false
  private error: { code: string; message: string } | null = null
  private messages: ConsumerMessages | undefined
  private readonly waiters: Array<{ at: bigint; resolve: () => void; reject: (e: Error) => void }> = []
  readonly done: Promise<void>

  /** @internal use openReplica() */
  constructor(
    readonly store: Store,
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    readonly stream: string,
  ) {
    this.done = this.run()
    this.done.catch(() => undefined)
    store.meter.replication = () => {
      const s = this.status()
      return { role: 'replica', stream: s.stream, lagEvents: s.lag, position: Number(s.applied), error: s.error }
    }
  }

  status(): ReplicaStatus {
    return { stream: this.stream, applied: this.applied(), lag: this.lag, running: !this.stopped, error: this.error }
  }

  /** Resolves once the replica holds every event below `sequence`. */
  waitFor(sequence: bigint): Promise<void> {
    if (this.applied() >= sequence) return Promise.resolve()
    if (this.stopped) return Promise.reject(new ReplicationError(this.error?.message ?? 'the replica stopped'))
    return new Promise((resolve, reject) => this.waiters.push({ at: sequence, resolve, reject }))
  }

  /** Resolves once the replica holds every message the stream has now; returns the stream's last sequence. */
  async catchUp(): Promise<bigint> {
    const info = await this.jsm.streams.info(this.stream)
    const last = BigInt(info.state.last_seq)
    if (this.covered() < last) {
      if (this.stopped) throw new ReplicationError(this.error?.message ?? 'the replica stopped')
      await new Promise<void>((resolve, reject) => this.streamWaiters.push({ at: last, resolve, reject }))
    }
    return last
  }

  /**
   * @internal promote's fence: catches up, then publishes a fence marker
   * naming `writer` that JetStream takes only if the stream still ends where
   * the replica caught up to; a publish in between (the old primary still
   * writes) means catching up again. Returns the global sequence the new
   * writer goes on from.
   */
  async fence(writer: string, attempts = 20): Promise<bigint> {
    const peers = loadNats()
    await ensureStream(peers, this.jsm, this.stream, 3)
    const js = peers.jetstream.jetstream(this.nc)
    for (let i = 0; ; i++) {
      const last = await this.catchUp()
      const next = this.applied()
      try {
        await js.publish(fenceSubjectOf(this.stream), encodeFence({ writer, next }), { msgID: `fence-${writer}-${last}`, expect: { lastSequence: Number(last) } })
        return next
      } catch (e) {
        if ((e as { code?: unknown }).code !== peers.jetstream.JetStreamApiCodes.StreamWrongLastSequence || i + 1 >= attempts) throw e
      }
    }
  }

  private covered(): bigint {
    const a = this.applied()
    return this.streamSeen > a ? this.streamSeen : a
  }

  /** Stops following; closes the connection and the store. */
  async close(): Promise<void> {
    this.stopped = true
    if (!this.store.closed) this.store.meter.replication = undefined
    // stop(), not close(): an ordered consumer's close() can wait on the server; the
    // ephemeral consumer goes away with the connection (closed below).
    this.messages?.stop()
    await this.done.catch(() => undefined)
    await this.nc.close().catch(() => undefined)
    if (!this.store.closed) this.store.close()
  }

  private applied(): bigint {
    return this.store.closed ? 0n : BigInt(this.store.nativeHandle().nextSequence())
  }

  private async run(): Promise<void> {
    const peers = loadNats()
    const appender = new FrameAppender(this.store)
    const js = peers.jetstream.jetstream(this.nc)
    try {
      while (!this.stopped) {
        // A fresh consumer from the store's end: an incomplete batch is dropped and read again.
        appender.reset()
        await this.follow(peers, js, appender)
      }
    } catch (e) {
      this.error = { code: String((e as { code?: unknown }).code ?? 'E_REPLICATION'), message: (e as Error).message }
      throw e
    } finally {
      this.stopped = true
      for (const w of [...this.waiters.splice(0), ...this.streamWaiters.splice(0)]) w.reject(new ReplicationError(this.error?.message ?? 'the replica stopped'))
    }
  }

  /**
   * Follows the stream with one ordered consumer (no gaps, no repeats) until
   * the replica stops or the watchdog ends it: after a node's death the
   * client's own recovery of the consumer was seen to stall for minutes, so a
   * consumer that delivers nothing while the stream is ahead is replaced.
   */
  private async follow(peers: NatsPeers, js: JetStreamClient, appender: FrameAppender): Promise<void> {
    let messages: ConsumerMessages
    try {
      const consumer = await js.consumers.get(this.stream, {
        deliver_policy: peers.jetstream.DeliverPolicy.StartSequence,
        opt_start_seq: Number(this.applied()) + 1,
      })
      // Pulls expire after 5 s (heartbeats at half that) instead of the default 30 s.
      messages = await consumer.consume({ max_messages: 1024, expires: 5000 })
    } catch (e) {
      if (isCausewayError(e)) throw e
      this.error = { code: String((e as { code?: unknown }).code ?? 'E_NATS'), message: (e as Error).message }
      await new Promise((r) => setTimeout(r, 500))
      return
    }
    this.messages = messages
    const fenceSubject = fenceSubjectOf(this.stream)
    // close() may have run while the consumer was being made: it found nothing to stop.
    if (this.stopped) messages.stop()
    // Stream sequence g + 1 + (fence markers before g) holds global sequence g: starting at
    // applied + 1 never misses one; what comes before the store's end is skipped.
    this.streamSeen = this.covered()
    let seen = this.streamSeen
    const watchdog = setInterval(() => {
      const now = this.streamSeen
      if (now !== seen || this.stopped) {
        seen = now
        return
      }
      this.jsm.streams.info(this.stream).then(
        (info) => {
          if (BigInt(info.state.last_seq) > this.streamSeen && this.streamSeen === seen) messages.stop()
        },
        () => messages.stop(),
      )
    }, STALL_MS)
    try {
      let expect = this.applied()
      for await (const m of messages) {
        if (this.stopped) break
        if (m.subject === fenceSubject) {
          this.advance(m.seq, m.info.pending, appender)
          continue
        }
        const frame = m.data
        if (!checkFrame(frame) || BigInt(m.seq) < frameSequence(frame) + 1n) {
          throw new ReplicationError(`stream message ${m.seq} is not an event frame of global sequence ${m.seq - 1} or below`)
        }
        const g = frameSequence(frame)
        if (g > expect) throw new ReplicationError(`stream message ${m.seq} skips from global sequence ${expect} to ${g}`)
        if (g < expect) {
          // Before the store's end (the consumer starts at a lower bound): applied already.
          this.advance(m.seq, m.info.pending, appender)
          continue
        }
        appender.add(frame)
        expect++
        this.advance(m.seq, m.info.pending, appender)
      }
    } catch (e) {
      // The stream's own refusals stop the replica; a lost connection or consumer is retried.
      if (isCausewayError(e)) throw e
      this.error = { code: String((e as { code?: unknown }).code ?? 'E_NATS'), message: (e as Error).message }
      await new Promise((r) => setTimeout(r, 500))
    } finally {
      clearInterval(watchdog)
      messages.stop()
    }
  }

  private advance(seq: number, pending: number, appender: FrameAppender): void {
    if (!appender.holding) this.streamSeen = BigInt(seq)
    // Following again after a lost node or consumer: that error is over.
    this.error = null
    this.lag = pending
    if (!appender.holding) this.settle()
  }

  private settle(): void {
    for (let i = this.streamWaiters.length - 1; i >= 0; i--) {
      if (this.streamSeen >= this.streamWaiters[i]!.at) this.streamWaiters.splice(i, 1)[0]!.resolve()
    }
    const at = this.applied()
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (at >= this.waiters[i]!.at) this.waiters.splice(i, 1)[0]!.resolve()
    }
  }
}

/** Opens (or creates) a replica store in `dataDir` and starts following the stream. */
export async function openReplica(options: ReplicaOptions): Promise<Replica> {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('openReplica options must be an object')
  checkOptions('openReplica', options, KEYS)
  if (typeof options.dataDir !== 'string' || options.dataDir === '') throw new InvalidArgumentError('dataDir must be a path')
  const servers = serverList(options.servers)
  const stream = checkStreamName(options.stream)
  const role = fs.existsSync(options.dataDir) ? readRole(options.dataDir) : undefined
  if (role?.role === 'primary') throw new ReplicationError(`${options.dataDir} was promoted: it is a primary now, not a replica`)
  if (role && role.stream !== stream) throw new ReplicationError(`${options.dataDir} replicates stream ${role.stream}, not ${stream}`)
  const fileMode = options.fileMode ?? DEFAULT_FILE_MODE
  fs.mkdirSync(options.dataDir, { recursive: true, mode: dirModeFor(fileMode) })
  const peers = loadNats()
  const nc = await peers.transport.connect({ servers, name: `causeway-replica-${stream}`, maxReconnectAttempts: -1, reconnectTimeWait: 250, ...STALE_SERVER })
  let store: Store | undefined
  try {
    const jsm = await peers.jetstream.jetstreamManager(nc)
    await jsm.streams.info(stream)
    store = Store.open({ dataDir: options.dataDir, exclusive: true, fileMode })
    if (!role) writeRole(options.dataDir, 'replica', stream, fileMode)
    return new Replica(store, nc, jsm, stream)
  } catch (e) {
    store?.close()
    await nc.close().catch(() => undefined)
    throw e
  }
}
