/**
 * The server's `{ error: { code, message, ...details } }` as the very error
 * class the embedded library throws for that code, so `instanceof
 * ConflictError`-style checks and `isCausewayError(e, code)` work the same
 * over the network. Browser-safe: errors.ts imports nothing.
 */
import * as E from '../errors.js'

type ErrorClass = new (message: string, details?: Record<string, unknown>) => E.CausewayError

const BY_CODE: Record<string, ErrorClass> = {}
for (const v of Object.values(E)) {
  if (typeof v !== 'function' || !(v.prototype instanceof E.CausewayError)) continue
  const code = (new (v as ErrorClass)('') as { code: string }).code
  BY_CODE[code] ??= v as ErrorClass
}

/** The library's error for a wire error body; an unknown code keeps its code on a CausewayError. */
export function errorFromWire(body: unknown, status: number): E.CausewayError {
  const err = (body as { error?: Record<string, unknown> } | null)?.error
  if (typeof err !== 'object' || err === null || typeof err.code !== 'string') {
    return new E.ServiceUnavailableError(`the service answered HTTP ${status} without an error body`, { status })
  }
  const { code, message, ...details } = err as { code: string; message?: unknown } & Record<string, unknown>
  const Cls = BY_CODE[code] ?? E.CausewayError
  const e = new Cls(typeof message === 'string' ? message : code, { ...details, status })
  if (e.code !== code) Object.defineProperty(e, 'code', { value: code, enumerable: true })
  return e
}
