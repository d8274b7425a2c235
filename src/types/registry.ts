/**
 * The type registry: names of event types and the kinds they stand for,
 * kept IN THE LOG as system events (kind TYPE_KIND, 0x000E) on the reserved
 * entity `$causeway:types`. A definition is appended with a compare-and-swap
 * on that entity's clock, so two processes defining at once never give two
 * names one kind: the loser re-reads and tries again. Being events, entries
 * are crash-safe, seen by read-only opens and client processes, and carried
 * by snapshots, compaction (which always keeps them) and export/import.
 */
import { Coordinate } from '../coordinate.js'
import { InvalidArgumentError, InvalidTypeNameError, isCausewayError, NameTableFullError, TypeConflictError, UnknownTypeError } from '../errors.js'
import { EventKind, userKind } from '../kind.js'
import type { Store } from '../store.js'
import { checkOptions, optionKeys } from '../strict.js'
import { compileSchema, type PayloadCheck, type TypeSchema } from './schema.js'
import { cacheClear } from '../projection/cache.js'
import { addStep, checkReachable, checkStep, type Upcaster, type UpcastPlan } from './upcast.js'

/** The system kind (category 0, type 0xE) of type registry entries. */
export const TYPE_KIND: EventKind = EventKind.fromValue(0x000e)
/** The entity whose events are the registry; user appends to `$causeway:` entities are refused. */
export const TYPES_ENTITY = '$causeway:types'
export const RESERVED_ENTITY_PREFIX = '$causeway:'
export const TYPES_COORD = new Coordinate(TYPES_ENTITY, '$causeway')

/** Names: 1..128 characters of A-Z a-z 0-9 . _ : - */
const NAME = /^[A-Za-z0-9._:-]{1,128}$/
/** Categories kinds are allocated from, in order, when `define` is given no kind. */
export const ALLOCATED_CATEGORIES: readonly number[] = [15, 14, 12, 11, 10, 9, 8]
/** How many times a define re-reads after losing a race before giving up. */
const MAX_TRIES = 2000

export interface TypeDefinition {
  /** A Standard Schema validator or a JSON Schema: every append of the type is validated. */
  schema?: TypeSchema
  /** Recorded instead of the schema's own fingerprint: name your schema's versions. */
  schemaVersion?: string
  /** Map the name to this existing kind (migrating numeric kinds) instead of allocating one. */
  kind?: EventKind
  /** The payload version this process appends (1..65535, default 1), stored with each event; reads upcast older ones. */
  version?: number
}
export const TYPE_DEFINITION_KEYS = optionKeys<TypeDefinition>()(['schema', 'schemaVersion', 'kind', 'version'])

/** One registry entry, as recorded. */
export interface TypeInfo {
  readonly name: string
  readonly kind: EventKind
  /** The schema's fingerprint, or null for a type without a schema. */
  readonly fingerprint: string | null
  /** The global sequence of the event that recorded it. */
  readonly sequence: bigint
}

interface Local {
  kind: EventKind
  check: PayloadCheck | undefined
}

