/**
 * Live delivery over Server-Sent Events, read with fetch streaming (Node 20
 * and browsers alike), as an async iterator. A dropped connection is
 * reopened with backoff; a cursor resumes with Last-Event-ID, so nothing
 * is skipped (at-least-once); a subscription starts again from "now".
 * `break` / `return()` aborts the request and ends the stream.
 */
import { ServiceUnavailableError, SubscriptionLaggedError } from '../errors.js'
import { event } from './decode.js'
import { errorFromWire } from './errors.js'
import { backoff, headers, sleep, type Transport } from './http.js'
import type { LiveOptions, Selection, StoredEvent } from './types.js'

interface Frame {
  id?: string
  event?: string
  data: string
}

/** Splits an SSE byte stream into frames (comments dropped). */
async function* frames(body: ReadableStream<Uint8Array>): AsyncGenerator<Frame> {
  const reader = body.getReader()
  const dec = new TextDecoder()
  let buf = ''
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      buf += dec.decode(value, { stream: true }).replace(/\r\n?/g, '\n')
      let i: number
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i)
        buf = buf.slice(i + 2)
        const f: Frame = { data: '' }
        let data: string[] = []
        for (const line of block.split('\n')) {
          if (line === '' || line.startsWith(':')) continue
          const c = line.indexOf(':')
          const field = c < 0 ? line : line.slice(0, c)
          const value = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '')
          if (field === 'data') data.push(value)
          else if (field === 'id') f.id = value
          else if (field === 'event') f.event = value
        }
        if (data.length === 0) continue
        f.data = data.join('\n')
        data = []
        yield f
      }
    }
  } finally {
    reader.releaseLock()
  }
}

export function liveUrl(mode: 'cursor' | 'subscription', sel: Selection | undefined, after: bigint | undefined): string {
  const q = new URLSearchParams({ mode })
  if (sel !== undefined) q.set('filter', JSON.stringify(sel))
  if (after !== undefined) q.set('after', after.toString())
  return `/v1/live?${q.toString()}`
}

/**
 * The events of a live stream. Reconnects up to `t.retries` times in a row
 * (the count resets once a connection delivers), then throws ServiceUnavailableError.
 */
export async function* live<P>(t: Transport, mode: 'cursor' | 'subscription', sel: Selection | undefined, o: LiveOptions = {}): AsyncGenerator<StoredEvent<P>> {
  let lastId: string | undefined
  let failures = 0
  const ac = new AbortController()
  try {
    for (;;) {
      let res: Response
      try {
        res = await t.fetch(t.base + liveUrl(mode, sel, mode === 'cursor' ? o.after : undefined), {
          headers: headers(t, { accept: 'text/event-stream', ...(lastId !== undefined && mode === 'cursor' ? { 'last-event-id': lastId } : {}) }),
          signal: ac.signal,
        })
      } catch (e) {
        if (++failures > t.retries) throw new ServiceUnavailableError(`the live stream cannot be reached (${(e as Error).message})`, { cause: e })
        await sleep(backoff(t, failures - 1))
        continue
      }
      if (!res.ok || res.body === null) {
        const body = await res.json().catch(() => null)
        const err = errorFromWire(body, res.status)
        if (res.status !== 503 || ++failures > t.retries) throw err
        await sleep(backoff(t, failures - 1))
        continue
      }
      failures = 0
      try {
        for await (const f of frames(res.body)) {
          if (f.event === 'lag') {
            const { missed } = JSON.parse(f.data) as { missed: number }
            if (o.onLag) o.onLag(missed)
            else throw new SubscriptionLaggedError(`the subscriber fell behind and missed ${missed} events`, { missed })
          } else if (f.event === 'error') {
            throw errorFromWire(JSON.parse(f.data), 500)
          } else if (f.event === 'event' || f.event === undefined) {
            if (f.id !== undefined) lastId = f.id
            yield event<P>(JSON.parse(f.data) as Record<string, unknown>)
          }
        }
      } catch (e) {
        if ((e as { code?: string }).code !== undefined && (e as { code: string }).code.startsWith('E_')) throw e
        // The connection dropped mid-stream: reconnect below.
      }
      if (++failures > t.retries) throw new ServiceUnavailableError('the live stream keeps ending; giving up')
      await sleep(backoff(t, failures - 1))
    }
  } finally {
    ac.abort()
  }
}
