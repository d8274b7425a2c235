/**
 * The writer's lease for automatic failover, in a JetStream KV bucket
 * `causeway-lease-<stream>` (key `writer`) whose entries the servers expire
 * `ttlMs` after their last write (the bucket's max age): no client clock is
 * trusted. The holder renews it every ttlMs / 3 by a compare-and-set on the
 * entry's revision; a standby takes it only once it is gone (kv.create).
 */
import * as os from 'node:os'
import * as path from 'node:path'
import type { KV } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/transport-node'
import { loadKv } from './nats.js'

import type { LeaseState } from './api-types.js'

export type { LeaseState } from './api-types.js'

const KEY = 'writer'

/** A store's holder identity: its machine and directory (stable across restarts of the same store). */
export function holderOf(dataDir: string): string {
  return `${os.hostname()}:${path.resolve(dataDir)}`
}

export async function openLeaseBucket(nc: NatsConnection, stream: string, ttlMs: number, replicas: number): Promise<KV> {
  const { Kvm } = loadKv()
  // create() opens the bucket when it exists (its ttl then stays as it was made).
  return new Kvm(nc).create(`causeway-lease-${stream}`, { ttl: ttlMs, history: 1, replicas })
}

export class Lease {
  private revision = 0
  private timer: NodeJS.Timeout | undefined
  state: LeaseState = 'waiting'
  /** The holder seen last when it was not this one. */
  other: string | null = null

  constructor(
    private readonly kv: KV,
    readonly holder: string,
    readonly ttlMs: number,
  ) {}

  /** Takes the lease when nobody holds it (or this holder did, before a restart); true when held. */
  async tryTake(): Promise<boolean> {
    const e = await this.kv.get(KEY)
    const value = JSON.stringify({ holder: this.holder, at: new Date().toISOString() })
    try {
      if (e && e.operation === 'PUT') {
        const holder = (e.json() as { holder?: unknown }).holder
        if (holder !== this.holder) {
          this.other = typeof holder === 'string' ? holder : '?'
          return false
        }
        this.revision = await this.kv.update(KEY, value, e.revision)
      } else {
        this.revision = await this.kv.create(KEY, value)
      }
    } catch {
      // Someone else wrote it between the get and the write.
      return false
    }
    this.state = 'held'
    return true
  }

  /** Renews a held lease; a failed compare-and-set means another holder took it: lost. */
  private async renew(): Promise<void> {
    if (this.state === 'waiting') {
      await this.tryTake().catch(() => false)
      return
    }
    if (this.state !== 'held') return
    try {
      this.revision = await this.kv.update(KEY, JSON.stringify({ holder: this.holder, at: new Date().toISOString() }), this.revision)
    } catch (e) {
      const code = (e as { code?: unknown }).code
      // 10071: the entry moved on (expired and taken): the lease is gone. Anything else (a timeout) is retried.
      if (code === 10071) this.state = 'lost'
    }
  }

  /** Renews every ttlMs / 3 (and keeps trying to take it while waiting) until stop(). */
  keep(): void {
    if (this.timer || this.state === 'stopped') return
    const tick = (): void => {
      this.timer = setTimeout(() => {
        void this.renew().finally(() => {
          if (this.state !== 'stopped' && this.state !== 'lost') tick()
        })
      }, Math.max(50, Math.floor(this.ttlMs / 3)))
      this.timer.unref?.()
    }
    tick()
  }

  stop(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.state = 'stopped'
  }
}
