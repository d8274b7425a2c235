// Named event types: the registry in the log, schemas at append, names
// wherever a kind is taken. Real stores on disk, no mocks.
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { Coordinate, EventKind, isCausewayError, Region, Store, TYPE_KIND, type StandardSchemaV1 } from '../src/index.js'
import { dirDigest, tempDir, thrown } from './helpers.js'

const order = new Coordinate('order:1', 'shop')
const Placed = z.object({ sku: z.string(), qty: z.number().int().positive() })
const PlacedJson = { type: 'object', required: ['sku', 'qty'], properties: { sku: { type: 'string' }, qty: { type: 'integer', minimum: 1 } } }

function open(dir = tempDir(), more: Partial<Parameters<typeof Store.open>[0]> = {}): Store {
  return Store.open({ dataDir: dir, segmentMaxBytes: 64 * 1024, ...more })
}


describe('named types: the registry', () => {
  it('gives each name one kind, the same after a reopen and on a second define', () => {
    const dir = tempDir()
    const s = open(dir)
    const placed = s.types.define('order.placed', { schema: Placed })
    const shipped = s.types.define('order.shipped')
    expect(placed.value).toBe(0xf000) // allocated from category 15 upwards
    expect(shipped.value).toBe(0xf001)
    expect(s.types.define('order.placed', { schema: Placed })).toBe(placed)
    s.close()
    const again = open(dir)
    expect(again.types.kindOf('order.shipped')).toBe(shipped)
    expect(again.types.define('order.placed', { schema: Placed })).toBe(placed)
    expect(again.types.list().map((t) => [t.name, t.kind.value, t.fingerprint])).toEqual([
      ['order.placed', 0xf000, 'standard:zod'],
      ['order.shipped', 0xf001, null],
    ])
    expect(again.stats().events).toBe(2) // the two definitions, nothing more
    again.close()
  })

  it('refuses a second definition with another schema fingerprint or kind (E_TYPE_CONFLICT), writing nothing', () => {
    const dir = tempDir()
    const s = open(dir)
    s.types.define('order.placed', { schema: PlacedJson })
    s.sync()
    const before = dirDigest(dir)
    expect(thrown(() => s.types.define('order.placed', { schema: { ...PlacedJson, required: ['sku'] } })).code).toBe('E_TYPE_CONFLICT')
    expect(thrown(() => s.types.define('order.placed')).code).toBe('E_TYPE_CONFLICT')
    expect(thrown(() => s.types.define('order.placed', { schema: PlacedJson, kind: EventKind.custom(1, 1) })).code).toBe('E_TYPE_CONFLICT')
    expect(thrown(() => s.types.define('other', { kind: s.types.kindOf('order.placed') })).code).toBe('E_TYPE_CONFLICT')
    // Key order does not change a JSON Schema's fingerprint.
    expect(s.types.define('order.placed', { schema: { properties: PlacedJson.properties, required: ['sku', 'qty'], type: 'object' } }).value).toBe(0xf000)
    s.sync()
    expect(dirDigest(dir)).toEqual(before)
    s.close()
  })

  it('maps an existing numeric kind to a name, and its old events read back with the name', () => {
    const s = open()
    const Old = EventKind.custom(1, 7)
    s.append(order, Old, { sku: 'A', qty: 1 })
    expect(s.stream('order:1')[0]!.type).toBeUndefined()
    s.types.define('order.placed', { kind: Old })
    expect(s.stream('order:1').map((e) => [e.type, e.kind.value])).toEqual([['order.placed', 0x1007]])
    s.append(order, 'order.placed', { sku: 'B', qty: 2 })
    expect(s.byFact(Old)).toHaveLength(2)
    s.close()
  })

  it('never allocates a numeric kind events already use', () => {
    const s = open()
    s.append(order, EventKind.fromValue(0xf000), 1)
    expect(s.types.define('a').value).toBe(0xf001)
    expect(s.stream('order:1')[0]!.type).toBeUndefined()
    s.close()
  })

  it('refuses user appends to the registry entity, so its clock stays the registry own', () => {
    const s = open()
    const err = thrown(() => s.append(new Coordinate('$causeway:types', '$causeway'), EventKind.custom(1, 1), 1))
    expect(err.code).toBe('E_INVALID_COORDINATE')
    expect(s.stats().events).toBe(0)
    s.close()
  })
})

