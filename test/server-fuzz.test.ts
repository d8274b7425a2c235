// Fuzzing the service's request decoders with fast-check: random JSON
// values, near-valid request shapes, MessagePack of values JSON cannot
// carry (bigints, bytes, dates), and random bytes under each content type,
// posted to append, batch, append-if and query. Every answer must be 2xx
// or a typed 4xx `{ error: { code } }` (never a 500, never a hang), and a
// 4xx must leave the store as it was: same next sequence, same files.
import * as fs from 'node:fs'
import * as path from 'node:path'
import fc from 'fast-check'
import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { served, TOKENS, type Served } from './server-helpers.js'

const ROUTES = ['/v1/append', '/v1/batch', '/v1/append-if', '/v1/query'] as const
const packr = new Packr({ useRecords: false })

/** What a refused request must not change: the next sequence and every file's name and size. */
function fingerprint(s: Served): string {
  const files = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(path.join(dir, d.name)) : [`${path.relative(s.dir, path.join(dir, d.name))}:${fs.statSync(path.join(dir, d.name)).size}`]))
  return `${s.store.stats().nextSequence}|${files(s.dir).sort().join(',')}`
}

const scalar = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom('shop', 'e:1', '0', '-1', '18446744073709551616', ''))
/** Mostly the valid value, sometimes anything: bodies get past the first check often enough to reach the store. */
const mostly = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: scalar as fc.Arbitrary<unknown>, weight: 1 })
const item = fc.tuple(
  fc.record({
    entity: mostly(fc.constantFrom('order:1', 'order:2')),
    scope: mostly(fc.constant('shop')),
    kind: mostly(fc.constantFrom(0x1001, 0x1002)),
    payload: fc.jsonValue({ maxDepth: 2 }),
  }),
  fc.record(
    {
      type: scalar,
      tags: fc.array(scalar, { maxLength: 3 }),
      causation: fc.oneof(scalar, fc.record({ priorItem: scalar })),
      options: fc.dictionary(fc.constantFrom('expectedSequence', 'idempotencyKey', 'tags', 'durable', 'occurredAt', 'causationId', 'x'), scalar, { maxKeys: 3 }),
    },
    { requiredKeys: [] },
  ),
  fc.boolean(),
).map(([a, b, extra]) => (extra ? { ...a, ...b } : a))
const selection = fc.oneof(
  fc.record({ region: fc.dictionary(fc.constantFrom('entity', 'scope', 'kind', 'tags', 'clock', 'timeMs', 'bogus'), fc.oneof(scalar, fc.array(scalar, { maxLength: 2 })), { maxKeys: 3 }) }),
  fc.record({ query: fc.oneof(scalar, fc.record({ items: fc.array(fc.record({ types: fc.array(scalar, { maxLength: 2 }), tags: fc.array(scalar, { maxLength: 2 }) }, { requiredKeys: [] }), { maxLength: 2 }) }, { requiredKeys: [] })) }),
)
const shaped = fc.oneof(
  item,
  fc.record({ items: mostly(fc.array(item, { minLength: 1, maxLength: 3 })), condition: mostly(selection.map((sel) => ({ ...sel, after: null }))) }),
  fc.tuple(selection, fc.record({ limit: scalar, after: scalar, reverse: scalar }, { requiredKeys: [] })).map(([a, b]) => ({ ...a, ...b })),
)
const msgpackOnly = fc.oneof(fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n }), fc.uint8Array({ maxLength: 8 }), fc.date({ noInvalidDate: true }))
const body = fc.oneof(
  fc.record({ ct: fc.constant('application/json'), raw: fc.oneof(fc.jsonValue(), shaped).map((v) => JSON.stringify(v) ?? 'null') }),
  fc.record({ ct: fc.constant('application/msgpack'), raw: fc.oneof(shaped, msgpackOnly, fc.dictionary(fc.string({ maxLength: 6 }), msgpackOnly, { maxKeys: 3 }), item.chain((i) => msgpackOnly.map((m) => ({ ...i, payload: m })))).map((v) => packr.pack(v)) }),
  fc.record({ ct: fc.constantFrom('application/json', 'application/msgpack'), raw: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) }),
)

describe('fuzzing the request decoders', () => {
  it('answers every random body to append, batch, append-if and query with 2xx or a typed 4xx, and a 4xx writes nothing', async () => {
    const s = await served({ rateLimit: false })
    let before = fingerprint(s)
    const seen = new Map<number, number>()
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), body, async (route, b) => {
        const r = await s.req('POST', route, { token: TOKENS.admin, raw: b.raw, headers: { 'content-type': b.ct } })
        seen.set(r.status, (seen.get(r.status) ?? 0) + 1)
        const text = await r.text()
        const after = fingerprint(s)
        if (r.status >= 200 && r.status < 300) {
          before = after
          return
        }
        expect(r.status, text).toBeGreaterThanOrEqual(400)
        expect(r.status, text).toBeLessThan(500)
        expect((JSON.parse(text) as { error: { code: string } }).error.code, text).toMatch(/^E_[A-Z_]+$/)
        expect(after, `${route} ${r.status} changed the store: ${text}`).toBe(before)
      }),
      { numRuns: 100, seed: 1717 },
    )
    // The generators reach past the decoders: some bodies were accepted.
    expect([...seen.keys()].some((k) => k === 200), JSON.stringify([...seen])).toBe(true)
  }, 20_000)
})
