/**
 * Target 4, media corruption of sealed segments: single- and double-bit
 * flips, a byte set to 0xff, zeroed 512-byte sectors and zeroed 4 KiB pages
 * (plus every single-bit flip of a segment header and of a frame header),
 * each on a copy of a golden store of 8 sealed segments. Every trial opens
 * the store read-only (with its index checkpoint, so the open succeeds and
 * reads must catch the damage; or without, so the open's scan must) and
 * reads every event it can.
 * Pass: damage to any byte that carries data is detected (CorruptionError at
 * open or on the read of the damaged frame); no read ever returns an event
 * whose bytes differ from the golden copy; with the checkpoint, every
 * undamaged event stays readable. Damage that changes only dead bytes
 * (frame padding, reserved header bytes, the superseded frontier slot)
 * changes nothing readable. Tampering that rewrites a payload and recomputes
 * the frame CRC passes the CRC by construction; the BLAKE3 chain
 * (store.verifyChain, `causeway verify`) catches it.
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, isCausewayError, Store, type StoredEvent } from '../../src/index.js'
import { native } from '../../src/native/loader.js'
import { repoRoot, segmentFiles } from '../helpers.js'
import { FULL, figure, rng, scale } from './profile.js'
import { copyDir, frameOffsets, payload, readFrom, scratch } from './tools.js'

const SEG = 64 * 1024
const K = EventKind.custom(1, 1)
const CLI = path.join(repoRoot, 'bin/causeway')
const HAS_CLI = fs.existsSync(CLI) && fs.existsSync(path.join(repoRoot, 'dist/cjs/cli/main.js'))

interface Golden {
  dir: string
  segs: string[] // sealed segment names
  bytes: Map<string, Buffer>
  events: StoredEvent[]
  frames: Map<string, Array<{ at: number; len: number; span: number; seq: number }>>
  liveSlot: Map<string, number> // offset of the frontier slot in use
}

function build(): Golden {
  const dir = scratch('golden')
  const s = Store.open({ dataDir: dir, segmentMaxBytes: SEG })
  let i = 0
  while (s.stats().segments < 9) {
    s.append(new Coordinate(`acct:${i % 7}`, 'bank'), K, payload(i, 11))
    i++
  }
  s.close()
  const r = Store.open({ dataDir: dir, readOnly: true })
  const events = readFrom(r, 0)
  for (const e of events) void e.coordinate // resolve names while the store is open
  r.close()
  const segs = segmentFiles(dir).slice(0, 8).map((f) => path.basename(f))
  const bytes = new Map<string, Buffer>()
  const frames = new Map<string, Array<{ at: number; len: number; span: number; seq: number }>>()
  const liveSlot = new Map<string, number>()
  for (const n of segs) {
    const b = fs.readFileSync(path.join(dir, n))
    bytes.set(n, b)
    frames.set(n, frameOffsets(b).map((f) => ({ ...f, seq: Number(b.readBigUInt64LE(f.at + 24)) })))
    // The slot with the higher generation is the one in use (both check in a sealed segment).
    liveSlot.set(n, b.readBigUInt64LE(64) > b.readBigUInt64LE(96) ? 64 : 96)
  }
  return { dir, segs, bytes, events, frames, liveSlot }
}

/** Is byte `pos` of sealed segment `seg` one that carries data (covered by a CRC, or the CRC)? */
function live(g: Golden, seg: string, pos: number): boolean {
  if (pos < 48) return true // magic .. header CRC
  const slot = g.liveSlot.get(seg)!
  if (pos >= slot && pos < slot + 32) return true
  if (pos < 128) return false // reserved bytes, the superseded slot
  return g.frames.get(seg)!.some((f) => pos >= f.at && pos < f.at + f.len)
}

function sameEvent(a: StoredEvent, b: StoredEvent): boolean {
  return (
    a.eventId === b.eventId &&
    a.globalSequence === b.globalSequence &&
    a.contentHash === b.contentHash &&
    a.prevHash === b.prevHash &&
    a.clock === b.clock &&
    a.coordinate.entity === b.coordinate.entity &&
    a.coordinate.scope === b.coordinate.scope &&
    a.kind.value === b.kind.value &&
    a.timestampUs === b.timestampUs &&
    a.correlationId === b.correlationId &&
    Buffer.from(a.payloadBytes).equals(Buffer.from(b.payloadBytes))
  )
}

interface Outcome {
  detected: boolean
  wrong: number
  readable: number
  openRefused: boolean
}