describe('named types: schemas at append', () => {
  it('refuses a payload zod rejects with E_INVALID_PAYLOAD naming path and reason, and writes nothing (batch: no item)', () => {
    const s = open()
    s.types.define('order.placed', { schema: Placed })
    s.append(order, 'order.placed', { sku: 'A', qty: 1 })
    const err = thrown(() => s.append(order, 'order.placed', { sku: 'A', qty: 0 }))
    expect(err).toMatchObject({ code: 'E_INVALID_PAYLOAD', type: 'order.placed', path: '/qty' })
    expect(String(err.reason)).toMatch(/0|small|>/)
    const batch = thrown(() =>
      s.appendBatch([
        { coord: order, kind: 'order.placed', payload: { sku: 'B', qty: 1 } },
        { coord: order, kind: 'order.placed', payload: { sku: 7, qty: 1 } },
      ]),
    )
    expect(batch).toMatchObject({ code: 'E_INVALID_PAYLOAD', path: '/sku' })
    expect(s.stream('order:1')).toHaveLength(1)
    s.close()
  })

  it('validates a JSON Schema with ajv, compiled once, path as a JSON Pointer', () => {
    const s = open()
    s.types.define('order.placed', { schema: PlacedJson })
    s.append(order, 'order.placed', { sku: 'A', qty: 3 })
    expect(thrown(() => s.append(order, 'order.placed', { sku: 'A', qty: 1.5 }))).toMatchObject({ code: 'E_INVALID_PAYLOAD', path: '/qty', reason: 'must be integer' })
    expect(thrown(() => s.append(order, 'order.placed', { qty: 1 }))).toMatchObject({ code: 'E_INVALID_PAYLOAD', path: '' })
    expect(thrown(() => s.outbox().stage(order, 'order.placed', { sku: 1, qty: 1 })).code).toBe('E_INVALID_PAYLOAD')
    expect(s.stream('order:1')).toHaveLength(1)
    s.close()
  })

  it('refuses an asynchronous validator with E_INVALID_SCHEMA (append is synchronous)', () => {
    const s = open()
    const Async: StandardSchemaV1 = { '~standard': { version: 1, vendor: 'test', validate: async (value: unknown) => ({ value }) } }
    s.types.define('slow', { schema: Async })
    expect(thrown(() => s.append(order, 'slow', 1)).code).toBe('E_INVALID_SCHEMA')
    expect(s.stats().events).toBe(1) // the definition only
    s.close()
  })

  it('refuses an append by a name whose schema this process has not given (E_UNKNOWN_TYPE)', () => {
    const dir = tempDir()
    const s = open(dir)
    s.types.define('order.placed', { schema: Placed, schemaVersion: '2' })
    s.types.define('note')
    s.close()
    const t = open(dir)
    expect(thrown(() => t.append(order, 'order.placed', { sku: 'A', qty: 1 })).code).toBe('E_UNKNOWN_TYPE')
    t.append(order, 'note', 'no schema: any payload') // a type without a schema is usable as recorded
    expect(thrown(() => t.types.define('order.placed', { schema: Placed })).code).toBe('E_TYPE_CONFLICT') // fingerprint version:2
    t.types.define('order.placed', { schema: Placed, schemaVersion: '2' })
    t.append(order, 'order.placed', { sku: 'A', qty: 1 })
    t.close()
  })
})

