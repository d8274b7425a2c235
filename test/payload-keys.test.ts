// A payload key named "__proto__" is stored as written but read back renamed
// ("__proto_", msgpackr's guard against prototype pollution): so it is
// refused, before anything is written, by append and by causeway import.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, isCausewayError, Store } from '../src/index.js'
import { blake3Hex } from '../src/native/loader.js'
import { BIN, cli, sh } from './cli-helpers.js'
import { dirDigest, tempDir } from './helpers.js'

const Noted = EventKind.custom(1, 1)
const c = new Coordinate('doc:1', 'docs')

function refusal(f: () => unknown): Error {
  try {
    f()
  } catch (e) {
    expect(isCausewayError(e, 'E_INVALID_PAYLOAD'), String(e)).toBe(true)
    return e as Error
  }
  throw new Error('not refused')
}

describe('payload keys named __proto__', () => {
  it('refuses one at append with InvalidPayloadError naming its path, writing nothing', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir })
    s.append(c, Noted, { before: true })
    s.sync()
    const before = dirDigest(dir)
    expect(refusal(() => s.append(c, Noted, JSON.parse('{"__proto__": {"a": 1}, "y": 2}'))).message).toMatch(/^payload\.__proto__ /)
    expect(refusal(() => s.append(c, Noted, { a: { b: [1, JSON.parse('{"ok": 1, "__proto__": null}')] } })).message).toMatch(
      /^payload\.a\.b\[1\]\.__proto__ /,
    )
    expect(s.stats().events).toBe(1)
    s.sync()
    expect(dirDigest(dir)).toEqual(before)
    s.close()
  })

  it('refuses a batch holding one in any item, appending none of it', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir })
    const bad = JSON.parse('[{"__proto__": 1}]')
    expect(refusal(() => s.appendBatch([{ coord: c, kind: Noted, payload: { fine: 1 } }, { coord: c, kind: Noted, payload: { list: bad } }])).message).toMatch(
      /payload\.list\[0\]\.__proto__/,
    )
    expect(s.stats().events).toBe(0)
    s.close()
  })

  it('keeps keys that merely look alike, unchanged on the way back', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir })
    const payload = { __proto_: 1, constructor: 2, prototype: 3, ['__proto__x']: 4, y: { __defineGetter__: 5 } }
    const r = s.append(c, Noted, payload)
    expect(s.get(r.eventId)!.payload).toEqual(payload)
    s.close()
  })

  it('makes causeway import refuse a line carrying one, naming the line and importing nothing', () => {
    const base = tempDir('cli-import')
    // A well-formed line, then one whose stored bytes hold a "__proto__" map key (as another writer could make).
    const bytes = Buffer.from(new Packr({ useRecords: false }).pack(JSON.parse('{"__proto__": {"a": 1}, "y": 2}')))
    expect(bytes.includes(Buffer.from('__proto__'))).toBe(true)
    const line = (p: object) => JSON.stringify({ coordinate: { entity: 'doc:1', scope: 'docs' }, kind: Noted.value, ...p })
    const file = path.join(base, 'in.jsonl')
    fs.writeFileSync(file, `${line({ payload: { fine: 1 } })}\n${line({ payloadBytes: bytes.toString('base64'), contentHash: blake3Hex(bytes) })}\n`)
    const target = path.join(base, 'copy')
    const r = cli(['import', file, target])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/line 2: E_INVALID_PAYLOAD: payload\.__proto__ is a key named "__proto__"/)
    expect(fs.existsSync(target)).toBe(false) // nothing imported: the store was never even made

    // A hand-written line ("payload" as JSON) is refused the same way, also nested.
    fs.writeFileSync(file, `${line({ payload: { fine: 1 } })}\n${line({ payload: JSON.parse('{"deep": {"__proto__": 1}}') })}\n`)
    const h = cli(['import', file, target])
    expect(h.code).toBe(1)
    expect(h.stderr).toMatch(/line 2: E_INVALID_PAYLOAD: payload\.deep\.__proto__ /)
    expect(fs.existsSync(target)).toBe(false)
  })

  it('round-trips look-alike keys through causeway export | import unchanged', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir })
    const payload = { __proto_: { a: 1 }, y: 2 }
    s.append(c, Noted, payload)
    s.close()
    const target = path.join(tempDir('cli-import'), 'copy')
    const r = sh(`"${process.execPath}" "${BIN}" export "${dir}" | "${process.execPath}" "${BIN}" import - "${target}"`)
    expect(r.code, r.stderr).toBe(0)
    const t = Store.open({ dataDir: target, readOnly: true })
    expect([...t.stream('doc:1')].map((e) => e.payload)).toEqual([payload])
    t.close()
  })
})
