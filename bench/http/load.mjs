// The load generator: `clients` concurrent clients, each sending its next
// request as soon as the previous answer arrives, for `seconds` or until
// `maxRequests` have been sent, whichever comes first. HTTP/1.1 over a
// keep-alive Agent (one socket per client) or HTTP/2 (one session per
// client, TLS with the bench's self-signed certificate). Latencies (µs)
// go into an hdr histogram; the client's own CPU per request is reported too.
import * as http from 'node:http'
import * as http2 from 'node:http2'
import hdr from 'hdr-histogram-js'

function h1Sender(url, clients) {
  const u = new URL(url)
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients })
  const send = (path, headers, body) =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: u.hostname, port: u.port, method: 'POST', path, agent, headers: { ...headers, 'content-length': body.length } }, (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }))
        res.on('error', reject)
      })
      req.setTimeout(10_000, () => req.destroy(new Error('request timed out')))
      req.on('error', reject)
      req.end(body)
    })
  return { senders: Array.from({ length: clients }, () => send), close: () => agent.destroy() }
}

function h2Sender(url, clients, ca) {
  const sessions = Array.from({ length: clients }, () => http2.connect(url, { ca }))
  const sender = (session) => (path, headers, body) =>
    new Promise((resolve, reject) => {
      const s = session.request({ ':method': 'POST', ':path': path, ...headers, 'content-length': body.length })
      let status = 0
      const chunks = []
      s.setTimeout(10_000, () => s.close(http2.constants.NGHTTP2_CANCEL))
      s.on('response', (h) => (status = h[':status']))
      s.on('data', (c) => chunks.push(c))
      s.on('end', () => resolve({ status, body: Buffer.concat(chunks) }))
      s.on('error', reject)
      s.end(body)
    })
  return { senders: sessions.map(sender), close: () => sessions.forEach((s) => s.close()) }
}

/**
 * Runs one case. `makeBody(client, i)` gives the i-th body of a client;
 * `eventsPerRequest` converts requests to appends. Returns appends/s,
 * requests/s, p50/p99 latency (ms) and the error count.
 */
export async function runLoad({ url, protocol, clients, seconds, maxRequests, token, ca, path, makeBody, eventsPerRequest }) {
  const { senders, close } = protocol === 'h2' ? h2Sender(url, clients, ca) : h1Sender(url, clients)
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  const hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
  let sent = 0
  let done = 0
  let errors = 0
  let firstError
  const deadline = performance.now() + seconds * 1000
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  await Promise.all(
    senders.map(async (send, c) => {
      for (let i = 0; sent < maxRequests && performance.now() < deadline; i++) {
        sent++
        const body = Buffer.from(makeBody(c, i))
        const t = performance.now()
        try {
          const r = await send(path, headers, body)
          if (r.status !== 200) {
            errors++
            firstError ??= `${r.status} ${r.body.toString().slice(0, 200)}`
          }
        } catch (e) {
          errors++
          firstError ??= e.message
        }
        hist.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)))
        done++
      }
    }),
  )
  const secs = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  close()
  const out = {
    requests: done,
    appendsPerSec: ((done - errors) * eventsPerRequest) / secs,
    requestsPerSec: done / secs,
    p50ms: hist.getValueAtPercentile(50) / 1000,
    p99ms: hist.getValueAtPercentile(99) / 1000,
    // The load generator's own CPU per request: when it nears 1e6 / requestsPerSec, the client is the limit.
    clientCpuUsPerRequest: (cpu.user + cpu.system) / Math.max(1, done),
    errors,
    firstError,
  }
  hist.destroy()
  return out
}
