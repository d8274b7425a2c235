import { describe, expect, it } from 'vitest'
import {
  Coordinate,
  EventKind,
  InvalidArgumentError,
  InvalidCoordinateError,
  InvalidKindError,
  InvalidPayloadError,
  isCausewayError,
  PayloadTooLargeError,
  Query,
  Region,
  Store,
  defineStateMachine,
  type ErrorCode,
} from '../src/index.js'
import { dirDigest, tempDir } from './helpers.js'

const K = EventKind.custom(1, 1)
const c = () => new Coordinate('order:1', 'shop')
const ID = '01890a5d-ac96-774b-bcce-b302099a8057'
const P = { name: 'count', version: 1, init: () => 0, apply: (n: number) => n + 1 }
const M = defineStateMachine({ name: 'order', states: ['new', 'placed'], initial: 'new', transitions: { place: { from: 'new', to: 'placed', kind: K } } })
// Named transitions: one of a type every case's store defines (with a schema), one of a type none defines.
const Seeded = defineStateMachine({ name: 'seeded', states: ['new', 'done'], initial: 'new', transitions: { go: { from: 'new', to: 'done', kind: 'typed.seed' } } })
const Undefined = defineStateMachine({ name: 'undef', states: ['new', 'done'], initial: 'new', transitions: { go: { from: 'new', to: 'done', kind: 'order.never-defined' } } })
// Types every case's store has defined (so a case can conflict with one without writing).
const SEED_SCHEMA = { type: 'object', required: ['n'], properties: { n: { type: 'number' } } }
const ASYNC_SCHEMA = { '~standard': { version: 1 as const, vendor: 'test', validate: async (value: unknown) => ({ value }) } }
const circular: Record<string, unknown> = {}
circular.self = circular

