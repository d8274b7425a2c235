// Child process: causeway's own service (causeway/server) on a fresh store
// in a temp dir, twice on the same store: plain HTTP/1.1 and HTTP/2 over
// TLS. Default append durability (see bench/RESULTS.md "Service over
// HTTP"). Tells the parent its URLs over IPC; on 'stop' closes and exits.
// BENCH_CPU_PROF=1 (node --cpu-prof is passed by the parent) profiles it.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

const { Store } = await import('../../dist/esm/index.mjs')
const { serve, hashToken } = await import('../../dist/esm/server.mjs')

const { token, tls } = JSON.parse(process.env.BENCH_SERVER_CONFIG)
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cw-httpbench-store-'))
const store = Store.open({ dataDir: dir })
store.types.define('order.placed', {}) // the bench's one event type, as an application defines its types at start
const tokens = [{ id: 'bench', hash: hashToken(token), roles: ['append', 'read'] }]
const bodyLimit = 4 * 1024 * 1024
// rateLimit false: the default (60,000 a minute per token) would cap a load generator.
const h1 = await serve(store, { host: '127.0.0.1', port: 0, tokens, bodyLimit, rateLimit: false })
const h2 = await serve(store, { host: '127.0.0.1', port: 0, tokens, bodyLimit, tls, http2: true, rateLimit: false })
process.send({ h1: h1.url, h2: h2.url })
process.on('message', async (m) => {
  // The parent reads this process's CPU time around each case.
  if (m === 'cpu') return process.send({ cpu: process.cpuUsage() })
  if (m !== 'stop') return
  await h1.close()
  await h2.close()
  store.close()
  fs.rmSync(dir, { recursive: true, force: true })
  process.exit(0)
})
