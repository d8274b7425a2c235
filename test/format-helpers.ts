// Segment-file surgery for the format tests (format-v2*.test.ts): the header's
// version field and the frames of a segment, per native/FORMAT.md.
import * as fs from 'node:fs'
import { native } from '../src/native/loader.js'

export const HEADER = 128
export const VERSION_AT = 8
export const HEADER_CRC_AT = 44

/** The segment files of a store, sorted (by id). */
import { segmentFiles } from './helpers.js'
export { segmentFiles as segments }

/** crc32c's mask (native/crc32c.cc): rotate right 15, add a constant. */
export function mask(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0
}

/** Sets the header's format version and re-seals its CRC, as a build of that version would have written it. */
export function setHeaderVersion(file: string, version: number): void {
  const b = fs.readFileSync(file)
  b.writeUInt32LE(version, VERSION_AT)
  b.writeUInt32LE(mask(native().crc32c(b.subarray(0, HEADER_CRC_AT))), HEADER_CRC_AT)
  fs.writeFileSync(file, b)
}

/**
 * Offsets of the event frames of a segment file, from the header while one
 * is there: a close leaves a footer ("CWFOOT..") after the frames of an
 * active segment, which the next append overwrites; it is no frame.
 */
export function frameOffsets(b: Buffer): number[] {
  const out: number[] = []
  for (let o = HEADER; o + 168 <= b.length; ) {
    const len = b.readUInt32LE(o)
    if (len < 168 || b[o + 8] !== 1 || o + len > b.length) break
    out.push(o)
    o += (len + 7) & ~7
  }
  return out
}

/** Where the frame at `o` ends (padding excluded). */
export function frameEnd(b: Buffer, o: number): number {
  return o + b.readUInt32LE(o)
}

/** Offset of the extension block of the frame at `o` (flag 0x20), or -1. */
export function extensionOffset(b: Buffer, o: number): number {
  if ((b[o + 9]! & 0x20) === 0) return -1
  return o + 168 + b.readUInt16LE(o + 12) + b.readUInt16LE(o + 14) + b.readUInt32LE(o + 16)
}

/**
 * Edits the payload of event `sequence` in place on disk and re-seals its
 * frame CRC, so only the content hash can tell (the damage a verify must
 * find). Throws when no frame holds that sequence.
 */
export function tamperPayload(dir: string, sequence: bigint, edit: (payload: Buffer) => void): void {
  for (const file of segmentFiles(dir)) {
    const buf = fs.readFileSync(file)
    for (let off = HEADER; off + 8 <= buf.length; ) {
      const len = buf.readUInt32LE(off)
      if (len === 0) break
      const frame = buf.subarray(off, off + len)
      if (frame.readBigUInt64LE(24) === sequence) {
        const start = 168 + frame.readUInt16LE(12) + frame.readUInt16LE(14)
        edit(frame.subarray(start, start + frame.readUInt32LE(16)))
        frame.writeUInt32LE(mask(native().crc32c(Buffer.concat([frame.subarray(0, 4), frame.subarray(8)]))), 4)
        fs.writeFileSync(file, buf)
        return
      }
      off += (len + 7) & ~7
    }
  }
  throw new Error(`no frame with sequence ${sequence}`)
}