// [what, call, expected code]
const cases: Array<[string, (s: Store) => unknown, ErrorCode]> = [
  ['empty entity', () => new Coordinate('', 'shop'), 'E_INVALID_COORDINATE'],
  ['empty scope', () => new Coordinate('a', ''), 'E_INVALID_COORDINATE'],
  ['over-long entity', () => new Coordinate('e'.repeat(1025), 'shop'), 'E_INVALID_COORDINATE'],
  ['over-long multibyte scope', () => new Coordinate('a', 'é'.repeat(513)), 'E_INVALID_COORDINATE'],
  ['control character in entity', () => new Coordinate('a\nb', 'shop'), 'E_INVALID_COORDINATE'],
  ['NUL in scope', () => new Coordinate('a', 's\0'), 'E_INVALID_COORDINATE'],
  ['DEL in entity', () => new Coordinate('a\x7f', 's'), 'E_INVALID_COORDINATE'],
  ['lone surrogate in entity', () => new Coordinate('a\ud800', 's'), 'E_INVALID_COORDINATE'],
  ['non-string entity', () => new Coordinate(42 as unknown as string, 's'), 'E_INVALID_COORDINATE'],
  ['plain object as coordinate', (s) => s.append({ entity: 'a', scope: 'b' } as unknown as Coordinate, K, 1), 'E_INVALID_COORDINATE'],
  ['reserved category 0', () => EventKind.custom(0, 1), 'E_INVALID_KIND'],
  ['reserved category 0xD', () => EventKind.custom(0xd, 1), 'E_INVALID_KIND'],
  ['category 16', () => EventKind.custom(16, 1), 'E_INVALID_KIND'],
  ['type 4096', () => EventKind.custom(1, 4096), 'E_INVALID_KIND'],
  ['fractional type', () => EventKind.custom(1, 1.5), 'E_INVALID_KIND'],
  ['reserved kind by value', (s) => s.append(c(), EventKind.fromValue(0x0001), 1), 'E_INVALID_KIND'],
  ['number as kind', (s) => s.append(c(), 0x1001 as unknown as EventKind, 1), 'E_INVALID_KIND'],
  ['function payload', (s) => s.append(c(), K, () => 1), 'E_INVALID_PAYLOAD'],
  ['symbol in payload', (s) => s.append(c(), K, { a: Symbol('x') }), 'E_INVALID_PAYLOAD'],
  ['BigInt payload', (s) => s.append(c(), K, { n: 10n }), 'E_INVALID_PAYLOAD'],
  ['NaN payload', (s) => s.append(c(), K, { n: NaN }), 'E_INVALID_PAYLOAD'],
  ['Infinity payload', (s) => s.append(c(), K, [Infinity]), 'E_INVALID_PAYLOAD'],
  ['circular payload', (s) => s.append(c(), K, circular), 'E_INVALID_PAYLOAD'],
  ['undefined payload', (s) => s.append(c(), K, undefined), 'E_INVALID_PAYLOAD'],
  ['class instance payload', (s) => s.append(c(), K, new Map([[1, 2]])), 'E_INVALID_PAYLOAD'],
  ['oversize payload', (s) => s.append(c(), K, 'x'.repeat(2048)), 'E_PAYLOAD_TOO_LARGE'],
  ['negative expectedSequence', (s) => s.append(c(), K, 1, { expectedSequence: -1 }), 'E_INVALID_ARGUMENT'],
  ['string expectedSequence', (s) => s.append(c(), K, 1, { expectedSequence: '1' as unknown as number }), 'E_INVALID_ARGUMENT'],
  ['empty idempotency key', (s) => s.append(c(), K, 1, { idempotencyKey: '' }), 'E_INVALID_ARGUMENT'],
  ['over-long idempotency key', (s) => s.append(c(), K, 1, { idempotencyKey: 'k'.repeat(1025) }), 'E_INVALID_ARGUMENT'],
  ['malformed correlation id', (s) => s.append(c(), K, 1, { correlationId: 'nope' }), 'E_INVALID_ARGUMENT'],
  ['malformed causation id', (s) => s.append(c(), K, 1, { causationId: '1234' }), 'E_INVALID_ARGUMENT'],
  ['non-boolean durable', (s) => s.append(c(), K, 1, { durable: 'yes' as unknown as boolean }), 'E_INVALID_ARGUMENT'],
  ['options not an object', (s) => s.append(c(), K, 1, 7 as never), 'E_INVALID_ARGUMENT'],
  ['empty batch', (s) => s.appendBatch([]), 'E_INVALID_ARGUMENT'],
  ['batch not an array', (s) => s.appendBatch('x' as never), 'E_INVALID_ARGUMENT'],
  ['batch priorItem forward', (s) => s.appendBatch([{ coord: c(), kind: K, payload: 1, causation: { priorItem: 0 } }]), 'E_INVALID_ARGUMENT'],
  [
    'batch with one bad payload',
    (s) => s.appendBatch([{ coord: c(), kind: K, payload: 1 }, { coord: c(), kind: K, payload: NaN }]),
    'E_INVALID_PAYLOAD',
  ],
  [
    'batch repeating one idempotency key',
    (s) => s.appendBatch([{ coord: c(), kind: K, payload: 1, idempotencyKey: 'a' }, { coord: c(), kind: K, payload: 2, idempotencyKey: 'a' }]),
    'E_INVALID_ARGUMENT',
  ],
  // Newer methods: delivery, conditional appends, maintenance, causal walks.
  ['cursor over a non-region', (s) => s.cursor({} as Region), 'E_INVALID_ARGUMENT'],
  ['cursor from a negative position', (s) => s.cursor(Region.all(), { from: -1n }), 'E_INVALID_ARGUMENT'],
  ['cursor from a number, not a bigint', (s) => s.cursor(Region.all(), { from: 1 as unknown as bigint }), 'E_INVALID_ARGUMENT'],
  ['subscribe to a non-region', (s) => s.subscribe('all' as unknown as Region), 'E_INVALID_ARGUMENT'],
  ['appendIf without a condition', (s) => s.appendIf([{ coord: c(), kind: K, payload: 1 }], undefined as never), 'E_INVALID_ARGUMENT'],
  ['appendIf after a negative position', (s) => s.appendIf([{ coord: c(), kind: K, payload: 1 }], { failIfEventsMatch: Region.all(), after: -1n }), 'E_INVALID_ARGUMENT'],
  ['appendIf with a NaN payload', (s) => s.appendIf([{ coord: c(), kind: K, payload: NaN }], { failIfEventsMatch: Region.all(), after: 0n }), 'E_INVALID_PAYLOAD'],
  ['compact with an unknown strategy', (s) => s.compact({ strategy: 'shrink' as never }), 'E_INVALID_ARGUMENT'],
  ['compact retention without keep', (s) => s.compact({ strategy: 'retention' }), 'E_INVALID_ARGUMENT'],
  ['compact with minSegments 0', (s) => s.compact({ strategy: 'merge', minSegments: 0 }), 'E_INVALID_ARGUMENT'],
  ['snapshot into the store itself', (s) => s.snapshot(s.dataDir), 'E_INVALID_ARGUMENT'],
  ['snapshot to an empty path', (s) => s.snapshot(''), 'E_INVALID_ARGUMENT'],
  ['walkAncestors of a non-uuid', (s) => s.walkAncestors('nope'), 'E_INVALID_ARGUMENT'],
  ['causalGraph of a non-uuid', (s) => s.causalGraph('nope'), 'E_INVALID_ARGUMENT'],
  ['byCorrelation of a non-uuid', (s) => s.byCorrelation('nope'), 'E_INVALID_ARGUMENT'],
  ['effectsOf a non-uuid', (s) => s.effectsOf('1234'), 'E_INVALID_ARGUMENT'],
  ['project with a non-projection', (s) => s.project('order:1', {} as never), 'E_INVALID_ARGUMENT'],
  ['reactLoop with a non-function reactor', (s) => s.reactLoop(Region.all(), 7 as never), 'E_INVALID_ARGUMENT'],
  ['append of a 1025-byte UTF-8 entity', (s) => s.append(new Coordinate('ü'.repeat(512) + 'x', 's'), K, 1), 'E_INVALID_COORDINATE'],
  ['append of a payload over maxPayloadBytes in a batch', (s) => s.appendBatch([{ coord: c(), kind: K, payload: 'x'.repeat(4096) }]), 'E_PAYLOAD_TOO_LARGE'],
  ['get with a non-uuid', (s) => s.get('not-an-id'), 'E_INVALID_ARGUMENT'],
  ['query with a non-region', (s) => s.query({} as Region), 'E_INVALID_ARGUMENT'],
  ['stream of an empty entity', (s) => s.stream(''), 'E_INVALID_COORDINATE'],
  ['inverted clock range', () => Region.all().withClockRange(5, 1), 'E_INVALID_ARGUMENT'],
  ['NaN time range', () => Region.all().withTimeRange(NaN, 1), 'E_INVALID_ARGUMENT'],
  ['open without dataDir', () => Store.open({} as never), 'E_INVALID_ARGUMENT'],
  ['open with a tiny segment', () => Store.open({ dataDir: '/tmp/x', segmentMaxBytes: 100 }), 'E_INVALID_ARGUMENT'],
  ['open with a bad sync mode', () => Store.open({ dataDir: '/tmp/x', sync: { mode: 'sometimes' as never } }), 'E_INVALID_ARGUMENT'],
  // Unknown option keys: a misspelt or unsupported option is refused, never ignored.
  ['append with timestampMs (no such option)', (s) => s.append(c(), K, 1, { timestampMs: 5 } as never), 'E_INVALID_ARGUMENT'],
  ['append with durabel misspelt', (s) => s.append(c(), K, 1, { durabel: true } as never), 'E_INVALID_ARGUMENT'],
  ['append with options as an array', (s) => s.append(c(), K, 1, [] as never), 'E_INVALID_ARGUMENT'],
  ['appendSystem with an unknown option', (s) => s.appendSystem(c(), K, 1, { expectedSeq: 1 } as never), 'E_INVALID_ARGUMENT'],
  ['appendReaction with correlationId in its options', (s) => s.appendReaction(c(), K, 1, ID, ID, { correlationId: ID } as never), 'E_INVALID_ARGUMENT'],
  ['appendDenial with an unknown option', (s) => s.appendDenial(c(), { gate: 'g', code: 'C', message: 'm' }, { durabel: true } as never), 'E_INVALID_ARGUMENT'],
  ['appendDenial with an unknown denial key', (s) => s.appendDenial(c(), { gate: 'g', code: 'C', message: 'm', contxt: {} } as never), 'E_INVALID_ARGUMENT'],
  ['appendBatch with an unknown option', (s) => s.appendBatch([{ coord: c(), kind: K, payload: 1 }], { sync: true } as never), 'E_INVALID_ARGUMENT'],
  ['appendBatch item with causationId (batch items say causation)', (s) => s.appendBatch([{ coord: c(), kind: K, payload: 1, causationId: ID } as never]), 'E_INVALID_ARGUMENT'],
  ['appendBatch with a good item and one with an unknown key', (s) => s.appendBatch([{ coord: c(), kind: K, payload: 1 }, { coord: c(), kind: K, payload: 2, durable: true } as never]), 'E_INVALID_ARGUMENT'],
  ['appendIf with an unknown condition key', (s) => s.appendIf([{ coord: c(), kind: K, payload: 1 }], { failIfEventsMatch: Region.all(), after: null, before: 3n } as never), 'E_INVALID_ARGUMENT'],
  ['appendIf with an unknown option', (s) => s.appendIf([{ coord: c(), kind: K, payload: 1 }], { failIfEventsMatch: Region.all(), after: null }, { durabel: true } as never), 'E_INVALID_ARGUMENT'],
  ['appendIf item with an unknown key', (s) => s.appendIf([{ coord: c(), kind: K, payload: 1, timestamp: 5 } as never], { failIfEventsMatch: Region.all(), after: null }), 'E_INVALID_ARGUMENT'],
  ['open with an unknown option', () => Store.open({ dataDir: '/tmp/x', readonly: true } as never), 'E_INVALID_ARGUMENT'],
  ['open with an unknown key in sync', () => Store.open({ dataDir: '/tmp/x', sync: { intervalMs: 5 } as never }), 'E_INVALID_ARGUMENT'],
  ['scan with an unknown option', (s) => s.scan(Region.all(), { from: 0n } as never), 'E_INVALID_ARGUMENT'],
  ['cursor with an unknown option', (s) => s.cursor(Region.all(), { fromSequence: 0n } as never), 'E_INVALID_ARGUMENT'],
  ['reactLoop with an unknown option', (s) => s.reactLoop(Region.all(), () => [], { checkpointName: 'x' } as never), 'E_INVALID_ARGUMENT'],
  ['project with an unknown option', (s) => s.project('order:1', P, { fresh: true } as never), 'E_INVALID_ARGUMENT'],
  ['project with an unknown freshness key', (s) => s.project('order:1', P, { freshness: { maxStaleMs: 5, minMs: 1 } as never }), 'E_INVALID_ARGUMENT'],
  ['project asOf naming both a sequence and a time', (s) => s.project('order:1', P, { asOf: { sequence: 1n, timestampMs: 5 } as never }), 'E_INVALID_ARGUMENT'],
  ['projectMany with an unknown option', (s) => s.projectMany('order:1', [P], { asof: { sequence: 0n } } as never), 'E_INVALID_ARGUMENT'],
  ['applyTransition with expectedSequence (the handle has it)', (s) => s.applyTransition(M.start(c()), M.transitions.place, 1, { expectedSequence: 0 } as never), 'E_INVALID_ARGUMENT'],
  ['defineStateMachine with an unknown key', () => defineStateMachine({ name: 'm', states: ['a'], initial: 'a', transitions: {}, final: 'a' } as never), 'E_INVALID_ARGUMENT'],
  ['defineStateMachine transition with an unknown key', () => defineStateMachine({ name: 'm', states: ['a', 'b'], initial: 'a', transitions: { go: { from: 'a', to: 'b', kind: K, guard: 1 } as never } }), 'E_INVALID_ARGUMENT'],
  ['outbox stage with an unknown option', (s) => s.outbox().stage(c(), K, 1, { causationId: ID } as never), 'E_INVALID_ARGUMENT'],
  ['outbox flush with an unknown option', (s) => s.outbox().flush({ durabel: true } as never), 'E_INVALID_ARGUMENT'],
  ['causalGraph with an unknown option', (s) => s.causalGraph(s.query(Region.all())[0]!.eventId, { depth: 3 } as never), 'E_INVALID_ARGUMENT'],
  ['causalGraph with maxNodes 0', (s) => s.causalGraph(s.query(Region.all())[0]!.eventId, { maxNodes: 0 }), 'E_INVALID_ARGUMENT'],
  ['causalGraph with a fractional maxNodes', (s) => s.causalGraph(s.query(Region.all())[0]!.eventId, { maxNodes: 1.5 }), 'E_INVALID_ARGUMENT'],
  ['compact with an unknown option', (s) => s.compact({ strategy: 'merge', minSegment: 1 } as never), 'E_INVALID_ARGUMENT'],
  // Named types and schemas (store.types).
  ['append of an undefined type name', (s) => s.append(c(), 'order.never-defined', 1), 'E_UNKNOWN_TYPE'],
  ['batch with one item of an undefined type name', (s) => s.appendBatch([{ coord: c(), kind: 'typed.seed', payload: { n: 1 } }, { coord: c(), kind: 'nope', payload: 1 }]), 'E_UNKNOWN_TYPE'],
  ['appendIf with an undefined type name in its boundary', (s) => s.appendIf([{ coord: c(), kind: K, payload: 1 }], { failIfEventsMatch: Region.all().withFact('nope'), after: null }), 'E_UNKNOWN_TYPE'],
  ['query by an undefined type name', (s) => s.query(Region.all().withFact('order.never-defined')), 'E_UNKNOWN_TYPE'],
  ['a type defined again with another schema', (s) => s.types.define('typed.seed', { schema: { type: 'string' } }), 'E_TYPE_CONFLICT'],
  ['a type defined again without its schema', (s) => s.types.define('typed.seed'), 'E_TYPE_CONFLICT'],
  ['a type defined again with another explicit kind', (s) => s.types.define('typed.seed', { schema: SEED_SCHEMA, kind: EventKind.custom(2, 2) }), 'E_TYPE_CONFLICT'],
  ['a new type given a kind another type has', (s) => s.types.define('typed.other', { kind: s.types.kindOf('typed.seed') }), 'E_TYPE_CONFLICT'],
  ['a type name with a space', (s) => s.types.define('order placed'), 'E_INVALID_TYPE_NAME'],
  ['an empty type name', (s) => s.types.define(''), 'E_INVALID_TYPE_NAME'],
  ['a 129-character type name', (s) => s.types.define('t'.repeat(129)), 'E_INVALID_TYPE_NAME'],
  ['a type name that is not a string', (s) => s.types.define(7 as never), 'E_INVALID_TYPE_NAME'],
  ['append of an invalid type name', (s) => s.append(c(), 'a/b', 1), 'E_INVALID_TYPE_NAME'],
  ['withFact of an invalid type name', () => Region.all().withFact('a\nb'), 'E_INVALID_TYPE_NAME'],
  ['a type with a reserved kind', (s) => s.types.define('typed.sys', { kind: EventKind.fromValue(0x0001) }), 'E_INVALID_KIND'],
  ['types.define with an unknown option', (s) => s.types.define('typed.v', { versions: 2 } as never), 'E_INVALID_ARGUMENT'],
  ['types.define with version 0', (s) => s.types.define('typed.v', { version: 0 }), 'E_INVALID_ARGUMENT'],
  ['an upcast step that skips a version (1 -> 3)', (s) => s.types.upcast('typed.seed', 1, 3, (p) => p), 'E_INVALID_ARGUMENT'],
  ['an upcast step that goes down (2 -> 1)', (s) => s.types.upcast('typed.seed', 2, 1, (p) => p), 'E_INVALID_ARGUMENT'],
  ['an upcast step from version 0', (s) => s.types.upcast('typed.seed', 0, 1, (p) => p), 'E_INVALID_ARGUMENT'],
  ['an upcast step that is not a function', (s) => s.types.upcast('typed.seed', 1, 2, 'x' as never), 'E_INVALID_ARGUMENT'],
  ['defineStateMachine transition with an invalid type name', () => defineStateMachine({ name: 'm', states: ['a', 'b'], initial: 'a', transitions: { go: { from: 'a', to: 'b', kind: 'a/b' } } }), 'E_INVALID_TYPE_NAME'],
  ['applyTransition of a transition whose type is undefined', (s) => s.applyTransition(Undefined.start(c()), Undefined.transitions.go, 1), 'E_UNKNOWN_TYPE'],
  ['loadTyped of a machine with an undefined type', (s) => s.loadTyped(Undefined, c()), 'E_UNKNOWN_TYPE'],
  ['applyTransition with a payload its type\'s schema refuses', (s) => s.applyTransition(Seeded.start(new Coordinate('seeded:1', 'shop')), Seeded.transitions.go, { n: 'one' }), 'E_INVALID_PAYLOAD'],
  ['an upcast step of an undefined type', (s) => s.types.upcast('order.never-defined', 1, 2, (p) => p), 'E_UNKNOWN_TYPE'],
  ['a second, different upcast step for one version', (s) => (s.types.upcast('typed.seed', 1, 2, (p) => p), s.types.upcast('typed.seed', 1, 2, (p) => p)), 'E_TYPE_CONFLICT'],
  ['an upcast gap found by checkUpcasts', (s) => (s.types.define('typed.seed', { schema: SEED_SCHEMA, version: 3 }), s.types.upcast('typed.seed', 2, 3, (p) => p), s.types.checkUpcasts()), 'E_UPCAST'],
  ['an append with an empty tag', (s) => s.append(c(), K, 1, { tags: [''] }), 'E_INVALID_TAG'],
  ['an append with a 129-byte tag', (s) => s.append(c(), K, 1, { tags: ['t'.repeat(129)] }), 'E_INVALID_TAG'],
  ['an append with a tag holding a newline', (s) => s.append(c(), K, 1, { tags: ['a\nb'] }), 'E_INVALID_TAG'],
  ['an append with a tag holding a C1 control character', (s) => s.append(c(), K, 1, { tags: ['caf\u00e9\u0085'] }), 'E_INVALID_TAG'],
  ['an append with a tag holding DEL', (s) => s.append(c(), K, 1, { tags: ['a\u007f'] }), 'E_INVALID_TAG'],
  ['an append with 33 tags', (s) => s.append(c(), K, 1, { tags: Array.from({ length: 33 }, (_, i) => `t${i}`) }), 'E_INVALID_TAG'],
  ['an append with tags not an array', (s) => s.append(c(), K, 1, { tags: 'course:c1' as never }), 'E_INVALID_TAG'],
  ['a batch item with a control character in a tag', (s) => s.appendBatch([{ coord: c(), kind: K, payload: 1, tags: ['ok', 'a\u0007'] }]), 'E_INVALID_TAG'],
  ['an append with an invalid occurredAt', (s) => s.append(c(), K, 1, { occurredAt: new Date('nope') }), 'E_INVALID_ARGUMENT'],
  ['an append with occurredAt as a string', (s) => s.append(c(), K, 1, { occurredAt: '2020-01-01' as never }), 'E_INVALID_ARGUMENT'],
  ['a schemaVersion without a schema', (s) => s.types.define('typed.v', { schemaVersion: '1' }), 'E_INVALID_ARGUMENT'],
  ['a schema that is neither Standard Schema nor JSON Schema', (s) => s.types.define('typed.v', { schema: 42 as never }), 'E_INVALID_SCHEMA'],
  ['a JSON Schema ajv cannot compile', (s) => s.types.define('typed.v', { schema: { type: 'no-such-type' } }), 'E_INVALID_SCHEMA'],
  ['a payload its schema refuses', (s) => s.append(c(), 'typed.seed', { n: 'one' }), 'E_INVALID_PAYLOAD'],
  ['a batch with one payload its schema refuses', (s) => s.appendBatch([{ coord: c(), kind: 'typed.seed', payload: { n: 1 } }, { coord: c(), kind: 'typed.seed', payload: {} }]), 'E_INVALID_PAYLOAD'],
  ['an asynchronous schema at append', (s) => s.append(c(), 'typed.async', 1), 'E_INVALID_SCHEMA'],
  // Paging and ordering: query and stream with options, clockOf.
  ['query with a negative limit', (s) => s.query(Region.all(), { limit: -1 }), 'E_INVALID_ARGUMENT'],
  ['query with a fractional limit', (s) => s.query(Region.all(), { limit: 2.5 }), 'E_INVALID_ARGUMENT'],
  ['query with a string limit', (s) => s.query(Region.all(), { limit: '20' as never }), 'E_INVALID_ARGUMENT'],
  ['query after a number, not a bigint', (s) => s.query(Region.all(), { after: 5 as never }), 'E_INVALID_ARGUMENT'],
  ['query after a negative sequence', (s) => s.query(Region.all(), { after: -1n }), 'E_INVALID_ARGUMENT'],
  ['query with a non-boolean reverse', (s) => s.query(Region.all(), { reverse: 1 as never }), 'E_INVALID_ARGUMENT'],
  ['query with pageSize 0', (s) => s.query(Region.all(), { pageSize: 0 }), 'E_INVALID_ARGUMENT'],
  ['query with an unknown option', (s) => s.query(Region.all(), { before: 5n } as never), 'E_INVALID_ARGUMENT'],
  ['query with null options', (s) => s.query(Region.all(), null as never), 'E_INVALID_ARGUMENT'],
  ['query with options of a non-region', (s) => s.query({} as Region, { limit: 1 }), 'E_INVALID_ARGUMENT'],
  ['stream with fromClock after toClock', (s) => s.stream('order:1', { fromClock: 5, toClock: 2 }), 'E_INVALID_ARGUMENT'],
  ['stream with a negative fromClock', (s) => s.stream('order:1', { fromClock: -1 }), 'E_INVALID_ARGUMENT'],
  ['stream with a fractional toClock', (s) => s.stream('order:1', { toClock: 1.5 }), 'E_INVALID_ARGUMENT'],
  ['stream with a toClock past 2^32-1', (s) => s.stream('order:1', { toClock: 2 ** 32 }), 'E_INVALID_ARGUMENT'],
  ['stream with a negative limit', (s) => s.stream('order:1', { reverse: true, limit: -20 }), 'E_INVALID_ARGUMENT'],
  ['stream with after (streams page by clock)', (s) => s.stream('order:1', { after: 1n } as never), 'E_INVALID_ARGUMENT'],
  ['stream with options of an empty entity', (s) => s.stream('', { limit: 1 }), 'E_INVALID_COORDINATE'],
  ['clockOf an empty entity', (s) => s.clockOf(''), 'E_INVALID_COORDINATE'],
  // Tags and DCB queries.
  ['a query with no items', () => Query.items(), 'E_INVALID_QUERY'],
  ['appendIf on a query with no items', (s) => s.appendIf([{ coord: c(), kind: K, payload: 1 }], { failIfEventsMatch: Query.of(), after: null }), 'E_INVALID_QUERY'],
  ['a query item with neither types nor tags', () => Query.items({}), 'E_INVALID_QUERY'],
  ['a query item with empty types and tags', () => Query.items({ types: [], tags: [] }), 'E_INVALID_QUERY'],
  ['a query item with an unknown key', () => Query.items({ tag: ['x'] } as never), 'E_INVALID_QUERY'],
  ['a query item with a bad tag', () => Query.items({ tags: ['a\nb'] }), 'E_INVALID_TAG'],
  ['a query item with an invalid type name', () => Query.items({ types: ['a/b'] }), 'E_INVALID_TYPE_NAME'],
  ['a query on an undefined type', (s) => s.query(Query.items({ types: ['no.such.type'] })), 'E_UNKNOWN_TYPE'],
  ['appendIf on an undefined type', (s) => s.appendIf([{ coord: c(), kind: K, payload: 1 }], { failIfEventsMatch: Query.items({ types: ['no.such.type'] }), after: null }), 'E_UNKNOWN_TYPE'],
  ['decide on a query with no projections', (s) => s.decide(Query.items({ tags: ['x'] }), []), 'E_INVALID_ARGUMENT'],
  ['decide with one projection passed bare', (s) => s.decide(Query.items({ tags: ['x'] }), P as never), 'E_INVALID_ARGUMENT'],
  ['decide on a plain object, not a query', (s) => s.decide({ tags: ['x'] } as never, [P]), 'E_INVALID_ARGUMENT'],
  ['withTags with an empty tag', () => Region.all().withTags(''), 'E_INVALID_TAG'],
  ['withTags with a control character', () => Region.all().withTags('ok', 'a\u0000'), 'E_INVALID_TAG'],
  ['withTags with no tag', () => Region.all().withTags(), 'E_INVALID_TAG'],
  ['withOccurredRange with an invalid Date', () => Region.all().withOccurredRange(new Date('nope'), 5), 'E_INVALID_ARGUMENT'],
  ['withOccurredRange with its start after its end', () => Region.all().withOccurredRange(10, 5), 'E_INVALID_ARGUMENT'],
  ['append to the type registry entity', (s) => s.append(new Coordinate('$causeway:types', '$causeway'), K, 1), 'E_INVALID_COORDINATE'],
]