describe('named types: names wherever a kind is taken', () => {
  it('appends, batches, conditions, regions, cursors, projections and outboxes by name', () => {
    const s = open()
    s.types.define('order.placed', { schema: Placed })
    s.types.define('order.shipped')
    const K = EventKind.custom(1, 1)
    s.append(order, 'order.placed', { sku: 'A', qty: 1 })
    s.append(order, K, 'numeric')
    s.appendBatch([{ coord: order, kind: 'order.shipped', payload: {} }, { coord: order, kind: K, payload: 2 }])
    const shipped = Region.entity('order').withFact('order.shipped')
    expect(thrown(() => s.appendIf([{ coord: order, kind: 'order.shipped', payload: {} }], { failIfEventsMatch: shipped, after: null })).code).toBe(
      'E_APPEND_CONDITION',
    )
    expect(s.query(Region.all().withFact('order.placed')).map((e) => e.payload)).toEqual([{ sku: 'A', qty: 1 }])
    expect(s.byFact('order.shipped').map((e) => e.type)).toEqual(['order.shipped'])
    expect(s.cursor(shipped).pollBatch(10)).toHaveLength(1)
    const batches = [...s.scan(Region.entity('order').withFact('order.placed'))]
    expect([batches[0]!.event(0).type, batches[0]!.type(0)]).toEqual(['order.placed', 'order.placed'])
    const count = { name: 'count', version: 1, kinds: ['order.placed', 'order.shipped'], init: () => 0, apply: (n: number) => n + 1 }
    expect(s.project('order:1', count).state).toBe(2)
    const box = s.outbox()
    box.stage(order, 'order.shipped', { again: true })
    box.flush()
    expect(s.stream('order:1').map((e) => e.type ?? e.kind.toString())).toEqual([
      'order.placed',
      '0x1001',
      'order.shipped',
      '0x1001',
      'order.shipped',
    ])
    expect(s.stream('order:1')[0]!.toJSON()).toMatchObject({ kind: 0xf000, type: 'order.placed' })
    expect(thrown(() => s.query(Region.all().withFact('order.cancelled'))).code).toBe('E_UNKNOWN_TYPE')
    s.close()
  })
})

describe('named types: carried by compaction, snapshots and read-only opens', () => {
  it('keeps registry entries through a retention compaction that rejects every event', () => {
    const dir = tempDir()
    const s = open(dir, { segmentMaxBytes: 4096 })
    s.types.define('order.placed', { schema: PlacedJson })
    for (let i = 0; i < 200; i++) s.append(new Coordinate(`order:${i}`, 'shop'), 'order.placed', { sku: 'x'.repeat(40), qty: 1 })
    const r = s.compact({ strategy: 'retention', keep: () => false })
    expect(r.performed).toBe(true)
    expect(r.eventsDropped).toBeGreaterThan(0)
    s.compact({ strategy: 'tombstone', keep: () => false, minSegments: 1 })
    const entry = s.query(Region.entity('$causeway:types'))
    expect(entry.map((e) => [e.kind, e.tombstoned])).toEqual([[TYPE_KIND, false]])
    s.close()
    const again = open(dir)
    expect(again.types.kindOf('order.placed').value).toBe(0xf000)
    expect(again.types.define('order.shipped').value).toBe(0xf001)
    again.close()
  })

  it('gives a snapshot and a read-only open the names', () => {
    const dir = tempDir()
    const s = open(dir)
    s.types.define('order.placed')
    s.append(order, 'order.placed', { sku: 'A' })
    s.types.define('order.shipped')
    s.append(order, 'order.shipped', {})
    const snap = `${tempDir('snap')}/copy`
    s.snapshot(snap)
    s.close()
    const ro = Store.open({ dataDir: dir, readOnly: true })
    expect(ro.stream('order:1').map((e) => e.type)).toEqual(['order.placed', 'order.shipped'])
    expect(ro.types.kindOf('order.shipped').value).toBe(0xf001)
    expect(ro.types.define('order.shipped').value).toBe(0xf001) // recorded already: a read-only open may define it
    expect(thrown(() => ro.types.define('order.new')).code).toBe('E_INVALID_ARGUMENT') // but cannot record a new one
    ro.close()
    const copy = Store.open({ dataDir: snap })
    expect(copy.stream('order:1').map((e) => e.type)).toEqual(['order.placed', 'order.shipped'])
    copy.close()
  })
})
