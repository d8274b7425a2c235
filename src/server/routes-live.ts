/**
 * GET /v1/live: live delivery over Server-Sent Events.
 *
 *   ?mode=cursor|subscription (default cursor)
 *   &after=<global sequence>  events after it (cursor; absent: from the first event,
 *                             as Store.cursor; a subscription starts now)
 *   &filter=<JSON { region } | { query }> (absent: every event)
 *   Last-Event-ID overrides `after` (resume after a reconnect).
 *
 * Each event: `id: <globalSequence>`, `event: event`, `data: <event JSON>`;
 * a subscription that fell behind gets `event: lag` with `{ "missed": n }`;
 * `: ping` comments every heartbeatMs. The stream writes only while the
 * socket takes it ('drain'), ends when the client goes, and close() ends it.
 */
import type { FastifyRequest } from 'fastify'
import { InvalidArgumentError } from '../errors.js'
import { Region } from '../region.js'
import type { Query } from '../query/query.js'
import { toJson } from './body.js'
import { startLive, type LiveMode } from './live.js'
import { sseEvent } from './sse-text.js'
import type { RouteTable } from './routes.js'
import { checkSelectionScope } from './routes-write.js'
import { object, onlyKeys, selection, sequence } from './wire.js'

export interface LiveRequest {
  mode: LiveMode
  sel: Region | Query
  /** The first sequence to deliver (cursor); undefined: from the first. */
  from: bigint | undefined
}

export function liveMode(v: unknown): LiveMode {
  if (v === undefined || v === 'cursor') return 'cursor'
  if (v === 'subscription') return 'subscription'
  throw new InvalidArgumentError(`mode must be cursor or subscription, got ${JSON.stringify(String(v))}`)
}

/** `{ region } | { query }` (absent: every event). */
export function liveSelection(o: Record<string, unknown> | undefined): Region | Query {
  if (o === undefined || (o.region === undefined && o.query === undefined)) return Region.all()
  return selection(o, 'filter')
}

function parseFilter(v: unknown): Region | Query {
  if (v === undefined) return Region.all()
  if (typeof v !== 'string') throw new InvalidArgumentError('filter must be one JSON value')
  let parsed: unknown
  try {
    parsed = JSON.parse(v)
  } catch {
    throw new InvalidArgumentError('filter must be JSON: { "region": {...} } or { "query": {...} }')
  }
  const o = object(parsed, 'filter')
  onlyKeys(o, ['region', 'query'], 'filter')
  return liveSelection(o)
}

function liveRequest(req: FastifyRequest): LiveRequest {
  const q = req.query as Record<string, unknown>
  onlyKeys(q, ['mode', 'after', 'filter'], 'live')
  const mode = liveMode(q.mode)
  const sel = parseFilter(q.filter)
  const last = req.headers['last-event-id']
  const after = typeof last === 'string' && last !== '' ? sequence(last, 'Last-Event-ID') : q.after === undefined ? undefined : sequence(q.after, 'after')
  return { mode, sel, from: after === undefined ? undefined : after + 1n }
}

export function liveRoutes(t: RouteTable): void {
  const { store } = t.ctx
  t.add('GET', '/v1/live', 'read', async (req, reply) => {
    const r = liveRequest(req)
    checkSelectionScope(req, r.sel, 'the live filter')
    const res = reply.raw
    reply.hijack()
    const headers: Record<string, string> = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' }
    // HTTP/1.1: the connection ends with the stream, so close() never waits on a kept-alive one.
    if (req.raw.httpVersionMajor === 1) headers.connection = 'close'
    res.writeHead(200, headers)
    let gone = false
    const write = async (text: string): Promise<void> => {
      if (gone || res.write(text)) return
      // The client reads slower than we write: wait for it (or for it to go).
      await new Promise<void>((resolve) => {
        const done = (): void => {
          res.off('drain', done)
          res.off('close', done)
          resolve()
        }
        res.on('drain', done)
        res.on('close', done)
      })
    }
    const live = startLive(store, r.sel, r.mode, r.from ?? 0n, {
      event: (e) => write(sseEvent(store, e)),
      // A batch read at once goes out in one write: 100 subscribers do not make 100 writes per event each.
      events: (es) => write(es.map((e) => sseEvent(store, e)).join('')),
      lag: (missed) => write(`event: lag\ndata: ${JSON.stringify({ missed })}\n\n`),
    })
    const ping = setInterval(() => void write(': ping\n\n'), t.ctx.heartbeatMs)
    const end = (): void => {
      if (gone) return
      gone = true
      clearInterval(ping)
      live.stop()
      t.ctx.live.delete(end)
      if (!res.writableEnded) res.end()
      // HTTP/1.1 (connection: close): the socket is this stream's alone, and a
      // client that stopped reading would otherwise hold it (and close()) open.
      if (req.raw.httpVersionMajor === 1) req.raw.socket.destroy()
    }
    t.ctx.live.add(end)
    res.on('close', end)
    await write(': live\n\n')
    live.done.then(end, (e: unknown) => {
      // A store error ends the stream with it, as an SSE event the client can read.
      if (!gone) res.write(`event: error\ndata: ${toJson({ error: { code: (e as { code?: string }).code ?? 'E_CAUSEWAY', message: String((e as Error).message) } })}\n\n`)
      end()
    })
  }, {
    tag: 'live',
    summary: 'Server-Sent Events: a cursor (at-least-once, resumable with Last-Event-ID) or a subscription (lag signalled)',
    query: { mode: 'cursor | subscription (default cursor)', after: 'start after this global sequence (cursor)', filter: 'URL-encoded JSON { region } or { query }' },
  })
}
