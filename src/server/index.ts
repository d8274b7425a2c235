/**
 * causeway/server: the store as an HTTP service, `serve(store, options)`.
 *
 * fastify is an optional peer dependency: the core package never loads it,
 * and this module loads it only when serve() is called, so importing
 * causeway/server without fastify installed still works and serve() then
 * throws MissingDependencyError naming the package to install.
 */
import type { Http2SecureServer } from 'node:http2'
import type { FastifyInstance } from 'fastify'
import { InvalidArgumentError, NotFoundError } from '../errors.js'
import '../index.js' // attaches metrics(), snapshotAsync() and compactAsync() to Store
import { Store } from '../store.js'
import { authenticate } from './auth.js'
import { addCors } from './cors.js'
import { addSwagger, docsRoutes } from './docs.js'
import { addRateLimit } from './limits.js'
import { loadTokens, type TokenEntry } from './tokens.js'
import { trackHttp2 } from './drain.js'
import { trackUnusedSockets } from './unused-sockets.js'
import { addMsgpackParser, send } from './body.js'
import { clientErrorHandler, toWireError } from './http-errors.js'
import { checkServeOptions, type ServeOptions } from './options.js'
import { loadFastify, loadPlugin } from './load.js'
import { mayBePublic, type RouteInfo } from './route-info.js'
import { needOf, RouteTable } from './routes.js'
import { adminRoutes } from './routes-admin.js'
import { projectionRoutes } from './routes-projections.js'
import { inspectRoutes } from './routes-inspect.js'
import { uiRoutes } from './routes-ui.js'
import { readRoutes } from './routes-read.js'
import { writeRoutes } from './routes-write.js'
import { liveRoutes } from './routes-live.js'
import { endRefusedUpgrades, pickProtocol, wsRoutes } from './routes-ws.js'

export { isLoopback, type ServeOptions } from './options.js'
export { createToken, hashToken, parseTokens, type Principal, type Role, type TokenEntry, type TokenRateLimit } from './tokens.js'
export { DEFAULT_RATE_LIMIT } from './options.js'
export type { RouteDoc } from './docs.js'
export type { Need, RouteInfo } from './route-info.js'
export { loadFastify, loadPlugin } from './load.js'
export { DEFAULT_LIMIT, MAX_LIMIT } from './route-info.js'

/** A running service. The caller owns the store: close() syncs it but leaves it open. */
export interface Server {
  /** e.g. 'http://127.0.0.1:43817' (the port the system chose for port 0). */
  readonly url: string
  /** Every route with the role it needs. */
  readonly routes: readonly RouteInfo[]
  /**
   * Replaces the tokens (a tokens file path or entries), checked first: a
   * bad file throws E_INVALID_ARGUMENT and the old tokens stay. Requests
   * from then on are judged by the new ones.
   */
  reloadTokens(tokens: string | readonly TokenEntry[]): void
  /** Live streams open now (SSE streams and WebSocket connections). */
  readonly liveStreams: number
  /** Stops accepting connections, finishes the requests in flight, then syncs the store. Safe to call twice. */
  close(): Promise<void>
}

function urlOf(app: FastifyInstance, tls: boolean): string {
  const a = app.server.address()
  if (a === null || typeof a === 'string') throw new InvalidArgumentError('the server is not listening on a TCP port')
  const host = a.family === 'IPv6' || a.address.includes(':') ? `[${a.address}]` : a.address
  return `${tls ? 'https' : 'http'}://${host}:${a.port}`
}

/**
 * Serves `store` over HTTP (HTTPS with `tls`, HTTP/2 with `http2`).
 * Resolves once listening. Refuses to start without authentication unless
 * `insecureLocal` on a loopback address.
 */
