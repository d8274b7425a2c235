// SSE fan-out: `subscribers` Server-Sent-Events readers on GET /v1/live
// (mode=subscription: events from now on) over HTTP/1.1, one socket each,
// while one client appends `events` events through POST /v1/append at
// about `rate` a second. Every payload carries the parent's
// performance.now() at send time, so each delivery's latency (append sent
// to event parsed by that subscriber) goes into one hdr histogram.
// Reports deliveries/s, p50/p99 latency and how many deliveries never came.
import * as http from 'node:http'
import hdr from 'hdr-histogram-js'

function subscribe(url, token, onEvent) {
  return new Promise((resolve, reject) => {
    const u = new URL('/v1/live?mode=subscription', url)
    const req = http.get(u, { agent: false, headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`subscribe: HTTP ${res.statusCode}`))
      let buf = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => {
        buf += chunk
        for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
          const msg = buf.slice(0, end)
          buf = buf.slice(end + 2)
          const data = msg.split('\n').find((l) => l.startsWith('data:'))
          if (data && /^event: ?event$/m.test(msg)) onEvent(JSON.parse(data.slice(5)))
        }
      })
      res.on('error', () => {})
      resolve(() => req.destroy())
    })
    req.setTimeout(60_000, () => req.destroy(new Error('subscriber timed out')))
    req.on('error', (e) => (e.message === 'socket hang up' ? undefined : reject(e)))
  })
}

function post(url, token, body) {
  return new Promise((resolve, reject) => {
    const u = new URL('/v1/append', url)
    const req = http.request(u, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume()
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`append: HTTP ${res.statusCode}`))))
    })
    req.setTimeout(10_000, () => req.destroy(new Error('append timed out')))
    req.on('error', reject)
    req.end(body)
  })
}

export async function runFanout({ url, token, subscribers, events, rate }) {
  const hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
  let delivered = 0
  let lastAt = 0
  const onEvent = (e) => {
    const t = e.payload?.sentAt
    if (typeof t !== 'number') return
    const now = performance.now()
    hist.recordValue(Math.max(1, Math.round((now - t) * 1000)))
    delivered++
    lastAt = now
  }
  const closers = []
  for (let i = 0; i < subscribers; i++) closers.push(await subscribe(url, token, onEvent))
  await new Promise((r) => setTimeout(r, 200)) // every stream registered its subscription
  const t0 = performance.now()
  for (let i = 0; i < events; i++) {
    const due = t0 + (i * 1000) / rate
    const wait = due - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    await post(url, token, JSON.stringify({ entity: `fan:${i % 100}`, scope: 'shop', type: 'order.placed', payload: { sentAt: performance.now(), i } }))
  }
  const want = subscribers * events
  for (const stop = performance.now() + 10_000; delivered < want && performance.now() < stop; ) await new Promise((r) => setTimeout(r, 20))
  for (const close of closers) close()
  const out = {
    subscribers,
    events,
    deliveredPerSec: delivered / ((lastAt - t0) / 1000),
    missed: want - delivered,
    p50ms: hist.getValueAtPercentile(50) / 1000,
    p99ms: hist.getValueAtPercentile(99) / 1000,
  }
  hist.destroy()
  return out
}
