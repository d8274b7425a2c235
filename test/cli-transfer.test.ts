// The causeway CLI moving events: export | import byte for byte, tail and
// tail --follow beside a live writer (helpers in cli-helpers.ts).
import { type ChildProcess, spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { Coordinate, Store } from '../src/index.js'
import { tempDir } from './helpers.js'
import { BAR, BIN, Note, Placed, cli, events, requireBuild, sh, shop } from './cli-helpers.js'

beforeAll(requireBuild)

describe('causeway export | causeway import', () => {
  it('round-trips every payload byte for byte, remaps causation, skips reserved kinds', () => {
    const a = shop()
    const target = path.join(tempDir('cli-import'), 'copy')
    const r = sh(`"${process.execPath}" "${BIN}" export "${a.dir}" --format jsonl | "${process.execPath}" "${BIN}" import - "${target}" --json`)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout + r.stderr).not.toMatch(BAR)
    const report = JSON.parse(r.stdout)
    expect(report).toMatchObject({ lines: 181, imported: 180, skippedReserved: 1, skippedKinds: { '0x0001': 1 }, reencoded: [] })
    expect(report.causationKept).toBe(90)
    expect(report.causationDropped).toBe(0)

    const src = events(a.dir).filter((e) => !e.kind.reserved)
    const dst = events(target)
    expect(dst).toHaveLength(src.length)
    const newId = new Map<string, string>()
    src.forEach((e, i) => {
      const d = dst[i]!
      expect(d.payloadBytes.equals(e.payloadBytes), `payload of sequence ${e.globalSequence}`).toBe(true)
      expect(d.contentHash).toBe(e.contentHash)
      expect(d.coordinate).toEqual(e.coordinate)
      expect(d.kind.value).toBe(e.kind.value)
      expect(d.correlationId).toBe(e.correlationId)
      expect(d.clock).toBe(e.clock)
      expect(d.eventId).not.toBe(e.eventId) // ids are the target store's own
      newId.set(e.eventId, d.eventId)
    })
    src.forEach((e, i) => expect(dst[i]!.causationId).toBe(e.causationId === null ? null : newId.get(e.causationId)))
    // The copy verifies, chains included.
    expect(cli(['verify', target]).code).toBe(0)
  })

  it('writes to a file with -o and reads it back; a damaged line is refused by its content hash', () => {
    const a = shop()
    const file = path.join(tempDir('cli-file'), 'events.jsonl')
    const ex = cli(['export', a.dir, '--entity', 'order', '-o', file, '--json'])
    expect(ex.code, ex.stderr).toBe(0)
    expect(JSON.parse(ex.stdout)).toMatchObject({ events: 90, format: 'jsonl' })
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n')
    expect(lines).toHaveLength(90)
    const first = JSON.parse(lines[0]!)
    expect(first).toMatchObject({ coordinate: { entity: 'order:1', scope: 'shop' }, kind: Placed.value, kindHex: '0x1001' })
    expect(first.payload).toMatchObject({ sku: 'A-1', bin: { $base64: Buffer.from([1, 0, 255]).toString('base64') } })

    const target = path.join(tempDir('cli-file'), 'copy')
    const im = cli(['import', file, target])
    expect(im.code, im.stderr).toBe(0)
    expect(im.stdout).toContain('imported 90 events')
    expect(im.stdout).toContain('identical for every event')

    const bad = JSON.parse(lines[1]!)
    bad.payloadBytes = Buffer.from('tampered').toString('base64')
    fs.writeFileSync(file, `${lines[0]}\n${JSON.stringify(bad)}\n`)
    const copy2 = path.join(tempDir('cli-file'), 'copy2')
    const refused = cli(['import', file, copy2])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain("line 2: payloadBytes do not hash to the line's contentHash")
    expect(fs.existsSync(copy2)).toBe(false) // refused before its first batch: no store left behind
    // A directory holding other files is not a store to import into.
    expect(cli(['import', file, path.dirname(file)]).code).toBe(2)
  })
})

describe('causeway tail', () => {
  it('prints the last events, filtered by entity, scope or kind, as lines or JSON', () => {
    const { dir } = shop()
    const last = cli(['tail', dir, '-n', '2'])
    expect(last.code).toBe(0)
    const lines = last.stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^#179 \S+ order:30 @shop 0x5007 null$/)
    expect(lines[1]).toMatch(/^#180 \S+ system @system 0x0001 \{"note":"written by the store itself"\}$/)

    const payments = cli(['tail', dir, '--entity', 'payment', '-n', '3', '--json']).stdout.trimEnd().split('\n').map((l) => JSON.parse(l))
    expect(payments.map((e) => e.coordinate.entity)).toEqual(['payment:28', 'payment:29', 'payment:30'])
    const billing = cli(['tail', dir, '--scope', 'billing', '-n', '100']).stdout.trimEnd().split('\n')
    expect(billing).toHaveLength(30)
    const notes = cli(['tail', dir, '--entity', 'order:7', '--kind', '5:7', '--json']).stdout.trimEnd().split('\n').map((l) => JSON.parse(l))
    expect(notes.map((e) => e.payload)).toEqual([{ note: 'second event of order:7' }, null])
    const from = cli(['tail', dir, '--from', '178']).stdout.trimEnd().split('\n')
    expect(from.map((l) => l.split(' ')[0])).toEqual(['#178', '#179', '#180'])
  })

  it('--follow prints what a live writer appends, while the writer keeps the store open, until it is stopped', async () => {
    const { dir } = shop()
    // The writer is open before tail starts and stays open throughout: a read-only open takes no lock.
    const writer = Store.open({ dataDir: dir })
    let child: ChildProcess | undefined
    let out = ''
    let err = ''
    try {
      child = spawn(process.execPath, [BIN, 'tail', dir, '--follow', '-n', '1', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
      const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)))
      const until = async (what: () => boolean, ms: number) => {
        for (const t0 = Date.now(); !what(); ) {
          if (Date.now() - t0 > ms) throw new Error(`timed out; tail printed:\n${out}\nstderr:\n${err}`)
          await new Promise((r) => setTimeout(r, 20))
        }
      }
      try {
        await until(() => out.includes('"globalSequence":"180"'), 10_000)
        for (let i = 0; i < 3; i++) writer.append(new Coordinate(`live:${i}`, 'shop'), Note, { i })
        await until(() => out.includes('live:2'), 10_000)
        // And again, with the same writer still open: tail keeps following it.
        writer.append(new Coordinate('live:3', 'shop'), Note, { i: 3 })
        await until(() => out.includes('live:3'), 10_000)
        expect(writer.closed).toBe(false)
      } finally {
        child.kill('SIGTERM')
      }
      expect(await exited).toBe(0)
    } finally {
      writer.close()
    }
    expect(err).toBe('')
    const printed = out.trimEnd().split('\n').map((l) => JSON.parse(l))
    expect(printed.map((e) => e.globalSequence)).toEqual(['180', '181', '182', '183', '184'])
    expect(printed.slice(1).map((e) => e.payload)).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }, { i: 3 }])
  })
})
