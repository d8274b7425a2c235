/** The native addon's interface, as TypeScript sees it. */
import type { NativeStats } from '../stats.js'

export type { NativeStats }

export interface NativeFilter {
  entity?: string
  exactEntity?: boolean
  scope?: string
  kind?: number
  category?: number
  clockFrom?: number
  clockTo?: number
  timeFromUs?: number
  timeToUs?: number
  fromSequence?: number
  /** Only events with a global sequence below this. */
  beforeSequence?: number
  /** Newest first: the index is walked from the end. */
  reverse?: boolean
  limit?: number
  /** Any one of these kinds. */
  kinds?: number[]
  /** Every one of these tags (served from the tag index). */
  tags?: string[]
  /** Event time (occurredAt, else the record time), inclusive, in µs. */
  occurredFromUs?: number
  occurredToUs?: number
  /** A DCB query: a row matches any one item; only the bounds of this filter (sequences, limit, reverse) apply. */
  anyOf?: NativeFilter[]
}

export interface NativeAggregateSpec {
  sizeUs: number
  stepUs: number
  /** 0: record time, 1: event time. */
  time: number
  /** 0: none, 1: kind, 2: scope, 3: entity prefix, 4: tag. */
  group: number
  tagPrefix?: string
  fields: string[][]
}

/** Cells sorted by window start then group name; `stats` holds 4 numbers (n, sum, min, max) per field per cell. */
export interface NativeAggregateResult {
  groups: string[]
  starts: Float64Array
  cellGroups: Uint32Array
  counts: Float64Array
  stats: Float64Array
}

export interface NativeStoreOptions {
  dataDir: string
  segmentMaxBytes: number
  syncEveryEvents: number
  syncEveryMs: number
  syncMode: 'data' | 'all' | 'none'
  maxPayloadBytes: number
  readOnly: boolean
  subscriberCapacity: number
  salvage: boolean
  /** Permission bits of created files (directories: each read bit adds its execute bit). */
  fileMode: number
  /** Refuse when another process writes, instead of becoming its client. */
  exclusive: boolean
  writerTimeoutMs: number
}

export interface NativeStore {
  setBuffers(request: Uint8Array, receipt: Uint8Array): void
  internEntity(name: string): number
  internScope(name: string): number
  append(payload: Uint8Array, durable: boolean, receiptOffset: number): void
  appendBatch(
    items: Uint8Array,
    bytes: Uint8Array,
    count: number,
    durable: boolean,
    receipts: Uint8Array,
    condition?: NativeFilter,
  ): void
  sync(): void
  close(): void
  query(filter: NativeFilter): Buffer
  /** Windowed aggregation over the filter's events (native/aggregate_store.cc); src/aggregate lays out the spec. */
  aggregate(filter: NativeFilter, spec: NativeAggregateSpec): NativeAggregateResult
  /** The entity's clock from the index (0 when it has no event); reads no frame. */
  clockOf(entity: string): number
  get(eventId: Uint8Array): Buffer | undefined
  stats(): NativeStats
  /** Counters and the sync/roll durations (µs) added since the two cursors. */
  metrics(syncFrom: number, rollFrom: number): NativeMetrics
  entityName(id: number): string
  scopeName(id: number): string
  byCorrelation(id: Uint8Array): Buffer
  effects(id: Uint8Array): Buffer
  subscriptionHead(): number
  subscriptionPoll(filter: NativeFilter, position: number, max: number): { records: Buffer; position: number; lagged: number }
  nextSequence(): number
  durableSequence(): number
  setNotify(fn: () => void): void
  armNotify(seenNextSequence: number, keepAlive: boolean): void
  idleNotify(): void
  sealedInfo(): { segments: number; lastId: number; fromSequence: number; toSequence: number }
  compact(strategy: string, upToId: number, minSegments: number, rejected: Float64Array): NativeCompactionReport
  snapshot(dest: string): NativeSnapshotReport
  /** The rewrite on the libuv pool; `id` names it for cancelAsync. */
  compactAsync(
    strategy: string,
    upToId: number,
    minSegments: number,
    rejected: Float64Array,
    id: number,
    onProgress?: (done: number, total: number) => void,
  ): Promise<NativeCompactionReport>
  snapshotAsync(dest: string, id: number, onProgress?: (done: number, total: number) => void): Promise<NativeSnapshotReport>
  /** Asks the operation `id` to stop before its commit point (a no-op once it settled). */
  cancelAsync(id: number): void
  refresh(): number
  segments(): NativeSegmentInfo[]
  scanVerified(fromSequence: number, limit: number): { records: Buffer; damaged: Array<{ sequence: number; message: string }> }
}

export interface NativeSnapshotReport {
  sequence: number
  segments: number
  linked: number
  copied: number
  bytes: number
}

export interface NativeSegmentInfo {
  id: number
  file: string
  baseSequence: number
  nextSequence: number
  bytes: number
  sealed: boolean
  active: boolean
}

export interface NativeCompactionReport {
  performed: boolean
  reason: string
  segmentsBefore: number
  segmentsAfter: number
  bytesBefore: number
  bytesAfter: number
  eventsKept: number
  eventsDropped: number
  eventsTombstoned: number
  firstSegment: number
  lastSegment: number
}

export interface Binding {
  init(classes: Record<string, unknown>): void
  NativeStore: new (options: NativeStoreOptions) => NativeStore
  blake3(data: Uint8Array): Buffer
  crc32c(data: Uint8Array, portable?: boolean): number
  crc32cImplementation: string
  formatVersion: number
  /** The addon's side of the shared byte layouts (native/js_layouts.h), checked against layouts.ts by a test. */
  layouts: Record<'request' | 'receipt' | 'item' | 'record', Record<string, number>>
  /** Internal, not public API: the per-segment index file (native/index_part.h), for test/index-part.test.ts. */
  indexPart: IndexPartBinding
}

/** A part's dump (indexPart.inspect); sequences are numbers. */
export interface IndexPartDump {
  firstSequence: number
  lastSequence: number
  tagCount: number
  rows: { sequence: number; timestamp: number; offset: number; entity: string; scope: string; kind: number; clock: number }[]
  entities: { name: string; found: number; lastClock: number; head: string; rows: number[] }[]
  scopes: { name: string; found: number; rows: number[] }[]
  kinds: Record<string, number[]>
}

/** The internal index-part binding (native/js_index_part.cc). */
export interface IndexPartBinding {
  build(segmentPath: string, dir: string, fileMode?: number): { path: string; rows: number; bytes: number }
  check(partPath: string, segmentPath: string): { ok: true }
  inspect(partPath: string, segmentPath: string): IndexPartDump
  lookup(partPath: string, segmentPath: string, what: 'tagRows' | 'findIdempotency', text: string): number[] | number | null
  lookup(partPath: string, segmentPath: string, what: 'findId' | 'correlated' | 'effects', hexId: string): number[] | number | null
}

/** What the addon's metrics() returns (see native/durations.h). */
export interface NativeMetrics {
  syncs: number
  syncErrors: number
  rolls: number
  syncNext: number
  rollNext: number
  syncMicros: Uint32Array
  rollMicros: Uint32Array
}
