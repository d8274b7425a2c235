import { type StoredEvent } from '../index.js'

/** A value JSON can carry: bigint as a decimal string, bytes as { $base64 }, Date as ISO text. */
export function jsonSafe(v: unknown, depth = 0): unknown {
  if (depth > 64) return '[nested too deep]'
  switch (typeof v) {
    case 'bigint':
      return v.toString()
    case 'number':
      return Number.isFinite(v) ? v : String(v)
    case 'string':
    case 'boolean':
      return v
    case 'object':
      if (v === null) return null
      if (v instanceof Uint8Array) return { $base64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') }
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString()
      if (isStoredEvent(v)) return eventRecord(v)
      if (Array.isArray(v)) return v.map((x) => jsonSafe(x, depth + 1))
      if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), jsonSafe(x, depth + 1)]))
      if (v instanceof Set) return [...v].map((x) => jsonSafe(x, depth + 1))
      {
        const out: Record<string, unknown> = {}
        for (const [k, x] of Object.entries(v)) if (typeof x !== 'function' && x !== undefined) out[k] = jsonSafe(x, depth + 1)
        return out
      }
    default:
      return undefined // functions, symbols, undefined: left out
  }
}

function isStoredEvent(v: object): v is StoredEvent {
  return 'eventId' in v && 'payloadBytes' in v && 'globalSequence' in v
}

/**
 * One event as a JSON object: the fields of StoredEvent.toJSON(), the kind
 * also as hex, and with `bytes` the stored MessagePack payload in base64
 * (`payloadBytes`), which is what `causeway import` appends.
 */
export function eventRecord(e: StoredEvent, bytes = false): Record<string, unknown> {
  const c = e.coordinate
  const rec: Record<string, unknown> = {
    eventId: e.eventId,
    globalSequence: e.globalSequence.toString(),
    coordinate: { entity: c.entity, scope: c.scope },
    kind: e.kind.value,
    kindHex: e.kind.toString(),
    ...(e.type !== undefined ? { type: e.type } : {}),
    clock: e.clock,
    timestampUs: e.timestampUs,
    // Present only when the event carries them, as in StoredEvent.toJSON().
    ...eventExtras(e),
    correlationId: e.correlationId,
    causationId: e.causationId,
    contentHash: e.contentHash,
    prevHash: e.prevHash,
    payload: jsonSafe(e.payload),
  }
  if (e.tombstoned) rec['tombstoned'] = true
  if (bytes) {
    const b = e.payloadBytes
    rec['payloadBytes'] = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')
  }
  return rec
}

/**
 * The fields of the extension block that the event has: `occurredAtUs`
 * (only when append was given occurredAt: otherwise the record time is the
 * event time), `storedVersion` (when not 1) and `tags` (when any).
 */
export function eventExtras(e: StoredEvent): { occurredAtUs?: number; storedVersion?: number; tags?: string[] } {
  const tags = e.tags
  return {
    ...(e.hasOccurredAt ? { occurredAtUs: e.occurredAtUs } : {}),
    ...(e.storedVersion !== 1 ? { storedVersion: e.storedVersion } : {}),
    ...(tags.length > 0 ? { tags } : {}),
  }
}

/** ISO time of a microsecond timestamp (millisecond precision). */
export function isoTime(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString()
}

/** A kind for people: its type name where one is defined (`order.placed`), else its value (`0x1001`). */
export function kindText(e: StoredEvent): string {
  return e.type ?? e.kind.toString()
}

/**
 * One line for people: `#12 2025-01-01T00:00:00.000Z order:42 @shop order.placed {"sku":"A-1"}` (a kind with no name: `0x1001`).
 * An event with an event time or tags has them after the kind, before the payload:
 * `... order.placed occurred=2024-12-31T23:00:00.000Z tags=[course:c1,student:s1] {...}`.
 */
export function eventLine(e: StoredEvent): string {
  const c = e.coordinate
  const payload = e.tombstoned ? '(tombstoned)' : JSON.stringify(jsonSafe(e.payload))
  return `#${e.globalSequence} ${isoTime(e.timestampUs)} ${c.entity} @${c.scope} ${kindText(e)}${extrasText(e)} ${payload}`
}

/** ` occurred=<ISO> tags=[a,b]` for what the event has, else ''. */
export function extrasText(e: StoredEvent): string {
  const x = eventExtras(e)
  let out = ''
  if (x.occurredAtUs !== undefined) out += ` occurred=${isoTime(x.occurredAtUs)}`
  if (x.tags) out += ` tags=[${x.tags.join(',')}]`
  return out
}

/** The type registry in one line: `order.placed=0xf000, order.shipped=0xf001`, or `none`. */
export function typesText(types: ReadonlyArray<{ name: string; kind: { toString(): string } }>): string {
  return types.length === 0 ? 'none defined' : types.map((t) => `${t.name}=${t.kind}`).join(', ')
}

/** "1 event", "2 events". */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}

/** Rows of `label  value`, the labels padded to one width. */
export function table(rows: ReadonlyArray<readonly [string, string]>, indent = ''): string {
  const w = Math.max(0, ...rows.map(([k]) => k.length))
  return rows.map(([k, v]) => `${indent}${k.padEnd(w)}  ${v}`.trimEnd()).join('\n')
}

/** 1536 -> "1.5 KiB". */
export function bytesText(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return i === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[i]}`
}

/**
 * Writes to a stream, waiting for 'drain' when its buffer is full (export of
 * large stores). A stream that fails or closes ends the wait too; its owner
 * reports the error.
 */
export function write(stream: NodeJS.WritableStream, text: string): Promise<void> | undefined {
  if (stream.write(text)) return undefined
  return new Promise((resolve) => {
    const done = () => {
      for (const ev of ['drain', 'error', 'close']) stream.off(ev, done)
      resolve()
    }
    for (const ev of ['drain', 'error', 'close']) stream.once(ev, done)
  })
}

/** Prints a JSON document on stdout (bigints as strings, bytes as base64). */
export function printJson(v: unknown): void {
  process.stdout.write(`${JSON.stringify(jsonSafe(v), null, 2)}\n`)
}

export function print(text: string): void {
  process.stdout.write(`${text}\n`)
}
