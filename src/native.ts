/**
 * The one place that loads the native addon. It declares the binding's
 * interface; the byte layouts it shares with native/js_store.h are below.
 */
import { createRequire } from 'node:module'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { errorClasses } from './errors.js'

/** Layout of the shared request buffer (TypeScript writes, native reads). */
export const Req = {
  entity: 0,
  scope: 4,
  kind: 8,
  flags: 10,
  expected: 12,
  correlation: 16,
  causation: 32,
  keyLen: 48,
  key: 52,
  size: 52 + 1024,
  hasExpected: 1,
  hasKey: 2,
  hasCorrelation: 4,
  hasCausation: 8,
  priorItem: 16,
} as const

/** Layout of one receipt (native writes). */
export const Rcpt = {
  sequence: 0,
  clock: 8,
  flags: 12,
  timestamp: 16,
  eventId: 24,
  correlation: 40,
  causation: 56,
  contentHash: 72,
  prevHash: 104,
  size: 136,
  durable: 1,
  deduplicated: 2,
  hasCausation: 4,
} as const

/** Layout of one batch item descriptor. */
export const Item = {
  entity: 0,
  scope: 4,
  kind: 8,
  flags: 10,
  expected: 12,
  priorItem: 16,
  payloadOffset: 20,
  payloadLen: 24,
  keyOffset: 28,
  keyLen: 32,
  correlation: 40,
  causation: 56,
  size: 72,
} as const

/** A read record: 16-byte prefix, then the frame as on disk (native/FORMAT.md). */
export const Rec = { span: 0, entity: 4, scope: 8, prefix: 16 } as const

/** Frame field offsets (native/format.h). */
export const Frame = {
  length: 0,
  flags: 9,
  kind: 10,
  entityLen: 12,
  scopeLen: 14,
  payloadLen: 16,
  clock: 20,
  sequence: 24,
  timestamp: 32,
  eventId: 40,
  correlation: 56,
  causation: 72,
  contentHash: 104,
  prevHash: 136,
  variable: 168,
  flagHasCausation: 0x08,
} as const

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
  limit?: number
}

export interface NativeStats {
  events: number
  nextSequence: number
  durableSequence: number
  segments: number
  bytes: number
  indexBytes: number
  entities: number
  scopes: number
  lastSyncUs: number
  syncs: number
  syncErrors: number
  recoveredTornBytes: number
}

export interface NativeStoreOptions {
  dataDir: string
  segmentMaxBytes: number
  syncEveryEvents: number
  syncEveryMs: number
  syncMode: 'data' | 'all' | 'none'
  maxPayloadBytes: number
  readOnly: boolean
}

export interface NativeStore {
  setBuffers(request: Uint8Array, receipt: Uint8Array): void
  internEntity(name: string): number
  internScope(name: string): number
  append(payload: Uint8Array, durable: boolean): void
  appendBatch(items: Uint8Array, bytes: Uint8Array, count: number, durable: boolean, receipts: Uint8Array): void
  sync(): void
  close(): void
  query(filter: NativeFilter): Buffer
  get(eventId: Uint8Array): Buffer | undefined
  stats(): NativeStats
  entityName(id: number): string
  scopeName(id: number): string
}

export interface Binding {
  init(classes: Record<string, unknown>): void
  NativeStore: new (options: NativeStoreOptions) => NativeStore
  blake3(data: Uint8Array): Buffer
  crc32c(data: Uint8Array, portable?: boolean): number
  crc32cImplementation: string
  formatVersion: number
}

/** The directory holding package.json: the addon is found relative to it. */
function packageRoot(): string {
  let dir = typeof __dirname === 'string' ? __dirname : process.cwd()
  for (;;) {
    const pj = path.join(dir, 'package.json')
    if (fs.existsSync(pj)) {
      try {
        if (JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'causeway') return dir
      } catch {
        /* keep looking */
      }
    }
    const up = path.dirname(dir)
    if (up === dir) throw new Error('causeway: cannot find its own package.json above ' + __dirname)
    dir = up
  }
}

function libc(): string {
  if (process.platform !== 'linux') return 'n/a'
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined
  return report?.header?.glibcVersionRuntime ? `glibc ${report.header.glibcVersionRuntime}` : 'musl (or unknown)'
}

function load(): Binding {
  const root = packageRoot()
  const req = createRequire(path.join(root, 'package.json'))
  const napi = Number(process.versions.napi ?? 0)
  if (napi < 8) {
    throw new Error(
      `causeway needs Node-API 8 or later; this Node ${process.version} has Node-API ${napi}. Use Node 20 or later.`,
    )
  }
  try {
    const gypBuild = req('node-gyp-build') as (dir: string) => Binding
    return gypBuild(root)
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e)
    throw new Error(
      [
        'causeway: could not load its native addon.',
        `  platform=${process.platform} arch=${process.arch} libc=${libc()} node=${process.version} napi=${napi}`,
        `  cause: ${reason}`,
        '  possible solutions:',
        '  - reinstall so the prebuilt binary for this platform is present (npm ci / npm install causeway)',
        '  - build from source: npm rebuild causeway (needs cmake and a C++20 compiler)',
      ].join('\n'),
    )
  }
}

let binding: Binding | undefined

/** The addon, loaded and given the error classes on first use. */
export function native(): Binding {
  if (!binding) {
    const b = load()
    b.init(errorClasses)
    binding = b
  }
  return binding
}