/** Checks a type name; throws InvalidTypeNameError. */
export function checkTypeName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}...` : name) : typeof name
    throw new InvalidTypeNameError(`type name ${shown} is not 1..128 characters of A-Z a-z 0-9 . _ : -`)
  }
  return name
}

const pause = new Int32Array(new SharedArrayBuffer(4))

export class TypeRegistry {
  /** @internal */ private readonly byName = new Map<string, TypeInfo>()
  /** @internal */ private readonly byKind = new Map<number, TypeInfo>()
  /** @internal This process's definitions (with their validators), and names adopted from the registry. */
  private readonly local = new Map<string, Local>()
  /** @internal Next global sequence to read registry events from; the registry entity's clock. */
  private readFrom = 0
  /** @internal */ private clock = 0
  /** @internal The store's next sequence when the registry was last read. */
  private seenNext = -1
  /** @internal */ private allocAt = 0
  /** @internal The version each defined kind is appended at, when not 1. */
  private readonly versions = new Map<number, number>()
  /** @internal Read-time upcast plans, by kind: only kinds this process defined or gave steps. */
  private readonly plans = new Map<number, UpcastPlan>()

  /** @internal */
  constructor(private readonly store: Store) {}

  /**
   * Defines `name` (or finds it defined, by this or another process) and
   * returns its kind. The same definition again returns the same kind; another
   * schema fingerprint or another explicit kind throws TypeConflictError.
   */
  define(name: string, definition: TypeDefinition = {}): EventKind {
    checkTypeName(name)
    if (typeof definition !== 'object' || definition === null) throw new InvalidArgumentError('types.define expects a definition object')
    checkOptions('types.define', definition, TYPE_DEFINITION_KEYS)
    const explicit = definition.kind === undefined ? undefined : userKind(definition.kind)
    const version = definition.version ?? 1
    if (!Number.isInteger(version) || version < 1 || version > 0xffff) {
      throw new InvalidArgumentError(`type ${name}: version must be an integer 1..65535, got ${String(definition.version)}`)
    }
    if (definition.schema === undefined && definition.schemaVersion !== undefined) {
      throw new InvalidArgumentError(`type ${name}: schemaVersion names a schema's version, but no schema was given`)
    }
    const compiled = definition.schema === undefined ? undefined : compileSchema(name, definition.schema, definition.schemaVersion)
    const fingerprint = compiled?.fingerprint ?? null
    const h = this.store.nativeHandle()
    for (let tries = 0; ; tries++) {
      this.load()
      const had = this.byName.get(name)
      if (had) {
        if (explicit && explicit.value !== had.kind.value) {
          throw new TypeConflictError(`type ${name} has kind ${had.kind} in the registry, not ${explicit}`, { type: name })
        }
        if (had.fingerprint !== fingerprint) {
          throw new TypeConflictError(
            `type ${name} is recorded with schema fingerprint ${String(had.fingerprint)}, not ${String(fingerprint)}: one name, one definition`,
            { type: name, recorded: had.fingerprint, given: fingerprint },
          )
        }
        this.local.set(name, { kind: had.kind, check: compiled?.check })
        if (version === 1) this.versions.delete(had.kind.value)
        else this.versions.set(had.kind.value, version)
        const plan = this.planFor(had)
        if (plan.current !== version) {
          plan.current = version
          cacheClear(this.store) // projections folded at the old version
        }
        return had.kind
      }
      if (explicit && this.byKind.has(explicit.value)) {
        throw new TypeConflictError(`kind ${explicit} is already the type ${this.byKind.get(explicit.value)!.name}`, { type: name })
      }
      const kind = explicit ?? this.allocate()
      try {
        this.store.appendSystem(TYPES_COORD, TYPE_KIND, { name, kind: kind.value, fingerprint }, { expectedSequence: this.clock })
      } catch (e) {
        if (!isCausewayError(e, 'E_SEQUENCE_MISMATCH') || tries >= MAX_TRIES) throw e
        // Another process defined a type first: map what it wrote, read it, try again.
        const before = this.clock
        h.refresh()
        this.load(true)
        if (this.clock === before) Atomics.wait(pause, 0, 0, 1)
      }
    }
  }

  /** The kind of a defined name; UnknownTypeError when the registry has no such name. */
  kindOf(name: string): EventKind {
    const had = this.byName.get(name) ?? this.lookUp(name)
    return had.kind
  }

  /** The version appends of this kind are stored with: its type's `version` in this process, else 1. */
  versionOf(kind: EventKind): number {
    return this.versions.size === 0 ? 1 : (this.versions.get(kind.value) ?? 1)
  }

  /**
   * Registers the step that brings payloads of `name` from version `from` to
   * `to` (= from + 1) at read time (README, Upcasting). Steps are this
   * process's own; the stored bytes never change. The same function again is
   * a no-op; another function for the same step throws TypeConflictError.
   * Gaps are not checked here (steps come one call at a time): call
   * checkUpcasts() once all are registered, or a read reports the gap.
   */
  upcast<From = any, To = unknown>(name: string, from: number, to: number, fn: Upcaster<From, To>): void {
    checkTypeName(name)
    const at = checkStep(name, from, to, fn)
    if (addStep(this.planFor(this.byName.get(name) ?? this.lookUp(name)), at, fn as Upcaster)) cacheClear(this.store)
  }

  /**
   * Throws UpcastError for the first type (or only `name`) whose steps do
   * not reach its current version from `fromVersion` (default 1, the oldest
   * version a type can be stored at): a gap found at start-up, not at a read.
   */
  checkUpcasts(name?: string, fromVersion = 1): void {
    if (!Number.isInteger(fromVersion) || fromVersion < 1 || fromVersion > 0xffff) {
      throw new InvalidArgumentError(`checkUpcasts: fromVersion must be an integer 1..65535, got ${String(fromVersion)}`)
    }
    // A named type this process neither defined nor gave steps has no plan: nothing to check (and none is made).
    const plans = name === undefined ? [...this.plans.values()] : [this.plans.get((this.byName.get(checkTypeName(name)) ?? this.lookUp(name)).kind.value)]
    for (const plan of plans) if (plan !== undefined && fromVersion < plan.current) checkReachable(plan, fromVersion, undefined)
  }

  /** @internal The upcast plan of a kind value, or undefined: no plan, payloads are read as stored. */
  planOf(kind: number): UpcastPlan | undefined {
    return this.plans.get(kind)
  }

  /** @internal The plan of a type, made at its current version when it has none. */
  private planFor(info: TypeInfo): UpcastPlan {
    let plan = this.plans.get(info.kind.value)
    if (plan === undefined) {
      plan = { type: info.name, current: this.versions.get(info.kind.value) ?? 1, steps: new Map() }
      this.plans.set(info.kind.value, plan)
    }
    return plan
  }

  /** The name of a kind, or undefined for a kind no type has. */
  nameOf(kind: EventKind | number): string | undefined {
    const v = typeof kind === 'number' ? kind : kind.value
    const had = this.byKind.get(v)
    if (had) return had.name
    if (v >>> 12 === 0 || v >>> 12 === 0xd) return undefined
    this.load()
    return this.byKind.get(v)?.name
  }

  /** Every recorded type, in the order they were defined. */
  list(): TypeInfo[] {
    this.load(true)
    return [...this.byName.values()]
  }

  /** Whether the registry has this name. */
  has(name: string): boolean {
    this.load()
    return this.byName.has(name)
  }

  /** @internal The kind to append a payload of `name` with, the payload validated by its schema. */
  forAppend(name: string, payload: unknown): EventKind {
    const d = this.local.get(name) ?? this.adopt(name)
    if (d.check !== undefined) d.check(payload)
    return d.kind
  }

  /**
   * @internal Records an entry as another store had it (import): the same
   * name, kind and fingerprint, no schema. Returns false when the name or
   * the kind is taken by another entry (nothing written).
   */
  restore(name: string, kind: EventKind, fingerprint: string | null): boolean {
    checkTypeName(name)
    for (let tries = 0; ; tries++) {
      this.load(true)
      const had = this.byName.get(name)
      if (had) return had.kind.value === kind.value && had.fingerprint === fingerprint
      if (this.byKind.has(kind.value)) return false
      try {
        this.store.appendSystem(TYPES_COORD, TYPE_KIND, { name, kind: kind.value, fingerprint }, { expectedSequence: this.clock })
        return true
      } catch (e) {
        if (!isCausewayError(e, 'E_SEQUENCE_MISMATCH') || tries >= MAX_TRIES) throw e
        this.store.nativeHandle().refresh()
      }
    }
  }

  /** @internal A name this process has not defined: usable as the registry has it, unless it has a schema. */
  private adopt(name: string): Local {
    const had = this.byName.get(name) ?? this.lookUp(name)
    if (had.fingerprint !== null) {
      throw new UnknownTypeError(
        `type ${name} has a schema (${had.fingerprint}) in the registry, but this process has not defined it: call store.types.define('${name}', { schema }) first`,
        { type: name },
      )
    }
    const d = { kind: had.kind, check: undefined }
    this.local.set(name, d)
    return d
  }

  /** @internal */
  private lookUp(name: string): TypeInfo {
    checkTypeName(name)
    this.load()
    if (!this.byName.has(name) && !this.store.readOnly) {
      // A client process maps the writer's newest events lazily: map them, then look again.
      this.store.nativeHandle().refresh()
      this.load(true)
    }
    const had = this.byName.get(name)
    if (!had) throw new UnknownTypeError(`no type named ${name}: define it first with store.types.define('${name}', ...)`, { type: name })
    return had
  }

  /** @internal Reads registry events appended since the last read (only when the store grew, unless forced). */
  private load(force = false): void {
    const h = this.store.nativeHandle()
    const next = h.nextSequence()
    if (!force && next === this.seenNext) return
    this.seenNext = next
    for (const e of this.store.readFiltered({ entity: TYPES_ENTITY, exactEntity: true, fromSequence: this.readFrom })) {
      this.clock = e.clock
      this.readFrom = Number(e.globalSequence) + 1
      if (e.kind.value !== TYPE_KIND.value) continue
      const p = e.payload as { name?: unknown; kind?: unknown; fingerprint?: unknown } | null
      if (typeof p !== 'object' || p === null || typeof p.name !== 'string' || typeof p.kind !== 'number') continue
      const fp = typeof p.fingerprint === 'string' ? p.fingerprint : null
      // First entry wins: the compare-and-swap keeps later duplicates out; ignore any that got in (a hand-made log).
      if (this.byName.has(p.name) || this.byKind.has(p.kind) || !Number.isInteger(p.kind) || p.kind < 0 || p.kind > 0xffff) continue
      const info: TypeInfo = Object.freeze({ name: p.name, kind: EventKind.fromValue(p.kind), fingerprint: fp, sequence: e.globalSequence })
      this.byName.set(p.name, info)
      this.byKind.set(p.kind, info)
    }
  }

  /** @internal The first kind of the allocated range no type has and no event in the log uses. */
  private allocate(): EventKind {
    const h = this.store.nativeHandle()
    const total = ALLOCATED_CATEGORIES.length * 4096
    for (; this.allocAt < total; this.allocAt++) {
      const v = (ALLOCATED_CATEGORIES[this.allocAt >>> 12]! << 12) | (this.allocAt & 0xfff)
      if (this.byKind.has(v)) continue
      if (h.query({ kind: v, limit: 1 }).byteLength > 0) continue // a numeric kind in use: not ours to name
      return EventKind.fromValue(v)
    }
    throw new NameTableFullError(`the type registry has no free kind left in categories ${ALLOCATED_CATEGORIES.join(', ')}: map names to kinds of your own with { kind }`)
  }
}
