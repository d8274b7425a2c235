/**
 * Every error the service answers is `{ error: { code, message, ...details } }`
 * with the library's stable codes, so a client branches on `code` exactly
 * as an embedded caller does on `err.code`. The HTTP status follows the
 * code; errors fastify raises itself (malformed JSON, a body over the
 * limit, an unsupported media type) are given the nearest library code.
 */
import { isCausewayError, type ErrorCode } from '../errors.js'

const STATUS: Partial<Record<ErrorCode, number>> = {
  E_INVALID_ARGUMENT: 400,
  E_INVALID_COORDINATE: 400,
  E_INVALID_KIND: 400,
  E_INVALID_PAYLOAD: 400,
  E_INVALID_TYPE_NAME: 400,
  E_INVALID_TAG: 400,
  E_INVALID_QUERY: 400,
  E_INVALID_SCHEMA: 400,
  E_UNKNOWN_TYPE: 400,
  E_UNAUTHORIZED: 401,
  E_FORBIDDEN: 403,
  E_GATE_DENIED: 403,
  E_NOT_FOUND: 404,
  E_SEQUENCE_MISMATCH: 409,
  E_APPEND_CONDITION: 409,
  E_TYPE_CONFLICT: 409,
  E_CLOCK_OVERFLOW: 409,
  E_PAYLOAD_TOO_LARGE: 413,
  E_RATE_LIMITED: 429,
  E_NAME_TABLE_FULL: 507,
  E_STORE_CLOSED: 503,
  E_WRITER_UNAVAILABLE: 503,
  E_STORE_LOCKED: 503,
  E_NOT_REPLICATING: 503,
  E_REPLICA_READ_ONLY: 409,
  E_FENCED: 409,
}

/** Details a client may act on (which entity, which clock, which conflicting event); nothing else of an error leaves the server. */
const DETAIL_KEYS = ['entity', 'expected', 'actual', 'conflictSequence', 'type', 'path', 'reason', 'retryAfterMs'] as const

export interface WireError {
  status: number
  body: { error: Record<string, unknown> & { code: string; message: string } }
}

/** The status and body for anything a handler or fastify threw. */
export function toWireError(e: unknown): WireError {
  if (isCausewayError(e)) {
    const error: WireError['body']['error'] = { code: e.code, message: e.message }
    for (const k of DETAIL_KEYS) {
      const v = (e as unknown as Record<string, unknown>)[k]
      if (v !== undefined) error[k] = typeof v === 'bigint' ? v.toString() : v
    }
    return { status: STATUS[e.code] ?? 500, body: { error } }
  }
  const fst = e as { statusCode?: unknown; code?: unknown; message?: unknown }
  const status = typeof fst.statusCode === 'number' ? fst.statusCode : 500
  if (status === 413) return wire(413, 'E_PAYLOAD_TOO_LARGE', 'the request body is larger than the server accepts (bodyLimit)')
  if (status === 415) return wire(415, 'E_INVALID_ARGUMENT', 'unsupported Content-Type: send application/json or application/msgpack')
  if (status === 503) return wire(503, 'E_STORE_CLOSED', 'the server is closing')
  if (status >= 400 && status < 500) {
    // Fastify's own client errors (malformed JSON, an empty JSON body, a
    // bad header): their messages name the problem and no internals.
    return wire(status === 408 ? 408 : 400, 'E_INVALID_ARGUMENT', typeof fst.message === 'string' ? fst.message : 'bad request')
  }
  // Anything else is a bug or an environment failure: its message may
  // hold paths or internals, so the client gets a generic one.
  return wire(500, 'E_CAUSEWAY', 'internal server error')
}

export function wire(status: number, code: ErrorCode, message: string): WireError {
  return { status, body: { error: { code, message } } }
}

/**
 * Errors Node raises before fastify sees a request (a request timeout, a
 * header too large, unparsable HTTP) answered in the same { error } shape,
 * then the connection closed.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: import('node:stream').Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const [status, reason, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'the request was not received in full within the server\'s requestTimeout']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'the request headers are larger than the server accepts']
        : [400, 'Bad Request', 'the request is not valid HTTP']
  const body = JSON.stringify(wire(status, 'E_INVALID_ARGUMENT', message).body)
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\n\r\n${body}`)
  socket.destroy()
}
