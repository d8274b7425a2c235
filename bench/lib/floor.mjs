// The floor: plain fs.writeSync of the same records (see ./contenders.mjs).
import fs from 'node:fs'
import path from 'node:path'
import { config, payloadOffset, readHeader, unpackr, writeRecord } from './workload.mjs'

// ----------------------------------------------------- the fs.writeSync floor

const CHUNK = 64 * 1024

/**
 * The floor. With `preallocate` (the default), the durable run writes into a
 * file zero-filled and synced beforehand, as causeway's segments are
 * preallocated, so each fdatasync flushes data only; without it every write
 * grows the file and each fdatasync also has to commit the new size (metadata).
 */
export function floorContender({ preallocate = true } = {}) {
  const logFile = (dir) => path.join(dir, 'events.log')
  const scan = (dir, decode) => {
    // Reads the log in 1 MiB chunks and walks the length-prefixed frames.
    const fd = fs.openSync(logFile(dir), 'r')
    const buf = Buffer.alloc(1 << 20)
    let have = 0
    let events = 0
    let check = 0
    for (;;) {
      const got = fs.readSync(fd, buf, have, buf.length - have, null)
      have += got
      let off = 0
      while (have - off >= 4) {
        const len = buf.readUInt32LE(off)
        if (len === 0 || have - off - 4 < len) break
        const rec = buf.subarray(off + 4, off + 4 + len)
        if (decode) check += unpackr.unpack(rec.subarray(payloadOffset(rec))).qty
        else {
          const hd = readHeader(rec)
          check += hd.kind + (hd.entity.length & 0)
        }
        events++
        off += 4 + len
      }
      buf.copy(buf, 0, off, have)
      have -= off
      if (got === 0) break
    }
    fs.closeSync(fd)
    return { events, check }
  }
  return {
    id: preallocate ? 'fs' : 'fs-grow',
    label: preallocate ? 'fs.writeSync floor' : 'fs floor, growing file',
    note: preallocate
      ? 'u32 length + record, 64 KiB writeSync chunks, no fsync; durable: writeSync + fdatasyncSync per event into a preallocated file'
      : 'durable only: writeSync + fdatasyncSync per event, appending to (growing) the file',
    writes: preallocate ? ['single', 'batch', 'durable'] : ['durable'],
    open(dir, { durable } = {}) {
      const fd = fs.openSync(logFile(dir), 'w')
      if (durable && preallocate) {
        const zeros = Buffer.alloc(1 << 20)
        const size = Math.max(1 << 20, config.durableEvents * 512)
        for (let at = 0; at < size; at += zeros.length) fs.writeSync(fd, zeros, 0, zeros.length, at)
        fs.fdatasyncSync(fd)
      }
      return { fd, buf: Buffer.alloc(CHUNK + 64 * 1024), at: 0, pos: 0, dir }
    },
    appendSingle(h, n) {
      for (let i = 0; i < n; i++) {
        const len = writeRecord(h.buf, h.at + 4, i)
        h.buf.writeUInt32LE(len, h.at)
        h.at += 4 + len
        if (h.at >= CHUNK) {
          fs.writeSync(h.fd, h.buf, 0, h.at)
          h.at = 0
        }
      }
      if (h.at > 0) fs.writeSync(h.fd, h.buf, 0, h.at)
      h.at = 0
    },
    appendBatch(h, n) {
      // The same 64 KiB chunks; a batch boundary changes nothing for a buffered file.
      this.appendSingle(h, n)
    },
    appendDurable(h, n) {
      for (let i = 0; i < n; i++) {
        const len = writeRecord(h.buf, 4, i)
        h.buf.writeUInt32LE(len, 0)
        fs.writeSync(h.fd, h.buf, 0, 4 + len, h.pos)
        h.pos += 4 + len
        fs.fdatasyncSync(h.fd)
      }
    },
    close(h) {
      fs.closeSync(h.fd)
    },
    reads: preallocate ? {
      scanDecode(h) {
        return scan(h.dir, true)
      },
      scanHeaders(h) {
        return scan(h.dir, false)
      },
    } : undefined,
  }
}

