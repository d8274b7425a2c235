/**
 * serve()'s options, checked before anything listens. The rule that
 * matters most: a server without authentication is only ever reachable
 * from this machine (insecureLocal on a loopback address); anything else
 * needs tokens, or serve() refuses to start.
 */
import * as net from 'node:net'
import { InvalidArgumentError } from '../errors.js'
import { checkOptions, optionKeys } from '../strict.js'
import type { Projection } from '../projection/types.js'
import { checkRateLimit, loadTokens, type TokenEntry, type TokenRateLimit } from './tokens.js'

export interface ServeOptions {
  /** The address to listen on. @defaultValue '127.0.0.1' */
  host?: string
  /** The port; 0 picks a free one (read it from the returned url). @defaultValue 0 */
  port?: number
  /** HTTPS: the certificate chain and private key, PEM text or bytes. */
  tls?: { cert: string | Buffer; key: string | Buffer }
  /** HTTP/2 over TLS (HTTP/1.1 clients are still served on the same port); needs `tls`. @defaultValue false */
  http2?: boolean
  /** A tokens file path (JSON lines or a JSON array), or the entries themselves. */
  tokens?: string | readonly TokenEntry[]
  /** No authentication at all: allowed only when `host` is a loopback address. @defaultValue false */
  insecureLocal?: boolean
  /** The largest request body accepted, in bytes; larger is 413 E_PAYLOAD_TOO_LARGE. @defaultValue 1 MiB */
  bodyLimit?: number
  /** A request not completed within this many milliseconds is answered 408 and its connection closed. @defaultValue 30000 */
  requestTimeoutMs?: number
  /** Where admin snapshots go: a snapshot's `dest` must resolve inside it. Without it, snapshots are refused. */
  backupDir?: string
  /**
   * Requests per token (unauthenticated ones per client address) in a
   * fixed window; over it: 429 E_RATE_LIMITED with Retry-After. A token
   * entry's own `rateLimit` overrides it. false: no limit.
   * @defaultValue { max: 60000, timeWindowMs: 60000 } (1000 requests per second on average)
   */
  rateLimit?: { max: number; timeWindowMs: number } | false
  /** Cross-origin requests from these exact origins (e.g. 'https://app.example.com'). @defaultValue off: no CORS headers at all */
  cors?: { origins: string[] }
  /** Projections served by name at GET /v1/projections/:name/:entity. */
  projections?: Record<string, Projection<any, any>>
  /** Live streams (SSE) send a `: ping` comment this often, in milliseconds. @defaultValue 15000 */
  heartbeatMs?: number
}

/** The rate limit when the options name none. */
export const DEFAULT_RATE_LIMIT: TokenRateLimit = Object.freeze({ max: 60_000, timeWindowMs: 60_000 })

export const SERVE_OPTION_KEYS = optionKeys<ServeOptions>()(['host', 'port', 'tls', 'http2', 'tokens', 'insecureLocal', 'bodyLimit', 'requestTimeoutMs', 'backupDir', 'rateLimit', 'cors', 'projections', 'heartbeatMs'])

export interface CheckedServeOptions {
  host: string
  port: number
  tls: { cert: string | Buffer; key: string | Buffer } | undefined
  http2: boolean
  /** undefined: insecureLocal (no authentication). */
  tokens: TokenEntry[] | undefined
  bodyLimit: number
  requestTimeoutMs: number
  backupDir: string | undefined
  /** false: no limit. */
  rateLimit: TokenRateLimit | false
  /** undefined: CORS off. */
  corsOrigins: string[] | undefined
  projections: ReadonlyMap<string, Projection<unknown, never>>
  heartbeatMs: number
}

