/**
 * Target 3, torn tail. The last three frames of the active segment (payloads
 * of 1, 2 and ~700 bytes, the last straddling a 4096-byte page boundary) lie
 * past the durable frontier. Cut the file at every byte offset of those
 * frames, leaving it short, zero-filled back to its size or garbage-filled
 * back to its size: the open recovers exactly the whole frames before the
 * cut, the next append takes the next sequence and links to the last
 * surviving event, and a second open changes no byte.
 * Cut below the frontier (synced bytes, or a sealed segment), and the store
 * refuses to open with CorruptionError naming segment and offset, read-only
 * or not, changing no byte.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Coordinate, CorruptionError, EventKind, Store } from '../../src/index.js'
import { segmentFiles } from '../helpers.js'
import { figure, rng, scale } from './profile.js'
import { copyDir, dirDigest, digestEqual, frameOffsets, readFrom, scratch } from './tools.js'

const K = EventKind.custom(1, 1)
const SEG = 64 * 1024
const C = new Coordinate('torn', 's')

/** A store whose last three frames are unsynced; returns its crash image and where things are. */
function build(): { image: string; frontier: number; frames: Array<{ at: number; len: number; span: number }>; tail: number } {
  const dir = scratch('torn')
  const s = Store.open({ dataDir: dir, segmentMaxBytes: SEG, sync: { mode: 'none' } })
  let i = 0
  while (s.stats().bytes < 3350) s.append(C, K, { i: i++, pad: 'f'.repeat(100) })
  s.sync() // the frontier now covers the fillers
  const frontier = s.stats().bytes
  s.append(C, K, null)
  s.append(C, K, 'x')
  s.append(C, K, 'y'.repeat(700))
  const image = copyDir(dir, scratch('image')) // the files as a crash would leave them
  s.close()
  const frames = frameOffsets(fs.readFileSync(segmentFiles(image)[0]!))
  const last = frames[frames.length - 1]!
  expect(last.at).toBeLessThan(4096)
  expect(last.at + last.len).toBeGreaterThan(4096)
  expect(frames[frames.length - 3]!.at).toBe(frontier)
  return { image, frontier, frames, tail: frames.length - 3 }
}

type Fill = 'short' | 'zeros' | 'garbage'

function cut(file: string, at: number, fill: Fill, size: number, seed: number): void {
  fs.truncateSync(file, at)
  if (fill === 'short') return
  const r = rng(seed)
  const rest = Buffer.alloc(size - at)
  if (fill === 'garbage') for (let i = 0; i < rest.length; i++) rest[i] = r(256)
  fs.appendFileSync(file, rest)
}

describe('target 3: torn tail', () => {
  it('recovers exactly the whole frames before a cut at every byte of the last three frames, short, zero- or garbage-filled', () => {
    const { image, frames, tail } = build()
    const seg = path.basename(segmentFiles(image)[0]!)
    const size = fs.statSync(path.join(image, seg)).size
    const first = frames[tail]!.at
    const last = frames[frames.length - 1]!
    const expected = readFrom(Store.open({ dataDir: copyDir(image, scratch('ref')), readOnly: true }), 0)
    let trials = 0
    const fills: Fill[] = ['short', 'zeros', 'garbage']
    for (let at = first; at <= last.at + last.span; at++) {
      for (const fill of fills) {
        const d = copyDir(image, scratch('cut'))
        cut(path.join(d, seg), at, fill, size, at)
        const whole = frames.filter((f) => f.at + f.len <= at).length
        const where = `cut at ${at} (${fill})`
        const r = Store.open({ dataDir: d, segmentMaxBytes: SEG })
        const got = readFrom(r, 0)
        expect(got.length, where).toBe(whole)
        got.forEach((e, i) => expect(Buffer.from(e.payloadBytes).equals(Buffer.from(expected[i]!.payloadBytes)), where).toBe(true))
        const next = r.append(C, K, 'next')
        expect(next.globalSequence, where).toBe(BigInt(whole))
        expect(next.prevHash, where).toBe(got[whole - 1]!.contentHash)
        r.close()
        const once = dirDigest(d)
        const again = Store.open({ dataDir: d, readOnly: true })
        expect(again.stats().events, where).toBe(whole + 1)
        again.close()
        expect(digestEqual(dirDigest(d), once), `${where}: second open changed bytes`).toBe(true)
        fs.rmSync(d, { recursive: true, force: true })
        trials++
      }
    }
    figure(3, `${trials} cuts over the ${last.at + last.span - first + 1} byte offsets of the last 3 frames (each cut short, zero-filled and garbage-filled): 100% recovered exactly the whole frames before the cut`, { trials })
  })

  it('refuses a cut below the durable frontier with CorruptionError naming segment and offset, changing no byte', () => {
    const { image, frontier } = build()
    const seg = path.basename(segmentFiles(image)[0]!)
    const size = fs.statSync(path.join(image, seg)).size
    let reported = 0
    let trials = 0
    const step = 1
    for (let at = 128; at < frontier; at += step) {
      const d = copyDir(image, scratch('below'))
      cut(path.join(d, seg), at, 'short', size, at)
      const before = dirDigest(d)
      for (const readOnly of [false, true]) {
        let err: unknown
        try {
          Store.open({ dataDir: d, segmentMaxBytes: SEG, readOnly }).close()
        } catch (e) {
          err = e
        }
        trials++
        expect(err, `cut at ${at} below the frontier ${frontier} (readOnly ${readOnly}) was accepted`).toBeInstanceOf(CorruptionError)
        expect((err as Error).message).toMatch(new RegExp(`segment ${seg} offset \\d+`))
        reported++
      }
      expect(digestEqual(dirDigest(d), before), `cut at ${at}: a refused open changed bytes`).toBe(true)
      fs.rmSync(d, { recursive: true, force: true })
    }
    // Sealed segments: any cut is below their (final) frontier.
    const dir = scratch('sealed')
    const s = Store.open({ dataDir: dir, segmentMaxBytes: 4096 })
    for (let i = 0; i < 80; i++) s.append(C, K, { i, pad: 'z'.repeat(60) })
    s.close()
    const sealed = segmentFiles(dir).slice(0, -1)
    const r = rng(3)
    const sealedTrials = scale(100, 400)
    for (let t = 0; t < sealedTrials; t++) {
      const d = copyDir(dir, scratch('sealedcut'))
      const victim = path.join(d, path.basename(sealed[r(sealed.length)]!))
      // Cut inside the frames (below the sealed frontier's end), not in the footer after them.
      const b = fs.readFileSync(victim)
      const end = Number(b.readBigUInt64LE(64) > b.readBigUInt64LE(96) ? b.readBigUInt64LE(64 + 8) : b.readBigUInt64LE(96 + 8))
      fs.truncateSync(victim, 128 + r(end - 128))
      fs.rmSync(path.join(d, 'index.ckpt'), { force: true })
      let err: unknown
      try {
        Store.open({ dataDir: d, segmentMaxBytes: 4096, readOnly: t % 2 === 0 }).close()
      } catch (e) {
        err = e
      }
      trials++
      expect(err, `sealed cut, trial ${t}`).toBeInstanceOf(CorruptionError)
      reported++
      fs.rmSync(d, { recursive: true, force: true })
    }
    figure(3, `${trials} cuts below the durable frontier (active segment: every byte of its synced frames, read-only and writable; ${sealedTrials} cuts of sealed segments): ${reported}/${trials} reported as CorruptionError, 0 silently accepted`, { trials, reported })
  })
})
