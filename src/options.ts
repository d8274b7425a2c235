import { InvalidArgumentError } from './errors.js'
import type { NativeStoreOptions } from './native/binding.js'
import { checkOptions, optionKeys } from './strict.js'
import type { ProjectionSnapshotOptions } from './projection/snapshot-options.js'
import type { MaintenanceOptions } from './ops/maintenance-options.js'
import type { ReplicateOptions } from './replicate/api-types.js'

export interface SyncOptions {
  /** Sync after this many events are waiting. @defaultValue 1000 */
  everyEvents?: number
  /** Sync at most this many milliseconds after an append. @defaultValue 10 */
  everyMs?: number
  /**
   * 'data': fdatasync; 'all': fsync (metadata too); 'none': no background
   * sync (explicit sync() and durable appends still sync). @defaultValue 'data'
   */
  mode?: 'data' | 'all' | 'none'
}

export const SYNC_OPTION_KEYS = optionKeys<SyncOptions>()(['everyEvents', 'everyMs', 'mode'])

export interface StoreOptions {
  /** Directory of the store; created when missing (one level). */
  dataDir: string
  /** Segment files roll at this size. @defaultValue 64 MiB */
  segmentMaxBytes?: number
  sync?: SyncOptions
  /** Largest encoded payload accepted. @defaultValue 16 MiB */
  maxPayloadBytes?: number
  /** Open for reading only: no writes, never the writer role. @defaultValue false */
  readOnly?: boolean
  /**
   * Refuse the open (StoreLockedError) when another process writes the
   * store, instead of becoming its client. Without it, any number of
   * processes open one directory: one is the writer, the others carry their
   * writes to it (README, "Several processes"). @defaultValue false
   */
  exclusive?: boolean
  /**
   * A client process's write gives up after this many milliseconds without
   * a writer's answer (WriterUnavailableError; retry it with its
   * idempotency key). @defaultValue 10000
   */
  writerTimeoutMs?: number
  /**
   * Slots of the broadcast ring that feeds `subscribe()`: a subscriber more
   * than this many events behind is told it lagged. @defaultValue 65536
   */
  subscriberCapacity?: number
  /**
   * With readOnly only, for verification and forensics: never refuse the
   * open; skip damaged frames, read on after them, and list what could not
   * be read in `stats().damage`. @defaultValue false
   */
  salvage?: boolean
  /**
   * Permission bits of every file the store creates (segments, checkpoint,
   * lock, compaction files, cursor checkpoints, snapshots); directories get
   * the matching execute bit for each read bit (0o640 gives 0o750). The
   * process umask still applies. Must include owner read and write; ignored
   * on Windows. @defaultValue 0o600 (directories 0o700)
   */
  fileMode?: number
  /**
   * Persists `project()` states under `<dataDir>/projections/` so a reopen,
   * or another process, starts from them (README, "Projection snapshots").
   * `true` takes the defaults. @defaultValue off
   */
  projectionSnapshots?: boolean | ProjectionSnapshotOptions
  /** Background compaction and snapshots in the writer (README, "Automatic maintenance"). @defaultValue none */
  maintenance?: MaintenanceOptions
  /**
   * Publishes every committed event to a NATS JetStream stream from this
   * process (README, "Scale-out"); `store.replication` has its status,
   * close() stops it. Needs the optional peers @nats-io/transport-node and
   * @nats-io/jetstream (MissingDependencyError without them). @defaultValue none
   */
  replicate?: ReplicateOptions
}

/** The default file mode: owner only (payloads often hold personal data). */
export const DEFAULT_FILE_MODE = 0o600

/** A directory's mode for a file mode: each read bit adds the matching execute bit. */
export function dirModeFor(fileMode: number): number {
  return fileMode | ((fileMode & 0o444) >> 2)
}

/** Checks a file mode option: an integer within 0o600..0o777 including owner read and write. */
export function checkFileMode(v: unknown, what = 'fileMode'): number {
  if (v === undefined) return DEFAULT_FILE_MODE
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0o600 || v > 0o777 || (v & 0o600) !== 0o600) {
    const shown = typeof v === 'number' && Number.isInteger(v) && v >= 0 ? `0o${v.toString(8)}` : String(v)
    throw new InvalidArgumentError(`${what} must be an integer 0o600..0o777 that includes owner read and write (0o600), got ${shown}`)
  }
  return v
}

export const STORE_OPTION_KEYS = optionKeys<StoreOptions>()([
  'dataDir',
  'segmentMaxBytes',
  'sync',
  'maxPayloadBytes',
  'readOnly',
  'subscriberCapacity',
  'salvage',
  'fileMode',
  'exclusive',
  'writerTimeoutMs',
  'projectionSnapshots',
  'maintenance',
  'replicate',
])

function int(what: string, v: unknown, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(`${what} must be an integer ${min}..${max}, got ${String(v)}`)
  }
  return v
}

/** Checks the options once and fills in defaults. */
export function normalizeOptions(options: unknown): NativeStoreOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('Store.open expects an options object with dataDir')
  }
  checkOptions('Store.open', options, STORE_OPTION_KEYS)
  const o = options as StoreOptions
  if (typeof o.dataDir !== 'string' || o.dataDir.length === 0) {
    throw new InvalidArgumentError('dataDir must be a non-empty string')
  }
  const sync = o.sync ?? {}
  if (typeof sync !== 'object' || sync === null) throw new InvalidArgumentError('sync must be an object')
  checkOptions('Store.open sync', sync, SYNC_OPTION_KEYS)
  const mode = sync.mode ?? 'data'
  if (mode !== 'data' && mode !== 'all' && mode !== 'none') {
    throw new InvalidArgumentError(`sync.mode must be 'data', 'all' or 'none', got ${String(mode)}`)
  }
  if (o.readOnly !== undefined && typeof o.readOnly !== 'boolean') throw new InvalidArgumentError('readOnly must be a boolean')
  if (o.salvage !== undefined && typeof o.salvage !== 'boolean') throw new InvalidArgumentError('salvage must be a boolean')
  if (o.salvage && !o.readOnly) throw new InvalidArgumentError('salvage needs readOnly: true')
  if (o.exclusive !== undefined && typeof o.exclusive !== 'boolean') throw new InvalidArgumentError('exclusive must be a boolean')
  if (o.exclusive && o.readOnly) throw new InvalidArgumentError('exclusive and readOnly do not go together: a read-only open never excludes a writer')
  return {
    dataDir: o.dataDir,
    segmentMaxBytes: int('segmentMaxBytes', o.segmentMaxBytes, 64 * 1024 * 1024, 4096, 0xffffffff),
    syncEveryEvents: int('sync.everyEvents', sync.everyEvents, 1000, 1, 2 ** 32),
    syncEveryMs: int('sync.everyMs', sync.everyMs, 10, 1, 3_600_000),
    syncMode: mode,
    maxPayloadBytes: int('maxPayloadBytes', o.maxPayloadBytes, 16 * 1024 * 1024, 1, 64 * 1024 * 1024),
    readOnly: o.readOnly ?? false,
    subscriberCapacity: int('subscriberCapacity', o.subscriberCapacity, 65536, 16, 1 << 24),
    salvage: o.salvage ?? false,
    fileMode: checkFileMode(o.fileMode),
    exclusive: o.exclusive ?? false,
    writerTimeoutMs: int('writerTimeoutMs', o.writerTimeoutMs, 10_000, 1, 3_600_000),
  }
}
