/**
 * Request and response bodies: JSON (bigints as decimal strings, bytes as
 * { $base64 }) or MessagePack (`application/msgpack`; bigints as 64-bit
 * integers, bytes and dates as themselves). The request's Content-Type
 * picks the decoder; its Accept header picks the encoder.
 */
import { Packr, Unpackr } from 'msgpackr'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { InvalidArgumentError } from '../errors.js'

export const MSGPACK = 'application/msgpack'

// Plain MessagePack both ways (no record extension), so any msgpack
// library on the other side can read and write it. int64 decodes to bigint.
const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' })

/** Registers the MessagePack body parser beside fastify's JSON one. */
export function addMsgpackParser(app: FastifyInstance): void {
  app.addContentTypeParser(MSGPACK, { parseAs: 'buffer' }, (_req: FastifyRequest, body: Buffer | string, done: (err: Error | null, body?: unknown) => void) => {
    try {
      done(null, unpackr.unpack(body as Buffer))
    } catch (e) {
      done(new InvalidArgumentError(`the MessagePack body cannot be decoded: ${(e as Error).message}`))
    }
  })
}

/**
 * JSON.stringify's replacer sees values after their toJSON, so a Buffer
 * would arrive as { type, data }: `this[key]` is the value before it.
 */
function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key]
  // { $base64 }, as the CLI's export writes bytes: a string would read back as a string.
  if (raw instanceof Uint8Array) return { $base64: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') }
  if (typeof value === 'bigint') return value.toString()
  return value
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, replacer)
}

export function wantsMsgpack(req: FastifyRequest): boolean {
  const accept = req.headers.accept
  return typeof accept === 'string' && accept.includes(MSGPACK)
}

/**
 * Sends a value whose JSON text (or its UTF-8 bytes) the caller writes
 * itself (`json`, equal to toJson(value())); MessagePack still encodes
 * `value()`. Each is built only when the request asks for that encoding.
 */
export function sendPrebuilt(req: FastifyRequest, reply: FastifyReply, status: number, value: () => unknown, json: () => string | Buffer): FastifyReply {
  reply.code(status)
  if (wantsMsgpack(req)) return reply.type(MSGPACK).send(packr.pack(value()))
  return reply.type('application/json; charset=utf-8').send(json())
}

/** Sends `value` in the encoding the request asked for. */
export function send(req: FastifyRequest, reply: FastifyReply, status: number, value: unknown): FastifyReply {
  reply.code(status)
  if (wantsMsgpack(req)) return reply.type(MSGPACK).send(packr.pack(value))
  return reply.type('application/json; charset=utf-8').send(toJson(value))
}
