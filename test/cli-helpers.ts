// Shared by the CLI tests (cli*.test.ts): the causeway CLI (bin/causeway ->
// dist/cjs/cli/main.js) run as a child process, and the stores it is run on.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Coordinate, EventKind, Region, Store, type StoredEvent } from '../src/index.js'
import { native } from '../src/native/loader.js'
import { repoRoot, tempDir } from './helpers.js'

export const BIN = path.join(repoRoot, 'bin/causeway')
export const COMMANDS = ['stats', 'verify', 'compact', 'snapshot', 'tail', 'export', 'import', 'walk']
/** What a cli-progress bar draws (shades_classic) and the escape sequences it moves the cursor with. */
export const BAR = /[\u2588\u2591]|\x1b\[/

export const Placed = EventKind.custom(1, 1)
export const Charged = EventKind.custom(2, 1)
export const Shipped = EventKind.custom(3, 1)
export const Mailed = EventKind.custom(4, 1)
export const Note = EventKind.custom(5, 7)

export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

export function cli(args: string[], input?: string): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input, maxBuffer: 64 << 20 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Runs a shell pipeline (for `export | import`). */
export function sh(command: string): Run {
  const r = spawnSync('sh', ['-c', command], { encoding: 'utf8', maxBuffer: 64 << 20 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

export interface Shop {
  dir: string
  /** order:1 placed -> payment:1 charged -> shipment:1 shipped + mail:1 mailed. */
  placed: string
  charged: string
  shipped: string
  mailed: string
}

/**
 * A closed store of several small segments: orders with reactions across
 * entities (payment, shipment, mail), payloads of every kind msgpack carries
 * here, entities with several events (real hash chains), one system event.
 */
export function shop(segmentMaxBytes = 4096): Shop {
  const dir = tempDir('cli')
  const s = Store.open({ dataDir: dir, segmentMaxBytes })
  let first: Omit<Shop, 'dir'> | undefined
  for (let i = 1; i <= 30; i++) {
    const order = new Coordinate(`order:${i}`, 'shop')
    const p = s.append(order, Placed, {
      sku: `A-${i}`,
      qty: i,
      price: i * 1.25,
      neg: -i * 1000003,
      big: 2 ** 52 + i,
      tiny: 1e-300,
      text: 'ünïcødé ✓ 🚚'.repeat(i % 3),
      at: new Date(1_700_000_000_000 + i),
      bin: Buffer.from([i, 0, 255]),
      nested: { list: [1, 'two', null, true, { deep: [i] }], empty: {} },
    })
    const c = s.appendReaction(new Coordinate(`payment:${i}`, 'billing'), Charged, { amount: i * 9.99 }, p.correlationId, p.eventId)
    const sh = s.appendReaction(new Coordinate(`shipment:${i}`, 'shop'), Shipped, { carrier: 'post' }, p.correlationId, c.eventId)
    const m = s.appendReaction(new Coordinate(`mail:${i}`, 'shop'), Mailed, { to: `c${i}@example.com` }, p.correlationId, c.eventId)
    s.append(order, Note, { note: `second event of order:${i}` })
    s.append(order, Note, null)
    if (i === 1) first = { placed: p.eventId, charged: c.eventId, shipped: sh.eventId, mailed: m.eventId }
  }
  s.appendSystem(new Coordinate('system', 'system'), EventKind.fromValue(0x0001), { note: 'written by the store itself' })
  s.close()
  return { dir, ...first! }
}

export interface Copied {
  eventId: string
  globalSequence: bigint
  coordinate: { entity: string; scope: string }
  kind: EventKind
  clock: number
  correlationId: string
  causationId: string | null
  contentHash: string
  payloadBytes: Buffer
}

/** Every event of a store, copied out (a StoredEvent needs its store open). */
export function events(dir: string): Copied[] {
  const s = Store.open({ dataDir: dir, readOnly: true })
  try {
    return s.query(Region.all()).map((e: StoredEvent) => ({
      eventId: e.eventId,
      globalSequence: e.globalSequence,
      coordinate: { entity: e.coordinate.entity, scope: e.coordinate.scope },
      kind: e.kind,
      clock: e.clock,
      correlationId: e.correlationId,
      causationId: e.causationId,
      contentHash: e.contentHash,
      payloadBytes: Buffer.from(e.payloadBytes),
    }))
  } finally {
    s.close()
  }
}

/** Where the payload of the first frame of a segment file starts (frames start at 128, see FORMAT.md). */
export function firstPayloadOffset(b: Buffer): number {
  return 128 + 168 + b.readUInt16LE(128 + 12) + b.readUInt16LE(128 + 14)
}

export function maskedCrc(b: Buffer, frame: number): number {
  const len = b.readUInt32LE(frame)
  const crc = native().crc32c(Buffer.concat([b.subarray(frame, frame + 4), b.subarray(frame + 8, frame + len)]))
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0
}

/** For beforeAll: the CLI runs from dist/. */
export function requireBuild(): void {
  // `npm test` builds dist/ first (pretest); building here would race the other test files.
  if (!fs.existsSync(path.join(repoRoot, 'dist/cjs/cli/main.js'))) throw new Error('run `npm run build` first')
}
