/**
 * Schemas of named types: a Standard Schema validator (zod, valibot,
 * arktype, ...) or a JSON Schema object, compiled with ajv (an optional peer
 * dependency, loaded the first time a JSON Schema is defined). Schemas are
 * code: the registry records only a fingerprint of one.
 */
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { InvalidArgumentError, InvalidPayloadError, InvalidSchemaError } from '../errors.js'
import type { StandardSchemaV1 } from './standard-schema.js'

/** A JSON Schema document (draft-07 by default; `$schema` may name 2020-12). */
export type JsonSchema = { readonly [key: string]: unknown }

/** What `types.define` accepts as a schema. */
export type TypeSchema = StandardSchemaV1 | JsonSchema

/** Throws InvalidPayloadError (or InvalidSchemaError) when the payload fails. */
export type PayloadCheck = (payload: unknown) => void

export interface CompiledSchema {
  check: PayloadCheck
  /** What the registry records: equal fingerprints are the same definition. */
  fingerprint: string
}

const MAX_VERSION = 128

function isStandard(s: unknown): s is StandardSchemaV1 {
  if ((typeof s !== 'object' && typeof s !== 'function') || s === null || !('~standard' in s)) return false
  const p = (s as StandardSchemaV1)['~standard']
  return typeof p === 'object' && p !== null && typeof p.validate === 'function'
}

/** JSON with object keys sorted, so key order does not change a fingerprint. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (typeof v === 'object' && v !== null) {
    const keys = Object.keys(v).sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(v) ?? 'null'
}

function pointer(segments: ReadonlyArray<PropertyKey | StandardSchemaV1.PathSegment> | undefined): string {
  if (!segments || segments.length === 0) return ''
  return segments
    .map((s) => String(typeof s === 'object' && s !== null ? s.key : s).replace(/~/g, '~0').replace(/\//g, '~1'))
    .reduce((a, s) => `${a}/${s}`, '')
}

function refuse(type: string, path: string, reason: string, details: Record<string, unknown> = {}): never {
  throw new InvalidPayloadError(`type ${type}: payload ${path === '' ? 'at the root' : `at ${path}`}: ${reason}`, { type, path, reason, ...details })
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function'
}

function asyncRefused(type: string, result: PromiseLike<unknown>): never {
  // Nobody awaits it: keep its rejection, if any, from going unhandled.
  Promise.resolve(result).catch(() => {})
  throw new InvalidSchemaError(
    `type ${type}: its schema validated asynchronously (validate returned a Promise); append is synchronous, so use a synchronous schema`,
    { type },
  )
}

function standardCheck(type: string, schema: StandardSchemaV1): PayloadCheck {
  const validate = schema['~standard'].validate
  return (payload) => {
    const r = validate(payload)
    if (isThenable(r)) asyncRefused(type, r)
    if (r.issues) {
      const first = r.issues[0]
      refuse(type, pointer(first?.path), first?.message ?? 'invalid', { issues: r.issues })
    }
  }
}

interface AjvError {
  instancePath: string
  message?: string
}
interface AjvValidate {
  (data: unknown): boolean | PromiseLike<unknown>
  errors?: AjvError[] | null
}
interface AjvInstance {
  compile(schema: object): AjvValidate
}

const ajvs = new Map<string, AjvInstance>()
/** Compiled once per fingerprint: ajv refuses a second schema with the same $id. */
const compiled = new Map<string, AjvValidate>()

function ajvFor(schema: JsonSchema): AjvInstance {
  const draft = typeof schema['$schema'] === 'string' && schema['$schema'].includes('2020-12') ? 'ajv/dist/2020' : 'ajv'
  let ajv = ajvs.get(draft)
  if (!ajv) {
    let mod: { default?: new (o: object) => AjvInstance } & (new (o: object) => AjvInstance)
    try {
      mod = createRequire(__filename)(draft)
    } catch (e) {
      throw new InvalidSchemaError(
        `a JSON Schema needs ajv, an optional peer dependency of causeway: npm install ajv (${(e as Error).message.split('\n')[0]})`,
      )
    }
    const Ajv = mod.default ?? mod
    ajv = new Ajv({ strict: false, allErrors: false })
    ajvs.set(draft, ajv)
  }
  return ajv
}

function jsonCheck(type: string, schema: JsonSchema, fingerprint: string): PayloadCheck {
  let validate = compiled.get(fingerprint)
  if (!validate) {
    try {
      validate = ajvFor(schema).compile(schema)
    } catch (e) {
      if (e instanceof InvalidSchemaError) throw e
      throw new InvalidSchemaError(`type ${type}: ajv cannot compile its JSON Schema: ${(e as Error).message}`, { type })
    }
    compiled.set(fingerprint, validate)
  }
  const v = validate
  return (payload) => {
    const ok = v(payload)
    if (isThenable(ok)) asyncRefused(type, ok)
    if (!ok) {
      const first = v.errors?.[0]
      refuse(type, first?.instancePath ?? '', first?.message ?? 'invalid', { errors: v.errors })
    }
  }
}

/**
 * Compiles a type's schema. `version`, when given, is the fingerprint (a
 * name for the schema's version); otherwise a JSON Schema's fingerprint is
 * a hash of its canonical JSON and a Standard Schema's its vendor's name
 * (a validator is code, and code has no hash).
 */
export function compileSchema(type: string, schema: unknown, version: unknown): CompiledSchema {
  let fixed: string | undefined
  if (version !== undefined) {
    if (typeof version !== 'string' || version.length === 0 || version.length > MAX_VERSION) {
      throw new InvalidArgumentError(`type ${type}: schemaVersion must be a string of 1..${MAX_VERSION} characters`)
    }
    fixed = `version:${version}`
  }
  if (isStandard(schema)) {
    return { check: standardCheck(type, schema), fingerprint: fixed ?? `standard:${schema['~standard'].vendor}` }
  }
  if (typeof schema === 'object' && schema !== null && !Array.isArray(schema)) {
    const text = canonical(schema)
    const fingerprint = fixed ?? `json-sha256:${createHash('sha256').update(text).digest('hex').slice(0, 32)}`
    return { check: jsonCheck(type, schema as JsonSchema, `json-sha256:${createHash('sha256').update(text).digest('hex')}`), fingerprint }
  }
  throw new InvalidSchemaError(`type ${type}: schema must be a Standard Schema validator (zod, valibot, ...) or a JSON Schema object`, { type })
}
