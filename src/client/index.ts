/**
 * causeway/client: the service's async API, mirroring Store's names and
 * shapes (receipts and events with bigints, the library's error classes),
 * over fetch: it runs in Node 20+ and in browsers, and imports neither the
 * native addon nor any node: module.
 *
 *   const client = connect('http://127.0.0.1:8080', { token })
 *   const r = await client.append({ entity: 'order:1', scope: 'shop' }, 'OrderPlaced', { total: 5 })
 *   for await (const e of client.cursor({ region: { scope: 'shop' } })) ...
 */
import { InvalidArgumentError, NotFoundError } from '../errors.js'
import { event, itemWire, kindWire, receipt } from './decode.js'
import { request, transport, type Transport } from './http.js'
import { live } from './live.js'
import { Paged } from './paged.js'
import type {
  AppendCondition,
  AppendOptions,
  AppendReceipt,
  BatchItem,
  ClientOptions,
  CoordinateLike,
  KindLike,
  LiveOptions,
  QueryOptions,
  Selection,
  StoredEvent,
  StreamOptions,
} from './types.js'

export * from '../errors.js'
export { Paged } from './paged.js'
export type * from './types.js'

type Obj = Record<string, unknown>

export class CausewayClient {
  private readonly t: Transport

  constructor(url: string, options: ClientOptions = {}) {
    this.t = transport(url, options)
  }

  get url(): string {
    return this.t.base
  }

  /** Appends one event. Retried after a network failure only when it carries an idempotency key. */
  async append(coord: CoordinateLike, kind: KindLike, payload: unknown, options: AppendOptions = {}): Promise<AppendReceipt> {
    const body = { entity: coord.entity, scope: coord.scope, ...kindWire(kind), payload: payload ?? null, ...(Object.keys(options).length ? { options } : {}) }
    return receipt((await request(this.t, 'POST', '/v1/append', body, options.idempotencyKey !== undefined)) as Obj)
  }

  /** Appends events atomically. Retried only when every item carries an idempotency key. */
  async appendBatch(items: readonly BatchItem[], options: { durable?: boolean } = {}): Promise<AppendReceipt[]> {
    const r = (await request(this.t, 'POST', '/v1/batch', { items: items.map(itemWire), ...options }, allKeyed(items))) as { receipts: Obj[] }
    return r.receipts.map(receipt)
  }

  /** Appends the items unless an event matching the condition exists after `after` (AppendConditionError). */
  async appendIf(items: readonly BatchItem[], condition: AppendCondition, options: { durable?: boolean } = {}): Promise<AppendReceipt[]> {
    const c = { ...condition.failIfEventsMatch, after: condition.after === null ? null : condition.after.toString() }
    const r = (await request(this.t, 'POST', '/v1/append-if', { items: items.map(itemWire), condition: c, ...options }, allKeyed(items))) as { receipts: Obj[] }
    return r.receipts.map(receipt)
  }

  /** The event with this id, or undefined. */
  async get<P = unknown>(eventId: string): Promise<StoredEvent<P> | undefined> {
    try {
      return event<P>((await request(this.t, 'GET', `/v1/events/${encodeURIComponent(eventId)}`, undefined, true)) as Obj)
    } catch (e) {
      if (e instanceof NotFoundError) return undefined
      throw e
    }
  }

  /** An entity's events in clock order, fetched a page at a time. */
  stream<P = unknown>(entity: string, options: StreamOptions = {}): Paged<StoredEvent<P>> {
    return new Paged(async (next) => {
      const q = new URLSearchParams()
      const o: StreamOptions = { ...options }
      if (next !== undefined) {
        if (o.reverse) o.toClock = Number(next) - 1
        else o.fromClock = Number(next) + 1
      }
      for (const [k, v] of Object.entries(o)) if (v !== undefined) q.set(k, String(v))
      const r = (await request(this.t, 'GET', `/v1/streams/${encodeURIComponent(entity)}?${q}`, undefined, true)) as { events: Obj[]; next: number | null }
      return { items: r.events.map((e) => event<P>(e)), next: r.next === null ? undefined : BigInt(r.next) }
    })
  }

  /** The events a region or DCB query selects, in global order, a page at a time. */
  query<P = unknown>(selection: Selection, options: QueryOptions = {}): Paged<StoredEvent<P>> {
    return new Paged(async (next) => {
      const after = next ?? options.after
      const body = { ...selection, ...(options.limit !== undefined ? { limit: options.limit } : {}), ...(options.reverse ? { reverse: true } : {}), ...(after !== undefined ? { after: after.toString() } : {}) }
      // A query only reads: safe to retry.
      const r = (await request(this.t, 'POST', '/v1/query', body, true)) as { events: Obj[]; next: string | null }
      return { items: r.events.map((e) => event<P>(e)), next: r.next === null ? undefined : BigInt(r.next) }
    })
  }

  async stats(): Promise<Obj> {
    return (await request(this.t, 'GET', '/v1/stats', undefined, true)) as Obj
  }

  async health(): Promise<{ status: string }> {
    return (await request(this.t, 'GET', '/health', undefined, true)) as { status: string }
  }

  /** { ready: true, role } while the store is open and the server not closing; throws StoreClosedError otherwise. */
  async ready(): Promise<{ ready: boolean; role: string }> {
    return (await request(this.t, 'GET', '/ready', undefined, false)) as { ready: boolean; role: string }
  }

  /** Guaranteed delivery (at-least-once across reconnects) of the selection's events, from `after` or the first. */
  cursor<P = unknown>(selection?: Selection, options: LiveOptions = {}): AsyncGenerator<StoredEvent<P>> {
    return live<P>(this.t, 'cursor', selection, options)
  }

  /** Lossy delivery of events appended from now on; lag throws SubscriptionLaggedError unless `onLag` is given. */
  subscribe<P = unknown>(selection?: Selection, options: Pick<LiveOptions, 'onLag'> = {}): AsyncGenerator<StoredEvent<P>> {
    return live<P>(this.t, 'subscription', selection, options)
  }
}

function allKeyed(items: readonly BatchItem[]): boolean {
  if (!Array.isArray(items) || items.length === 0) throw new InvalidArgumentError('items must be a non-empty array')
  return items.every((it) => it.idempotencyKey !== undefined)
}

/** A client of the service at `url` (nothing is sent until the first call). */
export function connect(url: string, options: ClientOptions = {}): CausewayClient {
  return new CausewayClient(url, options)
}
