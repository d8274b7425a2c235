// The load generator for HTTP/1.1 with BENCH_LOADGEN=autocannon: the same
// case as load.mjs (`clients` keep-alive connections, each sending its next
// request when the previous answer arrives, its bodies from makeBody(client,
// i)), driven by autocannon, which spends a fraction of node:http's client
// CPU per request: on 2 cores the generator shares the machine with the
// server, so a cheaper one leaves the server more of it. Same result shape
// as runLoad. autocannon speaks HTTP/1.1 only.
import autocannon from 'autocannon'

export async function runAutocannon({ url, clients, seconds, maxRequests, token, path, makeBody, eventsPerRequest }) {
  let nextClient = 0
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const r = await autocannon({
    url: new URL(path, url).href,
    connections: clients,
    // autocannon stops at `amount` and ignores `duration` when given both: the time bound only, unless asked.
    ...(maxRequests < 1_000_000 ? { amount: maxRequests } : { duration: seconds }),
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    // Each connection is one client with its own numbering, as in load.mjs.
    // (A setupRequest context would not do: autocannon resets it after every
    // pass over its request list, so with one request each request would be
    // a new client and every event would go to a new entity.)
    setupClient: (client) => {
      const c = nextClient++
      let i = 0
      client.setBody(makeBody(c, i))
      client.on('response', () => client.setBody(makeBody(c, ++i)))
    },
  })
  const secs = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const done = r.requests.total
  const errors = r.errors + r.timeouts + r.non2xx
  return {
    requests: done,
    appendsPerSec: ((done - errors) * eventsPerRequest) / secs,
    requestsPerSec: done / secs,
    // autocannon's latencies are whole milliseconds: under 1 ms reads 0.
    p50ms: r.latency.p50,
    p99ms: r.latency.p99,
    clientCpuUsPerRequest: (cpu.user + cpu.system) / Math.max(1, done),
    errors,
    firstError: errors > 0 ? `${r.non2xx} non-2xx answers, ${r.errors} errors, ${r.timeouts} timeouts` : undefined,
  }
}
