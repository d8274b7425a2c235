// Child process (BENCH_FLOOR=1): the HTTP floor. The baseline's fastify
// app, auth hook and routes with no storage behind them: each append is
// answered with a fixed receipt-sized object. What this costs per request
// is what any fastify service pays before it stores anything.
import { createHash, timingSafeEqual } from 'node:crypto'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const fastify = require('fastify')
const { token, tls } = JSON.parse(process.env.BENCH_SERVER_CONFIG)

const receipt = { eventId: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', globalSequence: '1', clock: 1, durable: false, deduplicated: false }
const want = createHash('sha256').update(`Bearer ${token}`).digest()
function auth(req, reply, done) {
  const got = createHash('sha256').update(String(req.headers.authorization ?? '')).digest()
  if (!timingSafeEqual(got, want)) return reply.code(401).send({ error: { code: 'E_UNAUTHORIZED', message: 'bad token' } })
  done()
}
function app(opts) {
  const a = fastify({ logger: false, bodyLimit: 4 * 1024 * 1024, ...opts })
  a.addHook('onRequest', auth)
  a.post('/v1/append', async () => receipt)
  a.post('/v1/batch', async (req) => ({ receipts: req.body.items.map(() => receipt) }))
  return a
}
const h1 = app({})
const h2 = app({ http2: true, https: { ...tls, allowHTTP1: true } })
await h1.listen({ host: '127.0.0.1', port: 0 })
await h2.listen({ host: '127.0.0.1', port: 0 })
process.send({ h1: `http://127.0.0.1:${h1.server.address().port}`, h2: `https://127.0.0.1:${h2.server.address().port}` })
process.on('message', async (m) => {
  if (m === 'cpu') return process.send({ cpu: process.cpuUsage() })
  if (m !== 'stop') return
  await h1.close()
  await h2.close()
  process.exit(0)
})