// Small segments: each case hashes the store's files before and after, and a
// default 64 MiB segment would make that most of the test's time.
const SEG = 64 * 1024

describe('bad input', () => {
  it.each(cases)('refuses %s with a typed error and changes no byte on disk', (_what, call, code) => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir, maxPayloadBytes: 1024, segmentMaxBytes: SEG })
    s.append(c(), K, { seed: true })
    s.types.define('typed.seed', { schema: SEED_SCHEMA })
    s.types.define('typed.async', { schema: ASYNC_SCHEMA })
    s.sync()
    const before = dirDigest(dir)
    const stats = s.stats()
    let err: unknown
    try {
      call(s)
    } catch (e) {
      err = e
    }
    expect(isCausewayError(err, code), `expected ${code}, got ${String(err)}`).toBe(true)
    expect((err as Error).message.length).toBeGreaterThan(10)
    s.sync()
    expect(s.stats().events).toBe(stats.events)
    expect(s.stats().nextSequence).toBe(stats.nextSequence)
    expect(dirDigest(dir)).toEqual(before)
    s.close()
  })

  it('refuses every method after close with E_STORE_CLOSED and changes no byte', () => {
    const dir = tempDir()
    const s = Store.open({ dataDir: dir })
    const r = s.append(c(), K, { seed: true })
    s.close()
    const before = dirDigest(dir)
    const calls: Array<[string, () => unknown]> = [
      ['append', () => s.append(c(), K, 1)],
      ['appendBatch', () => s.appendBatch([{ coord: c(), kind: K, payload: 1 }])],
      ['appendIf', () => s.appendIf([{ coord: c(), kind: K, payload: 1 }], { failIfEventsMatch: Region.all(), after: null })],
      ['query', () => s.query(Region.all())],
      ['get', () => s.get(r.eventId)],
      ['stream', () => s.stream('order:1')],
      ['stream with options', () => s.stream('order:1', { reverse: true, limit: 20 })],
      ['query with options', () => s.query(Region.all(), { limit: 1 })],
      ['clockOf', () => s.clockOf('order:1')],
      ['sync', () => s.sync()],
      ['stats', () => s.stats()],
      ['cursor', () => s.cursor(Region.all()).pollBatch(1)],
      ['subscribe', () => s.subscribe(Region.all())],
      ['compact', () => s.compact({ strategy: 'merge' })],
      ['snapshot', () => s.snapshot(dir + '-snap')],
      ['verifyChain', () => s.verifyChain()],
      ['walkAncestors', () => s.walkAncestors(r.eventId)],
      ['types.define', () => s.types.define('order.placed')],
      ['append by type name', () => s.append(c(), 'order.placed', 1)],
    ]
    for (const [what, call] of calls) {
      let err: unknown
      try {
        call()
      } catch (e) {
        err = e
      }
      expect(isCausewayError(err, 'E_STORE_CLOSED'), `${what} after close: ${String(err)}`).toBe(true)
    }
    expect(() => s.close()).not.toThrow()
    expect(dirDigest(dir)).toEqual(before)
  })

  it('names the unknown option and the accepted ones, in the message and as details', () => {
    const s = Store.open({ dataDir: tempDir() })
    let err: unknown
    try {
      s.append(c(), K, 1, { durable: true, timestampMs: 5 } as never)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect((err as Error).message).toBe("append: unknown option 'timestampMs'; accepted: expectedSequence, idempotencyKey, correlationId, causationId, durable, occurredAt, tags")
    expect(err).toMatchObject({ option: 'timestampMs', accepted: ['expectedSequence', 'idempotencyKey', 'correlationId', 'causationId', 'durable', 'occurredAt', 'tags'] })
    expect(() => Store.open({ dataDir: tempDir(), sync: { everyMS: 5 } as never })).toThrow("Store.open sync: unknown option 'everyMS'; accepted: everyEvents, everyMs, mode")
    expect(() => s.appendBatch([{ coord: c(), kind: K, payload: 1 }, { coord: c(), kind: K, payload: 1, causationId: 'x' } as never])).toThrow(
      "appendBatch batch item 1: unknown option 'causationId'",
    )
    expect(s.stats().events).toBe(0)
    s.close()
  })

  it('has one error class per code, each an instance of its base', () => {
    expect(new InvalidCoordinateError('x').code).toBe('E_INVALID_COORDINATE')
    expect(new InvalidKindError('x')).toBeInstanceOf(Error)
    expect(new InvalidPayloadError('x').name).toBe('InvalidPayloadError')
    expect(new PayloadTooLargeError('x', { size: 5 })).toMatchObject({ size: 5 })
    expect(isCausewayError(new InvalidArgumentError('x'), 'E_INVALID_ARGUMENT')).toBe(true)
    expect(isCausewayError(new Error('x'))).toBe(false)
  })

  it('refuses an event larger than a whole segment with PayloadTooLargeError', () => {
    const s = Store.open({ dataDir: tempDir(), segmentMaxBytes: 4096 })
    expect(() => s.append(c(), K, 'x'.repeat(5000))).toThrow(PayloadTooLargeError)
    expect(() => s.appendBatch(Array.from({ length: 30 }, (_, i) => ({ coord: c(), kind: K, payload: 'y'.repeat(100) + i })))).toThrow(
      PayloadTooLargeError,
    )
    expect(s.stats().events).toBe(0)
    s.append(c(), K, 'fits')
    s.close()
  })
})