/** 127.0.0.0/8, ::1, their IPv4-mapped form, and 'localhost'. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  if (net.isIPv4(h)) return h.startsWith('127.')
  if (net.isIPv6(h)) {
    const lower = h.toLowerCase()
    return lower === '::1' || lower === '0:0:0:0:0:0:0:1' || (lower.startsWith('::ffff:') && isLoopback(lower.slice(7)))
  }
  return false
}

function positiveInt(v: unknown, what: string, fallback: number): number {
  if (v === undefined) return fallback
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new InvalidArgumentError(`${what} must be a positive integer, got ${String(v)}`)
  return v
}

/** Exact origins: scheme://host[:port], no path, no wildcard. */
function checkOrigins(cors: unknown): string[] | undefined {
  if (cors === undefined) return undefined
  const origins = (cors as { origins?: unknown } | null)?.origins
  if (typeof cors !== 'object' || cors === null || !Array.isArray(origins) || origins.length === 0) throw new InvalidArgumentError('cors must be { origins: [exact origins] }')
  checkOptions('cors', cors as Record<string, unknown>, ['origins'])
  for (const o of origins) {
    let ok = false
    try {
      ok = typeof o === 'string' && /^https?:$/.test(new URL(o).protocol) && new URL(o).origin === o
    } catch {
      ok = false
    }
    if (!ok) throw new InvalidArgumentError(`cors origin ${JSON.stringify(o)} is not an exact origin such as https://app.example.com (no wildcard, path or trailing slash)`)
  }
  return [...new Set(origins as string[])]
}

function checkProjections(v: unknown): Map<string, Projection<unknown, never>> {
  const out = new Map<string, Projection<unknown, never>>()
  if (v === undefined) return out
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidArgumentError('projections must be an object of name -> projection')
  for (const [name, p] of Object.entries(v)) {
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(name)) throw new InvalidArgumentError(`projection name ${JSON.stringify(name)} must be 1..128 of A-Z a-z 0-9 . _ -`)
    const q = p as Partial<Projection<unknown, never>> | null
    if (typeof q !== 'object' || q === null || typeof q.init !== 'function' || typeof q.apply !== 'function') {
      throw new InvalidArgumentError(`projection ${name} must be a projection { name, version, init, apply }`)
    }
    out.set(name, q as Projection<unknown, never>)
  }
  return out
}

export function checkServeOptions(options: ServeOptions): CheckedServeOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('serve expects an options object')
  checkOptions('serve', options, SERVE_OPTION_KEYS)
  const host = options.host ?? '127.0.0.1'
  if (typeof host !== 'string' || host.length === 0) throw new InvalidArgumentError('host must be a non-empty string')
  const port = options.port ?? 0
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError(`port must be an integer 0..65535, got ${String(port)}`)
  const insecure = options.insecureLocal ?? false
  if (typeof insecure !== 'boolean') throw new InvalidArgumentError('insecureLocal must be a boolean')
  if (insecure && !isLoopback(host)) {
    throw new InvalidArgumentError(`insecureLocal serves without authentication, so only on a loopback address; host ${host} is not one (give tokens instead)`)
  }
  if (insecure && options.tokens !== undefined) throw new InvalidArgumentError('give tokens or insecureLocal, not both')
  if (!insecure && options.tokens === undefined) {
    throw new InvalidArgumentError('serve needs tokens (a tokens file or entries): no route is served without authentication unless insecureLocal on a loopback address')
  }
  const tokens = options.tokens === undefined ? undefined : loadTokens(options.tokens)
  const tls = options.tls
  if (tls !== undefined && (typeof tls !== 'object' || tls === null || !tls.cert || !tls.key)) throw new InvalidArgumentError('tls must be { cert, key } (PEM text or bytes)')
  const http2 = options.http2 ?? false
  if (typeof http2 !== 'boolean') throw new InvalidArgumentError('http2 must be a boolean')
  // No cleartext HTTP/2 (h2c): browsers do not speak it, and the service's tokens must not cross a network in clear.
  if (http2 && tls === undefined) throw new InvalidArgumentError('http2 needs tls: HTTP/2 is served over TLS only')
  const backupDir = options.backupDir
  if (backupDir !== undefined && (typeof backupDir !== 'string' || backupDir.length === 0)) throw new InvalidArgumentError('backupDir must be a directory path')
  return {
    host,
    port,
    tls,
    http2,
    tokens,
    bodyLimit: positiveInt(options.bodyLimit, 'bodyLimit', 1 << 20),
    requestTimeoutMs: positiveInt(options.requestTimeoutMs, 'requestTimeoutMs', 30_000),
    backupDir,
    rateLimit: options.rateLimit === false ? false : options.rateLimit === undefined ? DEFAULT_RATE_LIMIT : checkRateLimit(options.rateLimit, 'rateLimit'),
    corsOrigins: checkOrigins(options.cors),
    projections: checkProjections(options.projections),
    heartbeatMs: positiveInt(options.heartbeatMs, 'heartbeatMs', 15_000),
  }
}
