// live.js: new events as they are appended, from one place so the
// transport is easy to switch. Prefers the server's SSE route
// GET /v1/live?after=<seq>&filter=<JSON {region}> (read through fetch, since
// EventSource cannot send an Authorization header); where the server has no
// such route (404 at the first try), polls POST /v1/query with `after` every
// second instead. `onEvent(event)` gets each event once, in order.
import { authHeaders, post } from './api.js'

const POLL_MS = 1000

/** Parses a text/event-stream body, calling onMessage({ id, event, data }) per message. */
export async function readSse(body, onMessage, signal) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader()
  let buf = ''
  let msg = { data: [] }
  while (!signal.aborted) {
    const { value, done } = await reader.read()
    if (done) return
    buf += value
    let nl
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '')
      buf = buf.slice(nl + 1)
      if (line === '') {
        if (msg.data.length) onMessage({ id: msg.id, event: msg.event ?? 'message', data: msg.data.join('\n') })
        msg = { data: [] }
      } else if (!line.startsWith(':')) {
        const i = line.indexOf(':')
        const field = i < 0 ? line : line.slice(0, i)
        const val = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '')
        if (field === 'data') msg.data.push(val)
        else if (field === 'id') msg.id = val
        else if (field === 'event') msg.event = val
      }
    }
  }
}

const sleep = (ms, signal) => new Promise((res) => {
  const t = setTimeout(res, ms)
  signal.addEventListener('abort', () => { clearTimeout(t); res() }, { once: true })
})

/**
 * Follows events after global sequence `after` (a decimal string, or null
 * for "from the first event") matching `region`. Returns { stop(), mode } where mode
 * resolves to 'sse' or 'polling'; onStatus(text) reports what it does.
 */
export function follow({ region, after, onEvent, onStatus = () => {} }) {
  const ctl = new AbortController()
  const signal = ctl.signal
  let cursor = after
  const deliver = (e) => {
    if (cursor !== null && cursor !== undefined && BigInt(e.globalSequence) <= BigInt(cursor)) return
    cursor = String(e.globalSequence)
    onEvent(e)
  }
  const mode = (async () => {
    const q = new URLSearchParams({ filter: JSON.stringify({ region }) })
    if (cursor !== null && cursor !== undefined) q.set('after', cursor)
    try {
      const r = await fetch(`/v1/live?${q}`, { headers: authHeaders({ accept: 'text/event-stream' }), signal })
      if (r.ok && (r.headers.get('content-type') ?? '').includes('text/event-stream') && r.body) {
        onStatus('live (server-sent events)')
        readSse(r.body, (m) => { if (m.event === 'event') deliver(JSON.parse(m.data)) }, signal)
          .catch(() => {})
          .finally(() => { if (!signal.aborted) { onStatus('stream ended; polling'); poll() } })
        return 'sse'
      }
      await r.body?.cancel()
    } catch {
      if (signal.aborted) return 'stopped'
    }
    poll()
    return 'polling'
  })()

  async function poll() {
    onStatus('live (polling every second)')
    while (!signal.aborted) {
      try {
        const body = { region, limit: 100 }
        if (cursor !== null && cursor !== undefined) body.after = cursor
        const page = await post('/v1/query', body, { signal })
        for (const e of page.events) deliver(e)
        if (page.next !== null) continue
      } catch (e) {
        if (signal.aborted) return
        onStatus(`polling: ${e.code ?? ''} ${e.message}`)
      }
      await sleep(POLL_MS, signal)
    }
  }

  return { stop: () => ctl.abort(), mode }
}