/** Opens read-only and reads every event it can, page by page, one by one around damage. */
function probe(dir: string, golden: StoredEvent[]): Outcome {
  const o: Outcome = { detected: false, wrong: 0, readable: 0, openRefused: false }
  let s: Store
  try {
    s = Store.open({ dataDir: dir, readOnly: true })
  } catch (e) {
    if (!isCausewayError(e, 'E_CORRUPTION')) throw e
    o.detected = o.openRefused = true
    return o
  }
  try {
    const n = Number(s.stats().nextSequence)
    const take = (evs: StoredEvent[]) => {
      for (const e of evs) {
        o.readable++
        if (!sameEvent(e, golden[Number(e.globalSequence)]!)) o.wrong++
      }
    }
    for (let from = 0; from < n; ) {
      try {
        const page = readFrom(s, from, 64)
        take(page)
        if (page.length === 0) break
        from = Number(page[page.length - 1]!.globalSequence) + 1
      } catch (e) {
        if (!isCausewayError(e, 'E_CORRUPTION')) throw e
        o.detected = true
        for (let q = from; q < Math.min(n, from + 64); q++) {
          try {
            take(readFrom(s, q, 1).filter((x) => Number(x.globalSequence) === q))
          } catch (e2) {
            if (!isCausewayError(e2, 'E_CORRUPTION')) throw e2
          }
        }
        from += 64
      }
    }
  } finally {
    s.close()
  }
  return o
}

type Damage = '1-bit' | '2-bit' | 'byte 0xff' | 'zero sector' | 'zero page'

function damage(b: Buffer, kind: Damage, r: (n: number) => number): Buffer {
  const d = Buffer.from(b)
  const at = r(d.length)
  switch (kind) {
    case '1-bit':
      d[at]! ^= 1 << r(8)
      break
    case '2-bit': {
      d[at]! ^= 1 << r(8)
      const at2 = Math.min(d.length - 1, at + r(16))
      d[at2]! ^= 1 << r(8)
      break
    }
    case 'byte 0xff':
      d[at] = 0xff
      break
    case 'zero sector':
      d.fill(0, at & ~511, Math.min(d.length, (at & ~511) + 512))
      break
    case 'zero page':
      d.fill(0, at & ~4095, Math.min(d.length, (at & ~4095) + 4096))
      break
  }
  return d
}

