/**
 * What `causeway import` keeps of an exported event beyond its payload: the
 * event time, the tags and the type version it was stored with.
 *
 * Event time: an import appends anew, so the target store gives every event
 * a new record time (timestampUs). So that the original time is not lost,
 * an event that had no occurredAt gets its ORIGINAL record time as its
 * occurredAt: both times survive, the import's as the record time and the
 * original as the event time (what event-time queries, withOccurredRange,
 * filter on). An event that had an occurredAt keeps it, to the microsecond.
 */
import { checkTags } from '../event-ext.js'
import { Failure } from './errors.js'

/** The fields of a line (export's, or hand-written) read here. */
export interface ExtrasLine {
  timestampUs?: unknown
  occurredAtUs?: unknown
  /** Hand-written lines only: an ISO date or milliseconds. */
  occurredAt?: unknown
  tags?: unknown
  storedVersion?: unknown
}

export interface Extras {
  /** In milliseconds (fractional: microseconds survive the µs -> ms -> µs trip), or undefined. */
  occurredAt: number | undefined
  /** True when occurredAt is the line's original record time (it had no occurredAt). */
  fromRecordTime: boolean
  tags: string[] | undefined
  /** 1..65535; 1 when the line names none. */
  storedVersion: number
}

function microseconds(v: unknown, field: string, n: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new Failure(`line ${n}: ${field} must be an integer number of microseconds`)
  return v
}

/** Reads the extras of line n; a bad field stops the import with its line number. */
export function readExtras(line: ExtrasLine, n: number): Extras {
  let occurredAt: number | undefined
  let fromRecordTime = false
  if (line.occurredAtUs !== undefined) {
    occurredAt = microseconds(line.occurredAtUs, 'occurredAtUs', n) / 1000
  } else if (line.occurredAt !== undefined) {
    const ms = typeof line.occurredAt === 'string' ? Date.parse(line.occurredAt) : line.occurredAt
    if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new Failure(`line ${n}: occurredAt must be an ISO date or milliseconds since the epoch`)
    occurredAt = ms
  } else if (line.timestampUs !== undefined) {
    occurredAt = microseconds(line.timestampUs, 'timestampUs', n) / 1000
    fromRecordTime = true
  }
  let tags: string[] | undefined
  if (line.tags !== undefined) {
    try {
      tags = checkTags(line.tags)
    } catch (e) {
      throw new Failure(`line ${n}: ${(e as Error).message}`)
    }
  }
  const v = line.storedVersion ?? 1
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 0xffff) throw new Failure(`line ${n}: storedVersion must be an integer 1..65535`)
  return { occurredAt, fromRecordTime, tags, storedVersion: v }
}
