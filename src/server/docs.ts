/**
 * The OpenAPI 3 document at GET /docs (and /docs/json), built by
 * @fastify/swagger from the route table. Each route's `doc` (summary,
 * tag, parameters) lives in its config, not in a fastify `schema`: the
 * swagger transform turns it into the document's operation, so fastify
 * compiles no validator or serializer and the handlers' own checks (and
 * error codes) stay the only ones.
 */
import type { FastifyInstance } from 'fastify'
import { send } from './body.js'
import { loadPlugin } from './load.js'
import type { Need } from './route-info.js'
import type { RouteTable } from './routes.js'

/** What the document says of a route. */
export interface RouteDoc {
  summary: string
  /** The document's grouping: events, reads, admin, meta... */
  tag: string
  description?: string
  /** Path parameters: name -> description. */
  params?: Record<string, string>
  /** Query parameters: name -> description. */
  query?: Record<string, string>
  /** What the JSON (or MessagePack) request body holds. */
  body?: string
}

function props(m: Record<string, string>): Record<string, { type: 'string'; description: string }> {
  return Object.fromEntries(Object.entries(m).map(([k, d]) => [k, { type: 'string', description: d }]))
}

/** The operation schema of one route, for the document only. */
export function operationOf(doc: RouteDoc | undefined, need: Need | undefined): Record<string, unknown> {
  if (doc === undefined) return {}
  if (need === 'public') return { summary: doc.summary, tags: [doc.tag], description: doc.description ?? 'Static files; no token.', security: [] }
  const role = need === 'any' ? 'any valid token' : `the '${need}' role (admin includes every role)`
  return {
    summary: doc.summary,
    tags: [doc.tag],
    description: `${doc.description ? `${doc.description}\n\n` : ''}Needs ${role}.`,
    'x-causeway-role': need,
    security: [{ bearer: [] }],
    ...(doc.params ? { params: { type: 'object', properties: props(doc.params), required: Object.keys(doc.params) } } : {}),
    ...(doc.query ? { querystring: { type: 'object', properties: props(doc.query) } } : {}),
    ...(doc.body ? { body: { type: 'object', description: doc.body } } : {}),
  }
}

/** Registers @fastify/swagger; call before any route is added (it collects them as they are). */
export async function addSwagger(app: FastifyInstance): Promise<void> {
  const swagger = loadPlugin('@fastify/swagger', 'the OpenAPI document at /docs') as Parameters<FastifyInstance['register']>[0]
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'causeway', description: 'The causeway event store as an HTTP service. Bodies are JSON (bigints as decimal strings, bytes as { $base64 }) or MessagePack (application/msgpack). Errors: { error: { code, message } }.', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    hideUntagged: false,
    transform: ({ url, route }: { url: string; route: { config?: { doc?: RouteDoc; need?: Need } } }) => ({ url, schema: operationOf(route.config?.doc, route.config?.need) }),
  } as never)
}

export function docsRoutes(t: RouteTable): void {
  const doc = (app: FastifyInstance) => (app as unknown as { swagger(): unknown }).swagger()
  const meta = { tag: 'meta', summary: 'This OpenAPI 3 document (JSON)' }
  t.add('GET', '/docs', 'any', async (req, reply) => send(req, reply, 200, doc(t.app)), meta)
  t.add('GET', '/docs/json', 'any', async (req, reply) => send(req, reply, 200, doc(t.app)), meta)
}
