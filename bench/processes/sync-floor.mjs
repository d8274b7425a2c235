// The machine's floor for durable appends from several writers sharing
// their syncs, with no store: `writers` worker threads each write a 300-byte
// record at their own place in one preallocated file (pwrite) and wait until
// an fdatasync that started after the write has returned. Whoever finds no
// sync running leads one, covering every record written so far; the others
// sleep (Atomics.wait) until it ends and look again: group commit with
// nothing else in the way (no index, no hashing, no messages between
// processes). Prints "<appends/s> <appends per sync>".
//
//   node bench/processes/sync-floor.mjs <writers> <appends per writer>
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'

const RECORD = 300
// Shared words: 0 write cursor (records), 1 records written, 2 records durable, 3 a sync running, 4 syncs ended, 5 syncs.
const CURSOR = 0
const WRITTEN = 1
const DURABLE = 2
const SYNCING = 3
const ENDED = 4
const SYNCS = 5

if (isMainThread) {
  const writers = Number(process.argv[2] || 1)
  const n = Number(process.argv[3] || 2000)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cw-sync-floor-'))
  const file = path.join(dir, 'log')
  const bytes = (writers * n + 16) * RECORD
  // Allocated up front as causeway's segments are (posix_fallocate: blocks
  // reserved, no zeros written); zero-filled where `fallocate` is missing.
  fs.writeFileSync(file, '')
  try {
    execFileSync('fallocate', ['-l', String(bytes), file], { stdio: 'ignore' })
  } catch {
    fs.writeFileSync(file, Buffer.alloc(bytes))
  }
  const fd = fs.openSync(file, 'r+')
  fs.fsyncSync(fd)
  fs.closeSync(fd)
  const words = new Int32Array(new SharedArrayBuffer(64))
  const url = new URL(import.meta.url)
  const ready = []
  const done = []
  const workers = Array.from({ length: writers }, () => {
    const w = new Worker(url, { workerData: { file, n, words } })
    ready.push(new Promise((r) => w.once('message', r)))
    done.push(new Promise((r, j) => (w.once('exit', r), w.once('error', j))))
    return w
  })
  await Promise.all(ready)
  const t0 = performance.now()
  for (const w of workers) w.postMessage('go')
  await Promise.all(done)
  const s = (performance.now() - t0) / 1000
  fs.rmSync(dir, { recursive: true, force: true })
  console.log(`${Math.round((writers * n) / s)} ${(Atomics.load(words, WRITTEN) / Atomics.load(words, SYNCS)).toFixed(2)}`)
} else {
  const { file, n, words } = workerData
  const fd = fs.openSync(file, 'r+')
  const record = Buffer.alloc(RECORD, 7)
  parentPort.once('message', () => {
    for (let i = 0; i < n; i++) {
      const at = Atomics.add(words, CURSOR, 1)
      fs.writeSync(fd, record, 0, RECORD, at * RECORD)
      const mine = Atomics.add(words, WRITTEN, 1) + 1
      while (Atomics.load(words, DURABLE) < mine) {
        const ended = Atomics.load(words, ENDED)
        if (Atomics.compareExchange(words, SYNCING, 0, 1) === 0) {
          const cover = Atomics.load(words, WRITTEN)
          fs.fdatasyncSync(fd)
          Atomics.add(words, SYNCS, 1)
          // Only the leader writes DURABLE, and covers only grow: a plain store is enough.
          if (cover > Atomics.load(words, DURABLE)) Atomics.store(words, DURABLE, cover)
          Atomics.store(words, SYNCING, 0)
          Atomics.add(words, ENDED, 1)
          Atomics.notify(words, ENDED)
        } else {
          Atomics.wait(words, ENDED, ended, 50)
        }
      }
    }
    fs.closeSync(fd)
    parentPort.close()
  })
  parentPort.postMessage('ready')
}
