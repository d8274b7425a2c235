import * as fs from 'node:fs'
import * as path from 'node:path'
import { blake3Hex, native } from '../native/loader.js'
import { writeAtomically } from './atomic-file.js'
import { packPlain, unpackState } from './state-codec.js'

/**
 * One projection's snapshot: `<dataDir>/projections/<hash>.cwps`, the hash
 * of (name, version, kinds) so no projection name reaches the file system.
 *
 *   +0  'CWPS'   +4 u32 format (1)   +8 u32 CRC-32C of the body   +12 u32 body bytes
 *   +16 body: MessagePack { name, version, kinds, epoch, writtenAt, entries }
 *
 * Each entry is [entity, scanned, position, eventId, state bytes]: the state
 * folded from every event of the entity up to global sequence `scanned`,
 * whose event has id `eventId` (checked on use: the same event must still
 * stand there). States stay encoded until an entity is asked for.
 */
export interface SnapshotEntry {
  scanned: bigint
  position: bigint | null
  eventId: string
  state: Uint8Array
}

export interface SnapshotContent {
  name: string
  version: number
  /** Sorted kind values, or null for every kind. */
  kinds: number[] | null
  epoch: number
  writtenAt: number
  entries: Map<string, SnapshotEntry>
}

const MAGIC = 0x53505743 // 'CWPS' little-endian
const FORMAT = 1
const HEADER = 16
export const SNAPSHOT_SUFFIX = '.cwps'

export function snapshotFile(dir: string, name: string, version: number, kinds: readonly number[] | null): string {
  const id = blake3Hex(Buffer.from(`${name}\u0000${version}\u0000${kinds ? kinds.join(',') : '*'}`)).slice(0, 32)
  return path.join(dir, `${id}${SNAPSHOT_SUFFIX}`)
}

type Row = [string, string, string | null, string, Uint8Array]

export function encodeSnapshot(c: SnapshotContent): Buffer {
  const rows: Row[] = []
  for (const [entity, e] of c.entries) rows.push([entity, e.scanned.toString(), e.position === null ? null : e.position.toString(), e.eventId, e.state])
  const body = packPlain({ name: c.name, version: c.version, kinds: c.kinds, epoch: c.epoch, writtenAt: c.writtenAt, entries: rows })
  const out = Buffer.allocUnsafe(HEADER + body.length)
  out.writeUInt32LE(MAGIC, 0)
  out.writeUInt32LE(FORMAT, 4)
  out.writeUInt32LE(native().crc32c(body), 8)
  out.writeUInt32LE(body.length, 12)
  body.copy(out, HEADER)
  return out
}

/** The file's content, or why it cannot be used (torn, flipped bits, another format). */
export function decodeSnapshot(buf: Buffer): SnapshotContent | { invalid: string } {
  if (buf.length < HEADER || buf.readUInt32LE(0) !== MAGIC) return { invalid: 'not a projection snapshot' }
  if (buf.readUInt32LE(4) !== FORMAT) return { invalid: `snapshot format ${buf.readUInt32LE(4)} is not ${FORMAT}` }
  const len = buf.readUInt32LE(12)
  if (len !== buf.length - HEADER) return { invalid: `body is ${buf.length - HEADER} bytes, header says ${len}` }
  const body = buf.subarray(HEADER)
  if (native().crc32c(body) !== buf.readUInt32LE(8)) return { invalid: 'CRC mismatch' }
  let v: { name?: unknown; version?: unknown; kinds?: unknown; epoch?: unknown; writtenAt?: unknown; entries?: unknown }
  try {
    v = unpackState(body) as typeof v
  } catch (e) {
    return { invalid: `undecodable body: ${(e as Error).message}` }
  }
  if (typeof v !== 'object' || v === null || typeof v.name !== 'string' || !Number.isSafeInteger(v.version) || !Number.isSafeInteger(v.epoch)) {
    return { invalid: 'malformed header fields' }
  }
  if (!(v.kinds === null || (Array.isArray(v.kinds) && v.kinds.every((k) => Number.isInteger(k)))) || !Array.isArray(v.entries)) {
    return { invalid: 'malformed kinds or entries' }
  }
  const entries = new Map<string, SnapshotEntry>()
  for (const r of v.entries as unknown[]) {
    if (!Array.isArray(r) || r.length !== 5 || typeof r[0] !== 'string' || typeof r[1] !== 'string' || typeof r[3] !== 'string' || !(r[4] instanceof Uint8Array)) {
      return { invalid: 'malformed entry' }
    }
    try {
      entries.set(r[0], { scanned: BigInt(r[1]), position: r[2] === null ? null : BigInt(r[2] as string), eventId: r[3], state: r[4] })
    } catch {
      return { invalid: 'malformed sequence in an entry' }
    }
  }
  return {
    name: v.name,
    version: v.version as number,
    kinds: v.kinds as number[] | null,
    epoch: v.epoch as number,
    writtenAt: typeof v.writtenAt === 'number' ? v.writtenAt : 0,
    entries,
  }
}

export function writeSnapshot(file: string, c: SnapshotContent, fileMode: number): number {
  const bytes = encodeSnapshot(c)
  writeAtomically(file, bytes, fileMode)
  return bytes.length
}

/** The file read and checked; undefined when there is none. */
export function readSnapshot(file: string): SnapshotContent | { invalid: string } | undefined {
  let buf: Buffer
  try {
    buf = fs.readFileSync(file)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    return { invalid: `unreadable: ${(e as Error).message}` }
  }
  return decodeSnapshot(buf)
}