describe('target 4: corruption of sealed segments', () => {
  it('detects every damaged data byte and never returns a wrong byte; the undamaged rest stays readable', () => {
    const g = build()
    const withCkpt = copyDir(g.dir, scratch('with-ckpt'))
    const noCkpt = copyDir(g.dir, scratch('no-ckpt'))
    fs.rmSync(path.join(noCkpt, 'index.ckpt'))
    const r = rng(4242)
    const kinds: Damage[] = ['1-bit', '1-bit', '1-bit', '1-bit', '2-bit', '2-bit', 'byte 0xff', 'zero sector', 'zero page', 'zero sector']
    const trials: Array<{ seg: string; bytes: Buffer; kind: string }> = []
    // Exhaustive single-bit flips: the first sealed segment's header and its first frame's header.
    const first = g.segs[0]!
    const exhaustive = FULL ? 128 + 168 : 128
    for (let pos = 0; pos < exhaustive; pos++) {
      for (let bit = 0; bit < 8; bit++) {
        const d = Buffer.from(g.bytes.get(first)!)
        d[pos]! ^= 1 << bit
        trials.push({ seg: first, bytes: d, kind: 'exhaustive 1-bit' })
      }
    }
    const random = scale(1400, 10_000)
    for (let t = 0; t < random; t++) {
      const seg = g.segs[r(g.segs.length)]!
      const kind = kinds[r(kinds.length)]!
      trials.push({ seg, bytes: damage(g.bytes.get(seg)!, kind, r), kind })
    }
    const tally = { trials: 0, liveDamage: 0, detected: 0, harmless: 0, wrong: 0, undamagedUnreadable: 0, refusedOpen: 0, byKind: new Map<string, number>() }
    for (const [t, trial] of trials.entries()) {
      const dir = t % 2 ? withCkpt : noCkpt
      const file = path.join(dir, trial.seg)
      fs.writeFileSync(file, trial.bytes)
      const gold = g.bytes.get(trial.seg)!
      const changed: number[] = []
      for (let i = 0; i < gold.length; i++) if (gold[i] !== trial.bytes[i]) changed.push(i)
      const isLive = changed.some((p) => live(g, trial.seg, p))
      const damagedFrames = new Set(g.frames.get(trial.seg)!.filter((f) => changed.some((p) => p >= f.at && p < f.at + f.len)).map((f) => f.seq))
      const o = probe(dir, g.events)
      tally.trials++
      tally.byKind.set(trial.kind, (tally.byKind.get(trial.kind) ?? 0) + 1)
      tally.wrong += o.wrong
      if (o.openRefused) tally.refusedOpen++
      const where = `trial ${t}: ${trial.kind} in ${trial.seg} at ${changed.slice(0, 3).join(',')} (${dir === withCkpt ? 'with' : 'without'} checkpoint)`
      if (isLive) {
        tally.liveDamage++
        if (o.detected) tally.detected++
        expect(o.detected, `${where}: damage not detected`).toBe(true)
        if (dir === withCkpt && !o.openRefused) {
          const lost = g.events.length - damagedFrames.size - o.readable
          tally.undamagedUnreadable += Math.max(0, lost)
        }
      } else {
        tally.harmless++
        expect(o.detected, `${where}: dead bytes reported`).toBe(false)
        expect(o.readable, where).toBe(g.events.length)
      }
      expect(o.wrong, `${where}: wrong bytes returned`).toBe(0)
      fs.writeFileSync(file, gold)
    }
    expect(tally.undamagedUnreadable).toBe(0)
    figure(
      4,
      `${tally.trials} damage trials in sealed segments (${[...tally.byKind].map(([k, v]) => `${v} ${k}`).join(', ')}): ` +
        `${tally.detected}/${tally.liveDamage} that changed data bytes detected (${tally.refusedOpen} at open, the rest on read), ` +
        `${tally.harmless} changed only dead bytes and read back intact, ${tally.wrong} wrong bytes returned, ` +
        `${tally.undamagedUnreadable} undamaged events unreadable (checkpointed read-only opens)`,
      { trials: tally.trials, detected: tally.detected, live: tally.liveDamage, wrong: tally.wrong },
    )
  })

  it.skipIf(!HAS_CLI)('has causeway verify name the damage (exit 1) and pass an undamaged copy (exit 0), without hanging', () => {
    const g = build()
    const r = rng(99)
    const samples = scale(6, 30)
    let agreed = 0
    for (let t = 0; t < samples; t++) {
      const dir = copyDir(g.dir, scratch('cli'))
      if (t % 3 === 2) fs.rmSync(path.join(dir, 'index.ckpt'))
      const seg = g.segs[r(g.segs.length)]!
      const frames = g.frames.get(seg)!
      const f = frames[r(frames.length)]!
      const isLive = t % 4 !== 3
      if (isLive) {
        const b = Buffer.from(g.bytes.get(seg)!)
        b[f.at + 8 + r(f.len - 8)]! ^= 1 << r(8)
        fs.writeFileSync(path.join(dir, seg), b)
      }
      const res = spawnSync(process.execPath, [CLI, 'verify', dir, '--json'], { encoding: 'utf8', timeout: 10_000 })
      const where = `causeway verify, sample ${t} (${isLive ? `bit flip in ${seg} frame at ${f.at}, seq ${f.seq}` : 'undamaged'}, ${t % 3 === 2 ? 'no' : 'with'} checkpoint)`
      expect(res.signal, `${where}: hung (killed after 10 s)`).toBeNull()
      const rep = JSON.parse(res.stdout) as { ok: boolean; frames: { read: number; events: number } | null }
      expect(rep.ok, where).toBe(!isLive)
      expect(res.status, where).toBe(isLive ? 1 : 0)
      // With the checkpoint the store opens, and verify reads every undamaged event.
      if (isLive && rep.frames) expect(rep.frames.read, where).toBe(g.events.length - 1)
      agreed++
    }
    figure(4, `causeway verify on ${samples} copies (bit flips with and without checkpoint, and undamaged): ${agreed}/${samples} reported as expected`, { cli: samples, agreed })
  })

  it('catches a payload rewritten with its CRC recomputed through the BLAKE3 chain', () => {
    const g = build()
    const dir = copyDir(g.dir, scratch('tamper'))
    const r = rng(77)
    const n = scale(50, 200)
    let caught = 0
    let passedCrc = 0
    for (let t = 0; t < n; t++) {
      const seg = g.segs[r(g.segs.length)]!
      const frames = g.frames.get(seg)!.filter((f) => f.len > 180)
      const f = frames[r(frames.length)]!
      const b = Buffer.from(g.bytes.get(seg)!)
      const payloadLen = b.readUInt32LE(f.at + 16)
      const at = f.at + f.len - 1 - r(Math.max(1, Math.min(payloadLen, 8)))
      b[at]! ^= 0x20
      const crc = native().crc32c(Buffer.concat([b.subarray(f.at, f.at + 4), b.subarray(f.at + 8, f.at + f.len)]))
      b.writeUInt32LE((((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0, f.at + 4)
      fs.writeFileSync(path.join(dir, seg), b)
      const s = Store.open({ dataDir: dir, readOnly: true })
      try {
        readFrom(s, f.seq, 1) // the CRC checks: plain reads cannot tell
        passedCrc++
        const rep = s.verifyChain()
        const hit = rep.contentMismatches.some((m) => Number(m.globalSequence) === f.seq)
        expect(hit, `tamper at ${seg}:${at} (seq ${f.seq}) not caught by the chain`).toBe(true)
        if (hit) caught++
      } finally {
        s.close()
      }
      fs.writeFileSync(path.join(dir, seg), g.bytes.get(seg)!)
    }
    figure(4, `${n} payload rewrites with the frame CRC recomputed: ${passedCrc} pass the CRC by construction, ${caught}/${n} caught by the BLAKE3 chain (store.verifyChain)`, { tamper: n, caught })
  })
})
