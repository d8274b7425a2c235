// Segment-file surgery for the format tests (format-v2*.test.ts): the header's
// version field and the frames of a segment, per native/FORMAT.md.
import * as fs from 'node:fs'
import { native } from '../src/native/loader.js'

export const HEADER = 128
export const VERSION_AT = 8
export const HEADER_CRC_AT = 44

/** The segment files of a store, sorted (by id). */
export { segmentFiles as segments } from './helpers.js'

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