export async function serve(store: Store, options: ServeOptions): Promise<Server> {
  if (!(store instanceof Store)) throw new InvalidArgumentError('serve expects an open Store')
  if (store.closed) throw new InvalidArgumentError('serve expects an open Store; this one is closed')
  const o = checkServeOptions(options)
  const fastify = loadFastify() as (options: Record<string, unknown>) => FastifyInstance
  // Node enforces requestTimeout only when given to the server's constructor
  // (fastify sets it afterwards, which a stalled body outlives), and checks
  // it every connectionsCheckingInterval (30 s by default).
  const timeouts = {
    requestTimeout: o.requestTimeoutMs,
    headersTimeout: Math.min(60_000, o.requestTimeoutMs),
    connectionsCheckingInterval: Math.max(50, Math.min(5000, Math.floor(o.requestTimeoutMs / 4))),
  }
  const app = fastify({
    logger: false,
    bodyLimit: o.bodyLimit,
    requestTimeout: o.requestTimeoutMs,
    http: timeouts,
    clientErrorHandler,
    // Requests arriving once close() began are answered 503; fastify's
    // default closes idle keep-alive connections on close() (HTTP/1.1), so
    // close() waits only for requests in flight.
    return503OnClosing: true,
    ...(o.tls ? { https: { cert: o.tls.cert, key: o.tls.key, ...timeouts, ...(o.http2 ? { allowHTTP1: true } : {}) } } : {}),
    ...(o.http2 ? { http2: true } : {}),
  })
  let closing = false
  let tokens = o.tokens
  addMsgpackParser(app)
  app.setErrorHandler((err, req, reply) => {
    const w = toWireError(err)
    if (w.status === 401) reply.header('www-authenticate', 'Bearer')
    return send(req, reply, w.status, w.body)
  })
  // onRequest order: rate limit (every request, first), CORS (answers preflights), authentication.
  await addRateLimit(app, o.rateLimit, () => tokens)
  await addCors(app, o.corsOrigins)
  // Callback-style hooks: an async one costs a promise and a turn of the
  // microtask queue on every request.
  app.addHook('onRequest', (req, _reply, done) => {
    try {
      authenticate(req, tokens, needOf(req))
    } catch (e) {
      return done(e as Error)
    }
    done()
  })
  // Once close() began, a response in flight closes its HTTP/1.1
  // connection: close() waits for that response, not for a keep-alive
  // client to hang up.
  app.addHook('onSend', (req, reply, payload, done) => {
    if (closing && req.raw.httpVersionMajor === 1) reply.header('connection', 'close')
    done(null, payload)
  })
  app.setNotFoundHandler(async (req) => {
    throw new NotFoundError(`no route ${req.method} ${req.url.split('?')[0]}`)
  })
  // Every route fastify registers is seen here, however it was added: one
  // without a role refuses to register, so none can be served unauthorised.
  // (The one route added before this hook is @fastify/cors's OPTIONS *: it
  // answers preflights from allowed origins, carrying no data; any other
  // request there is authenticated like all, then 404.)
  const registered: RouteInfo[] = []
  app.addHook('onRoute', (r) => {
    const need = r.config?.need
    for (const method of Array.isArray(r.method) ? r.method : [r.method]) {
      if (need === undefined) throw new InvalidArgumentError(`route ${method} ${r.url} was registered without the role it needs`)
      if (need === 'public' && !mayBePublic(r.url)) throw new InvalidArgumentError(`route ${method} ${r.url} may not be public: only the console's static files under /ui are`)
      // fastify adds a HEAD route beside each GET one, with the same config.
      if (method !== 'HEAD') registered.push(Object.freeze({ method: method as RouteInfo['method'], url: r.url, need }))
    }
  })
  await addSwagger(app)
  const live = new Set<() => void>()
  endRefusedUpgrades(app)
  const routeContext = { store, backupDir: o.backupDir, closing: () => closing, projections: o.projections, heartbeatMs: o.heartbeatMs, live }
  const table = new RouteTable(app, routeContext)
  docsRoutes(table)
  writeRoutes(table)
  readRoutes(table)
  adminRoutes(table)
  projectionRoutes(table)
  inspectRoutes(table)
  uiRoutes(table)
  liveRoutes(table)
  // @fastify/websocket hooks every request and response and wraps every
  // handler of its context: registered beside its one route only, the
  // other routes do not pay for it. (An upgrade request to another route is
  // answered as a plain request, then its socket ends: endRefusedUpgrades.)
  await app.register(async (child: FastifyInstance) => {
    await child.register(loadPlugin('@fastify/websocket', 'the WebSocket endpoint /v1/ws') as never, { options: { maxPayload: o.bodyLimit, handleProtocols: pickProtocol } })
    wsRoutes(new RouteTable(child, routeContext))
  })
  await app.listen({ host: o.host, port: o.port })
  const drainHttp2 = o.http2 ? trackHttp2(app.server as unknown as Http2SecureServer) : undefined
  const dropUnused = trackUnusedSockets(app.server as unknown as import('node:net').Server, !o.http2)
  const url = urlOf(app, o.tls !== undefined)
  let closed: Promise<void> | undefined
  return Object.freeze({
    url,
    routes: Object.freeze(registered),
    reloadTokens(next: string | readonly TokenEntry[]): void {
      if (tokens === undefined) throw new InvalidArgumentError('this server runs with insecureLocal: it has no tokens to reload')
      tokens = loadTokens(next)
    },
    get liveStreams(): number {
      return live.size
    },
    close(): Promise<void> {
      closed ??= (async () => {
        closing = true
        // Live streams never finish by themselves: end them, or close() would wait forever.
        for (const end of [...live]) end()
        const closed = app.close()
        drainHttp2?.()
        dropUnused()
        await closed
        // What was acknowledged over the network is on disk before close() resolves.
        if (!store.closed && !store.readOnly) store.sync()
      })()
      return closed
    },
  })
}
