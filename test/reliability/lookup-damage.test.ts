/**
 * Target 4, lookups over damaged frames: a store opened from its checkpoint
 * does not re-check covered frames, so the lookups that compare against frame
 * bytes (`get` by id, idempotency keys, correlation, `walkAncestors`) must
 * check the frame first. Each trial flips one bit of one frame of a small
 * golden store (events with idempotency keys, causation and correlation
 * links), reopens it and looks up everything.
 * Pass: every `get` returns the right event or throws CorruptionError (never
 * undefined); re-appending every event under its original key returns its
 * original receipt or throws CorruptionError (never a new event: the count
 * is checked); walks and causal lookups over the damaged event give the
 * golden answer or CorruptionError. CorruptionError at open is fine too.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, isCausewayError, Store, type StoredEvent } from '../../src/index.js'
import { segmentFiles } from '../helpers.js'
import { FULL, figure, scale } from './profile.js'
import { copyDir, frameOffsets, scratch } from './tools.js'

const K = EventKind.custom(1, 2)
const N = 12

interface Golden {
  dir: string
  seg: string
  bytes: Buffer
  events: StoredEvent[]
  frames: Array<{ at: number; len: number }>
}

function coord(i: number): Coordinate {
  return new Coordinate(`order:${i % 3}`, 'shop')
}

function build(): Golden {
  const dir = scratch('lookup-golden')
  const s = Store.open({ dataDir: dir })
  let root = ''
  let prev = ''
  for (let i = 0; i < N; i++) {
    const r = s.append(coord(i), K, { i }, {
      idempotencyKey: `key-${i}`,
      ...(i > 0 ? { correlationId: root, causationId: prev } : {}),
    })
    if (i === 0) root = r.eventId
    prev = r.eventId
  }
  s.close()
  const seg = segmentFiles(dir)[0]!
  const bytes = fs.readFileSync(seg)
  const r = Store.open({ dataDir: dir, readOnly: true })
  const events = r.readFiltered({ fromSequence: 0 })
  for (const e of events) void e.coordinate // resolve names while the store is open
  r.close()
  return { dir, seg: path.basename(seg), bytes, events, frames: frameOffsets(bytes) }
}

interface Tally {
  trials: number
  openCorruption: number
  corruptionErrors: number // trials where a lookup threw CorruptionError
  silentMisses: number // a get or walk said "not found" for an event that is there
  wrongAnswers: number // an answer that differs from the golden one
  duplicates: number // a keyed re-append wrote a new event
  countChanged: number // trials whose event count changed
  other: string[] // any other error
}

const ids = (l: readonly StoredEvent[]) => l.map((e) => e.eventId).join(',')

/** Runs fn; true when it threw CorruptionError, rethrows anything else into tally.other. */
function guarded(t: Tally, what: string, fn: () => void): boolean {
  try {
    fn()
    return false
  } catch (e) {
    if (isCausewayError(e, 'E_CORRUPTION')) return true
    if (isCausewayError(e, 'E_NOT_FOUND')) {
      t.silentMisses++
      return false
    }
    t.other.push(`${what}: ${String(e)}`)
    return false
  }
}

function trial(g: Golden, dir: string, frame: number, bit: number, t: Tally): void {
  fs.rmSync(dir, { recursive: true, force: true })
  copyDir(g.dir, dir)
  const b = Buffer.from(g.bytes)
  const f = g.frames[frame]!
  b[f.at + (bit >> 3)]! ^= 1 << (bit & 7)
  fs.writeFileSync(path.join(dir, g.seg), b)
  t.trials++
  let s: Store
  try {
    s = Store.open({ dataDir: dir })
  } catch (e) {
    if (!isCausewayError(e, 'E_CORRUPTION')) throw e
    t.openCorruption++
    return
  }
  let corrupt = false
  const damaged = g.events[frame]!
  try {
    for (const e of g.events) {
      corrupt = guarded(t, `get #${e.globalSequence}`, () => {
        const got = s.get(e.eventId)
        if (got === undefined) t.silentMisses++
        else if (got.eventId !== e.eventId || got.contentHash !== e.contentHash) t.wrongAnswers++
      }) || corrupt
    }
    corrupt = guarded(t, 'walkAncestors', () => {
      const want = ids(g.events.filter((e) => e.coordinate.entity === damaged.coordinate.entity && e.clock <= damaged.clock).reverse())
      if (ids(s.walkAncestors(damaged.eventId)) !== want) t.wrongAnswers++
    }) || corrupt
    corrupt = guarded(t, 'effectsOf', () => {
      if (ids(s.effectsOf(damaged.eventId)) !== ids(g.events.filter((e) => e.causationId === damaged.eventId))) t.wrongAnswers++
    }) || corrupt
    corrupt = guarded(t, 'byCorrelation', () => {
      if (ids(s.byCorrelation(damaged.correlationId)) !== ids(g.events.filter((e) => e.correlationId === damaged.correlationId))) t.wrongAnswers++
    }) || corrupt
    g.events.forEach((e, i) => {
      corrupt = guarded(t, `re-append #${i}`, () => {
        const r = s.append(coord(i), K, { i }, { idempotencyKey: `key-${i}` })
        if (!r.deduplicated || r.eventId !== e.eventId) t.duplicates++
      }) || corrupt
    })
    if (s.stats().events !== N) t.countChanged++
  } finally {
    guarded(t, 'close', () => s.close())
  }
  if (corrupt) t.corruptionErrors++
}

describe('lookups over a damaged frame (target 4)', () => {
  it('answers every lookup over a bit-flipped frame rightly or with CorruptionError, never "not found" or a duplicate', () => {
    const g = build()
    expect(g.frames.length).toBe(N)
    // The root (named by every correlation), its first effect, a middle and the last event.
    const frames = scale([0, 5], [0, 1, 5, N - 1])
    const t: Tally = { trials: 0, openCorruption: 0, corruptionErrors: 0, silentMisses: 0, wrongAnswers: 0, duplicates: 0, countChanged: 0, other: [] }
    const dir = scratch('lookup-trial')
    const started = Date.now()
    for (const frame of frames) {
      const bits = g.frames[frame]!.len * 8
      // Quick: every 23rd bit (a prime stride, so each field gets some); full: every bit.
      for (let bit = 0; bit < bits; bit += FULL ? 1 : 23) trial(g, dir, frame, bit, t)
    }
    figure(
      4,
      `lookup damage: ${t.trials} trials over ${frames.length} frames, ${t.silentMisses} silent misses, ${t.duplicates} duplicates, ` +
        `${t.wrongAnswers} wrong answers, ${t.corruptionErrors} with CorruptionError on lookup, ${t.openCorruption} at open ` +
        `(${Date.now() - started} ms)`,
      { lookupDamage: { ...t, other: t.other.length } },
    )
    expect(t.other).toEqual([])
    expect({ silentMisses: t.silentMisses, duplicates: t.duplicates, countChanged: t.countChanged, wrongAnswers: t.wrongAnswers }).toEqual({
      silentMisses: 0,
      duplicates: 0,
      countChanged: 0,
      wrongAnswers: 0,
    })
    expect(t.corruptionErrors).toBeGreaterThan(0)
  }, 300_000)  // 128 trials, each a store rebuilt and reopened: about 75 s on an idle 2-core machine
})
