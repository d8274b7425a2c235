/**
 * One request to the service: JSON in and out, the bearer token, a
 * timeout, and bounded exponential backoff for idempotent requests only
 * (GETs, appends carrying an idempotency key). A network failure is
 * ServiceUnavailableError; a `{ error }` answer is the library's error class.
 */
import { CausewayError, InvalidArgumentError, ServiceUnavailableError } from '../errors.js'
import { toJson } from './decode.js'
import { errorFromWire } from './errors.js'
import type { ClientOptions } from './types.js'

export interface Transport {
  readonly base: string
  readonly token: string | undefined
  readonly fetch: typeof fetch
  readonly retries: number
  readonly timeoutMs: number
  readonly backoffMs: number
}

export function transport(url: string, o: ClientOptions = {}): Transport {
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new InvalidArgumentError('connect expects an http:// or https:// URL')
  const f = o.fetch ?? globalThis.fetch
  if (typeof f !== 'function') throw new InvalidArgumentError('no fetch: pass options.fetch')
  const retries = o.retries ?? 3
  if (!Number.isInteger(retries) || retries < 0 || retries > 20) throw new InvalidArgumentError('retries must be an integer 0..20')
  return {
    base: url.replace(/\/+$/, ''),
    token: o.token,
    fetch: f.bind(globalThis),
    retries,
    timeoutMs: o.timeoutMs ?? 10_000,
    backoffMs: o.backoffMs ?? 100,
  }
}

export function headers(t: Transport, extra: Record<string, string> = {}): Record<string, string> {
  return { accept: 'application/json', ...(t.token !== undefined ? { authorization: `Bearer ${t.token}` } : {}), ...extra }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export function backoff(t: Transport, attempt: number): number {
  return Math.min(2000, t.backoffMs * 2 ** attempt)
}

/** Whether a failure may be retried: the network, or the server saying it is (re)starting or closing. */
function transient(e: unknown): boolean {
  if (e instanceof ServiceUnavailableError) return true
  const code = (e as CausewayError).code
  return code === 'E_STORE_CLOSED' || code === 'E_WRITER_UNAVAILABLE'
}

async function once(t: Transport, method: string, path: string, body: unknown): Promise<Response> {
  try {
    return await t.fetch(t.base + path, {
      method,
      headers: headers(t, body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(body !== undefined ? { body: toJson(body) } : {}),
      signal: AbortSignal.timeout(t.timeoutMs),
    })
  } catch (e) {
    throw new ServiceUnavailableError(`${method} ${path}: the service cannot be reached (${(e as Error).message})`, { cause: e })
  }
}

/** Sends the request; `idempotent` allows retries. Resolves with the decoded JSON body of a 2xx answer. */
export async function request(t: Transport, method: string, path: string, body: unknown, idempotent: boolean): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await once(t, method, path, body)
      let parsed: unknown
      try {
        parsed = await res.json()
      } catch (e) {
        throw new ServiceUnavailableError(`${method} ${path}: the answer (HTTP ${res.status}) is not JSON`, { cause: e, status: res.status })
      }
      if (!res.ok) throw errorFromWire(parsed, res.status)
      return parsed
    } catch (e) {
      if (!idempotent || attempt >= t.retries || !transient(e)) throw e
      await sleep(backoff(t, attempt))
    }
  }
}
