/**
 * Projections by name: the ones given to serve() in its `projections`
 * option, folded with store.project over an entity's events. A
 * scope-restricted token may fold an entity only when every event of it
 * lies in its scopes (the state is made of them all). The state goes out
 * as JSON (bigints as decimal strings) or MessagePack.
 */
import { NotFoundError } from '../errors.js'
import { checkEvent, isRestricted } from './auth.js'
import { send } from './body.js'
import type { RouteTable } from './routes.js'
import { onlyKeys } from './wire.js'

export function projectionRoutes(t: RouteTable): void {
  const { store, projections } = t.ctx

  t.add('GET', '/v1/projections', 'read', async (req, reply) => {
    const list = [...projections].map(([name, p]) => ({ name, version: p.version }))
    return send(req, reply, 200, { projections: list })
  }, { tag: 'projections', summary: 'The names (and versions) of the projections this server serves' })

  t.add('GET', '/v1/projections/:name/:entity', 'read', async (req, reply) => {
    const { name, entity } = req.params as { name: string; entity: string }
    onlyKeys(req.query as Record<string, unknown>, [], 'projection')
    const p = projections.get(name)
    if (!p) throw new NotFoundError(`no projection is served under the name ${name}`)
    if (isRestricted(req)) {
      for (const e of store.stream(entity)) checkEvent(req, e, `the events of ${entity}`)
    }
    const r = store.project(entity, p)
    return send(req, reply, 200, { name, entity, state: r.state, position: r.position, eventsApplied: r.eventsApplied, cacheHit: r.cacheHit })
  }, {
    tag: 'projections',
    summary: "A registered projection's state for one entity",
    description: 'Answers { name, entity, state, position, eventsApplied, cacheHit }; position is the global sequence of the last event folded (a decimal string in JSON), or null.',
    params: { name: 'the name the projection was registered under', entity: 'the entity to fold' },
  })
}
