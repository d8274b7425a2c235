// event.js: the Event page: an event's fields and payload, its causal graph
// (GET /v1/events/:id/causal) drawn by graph.js with clickable nodes, and
// its entity's hash chain verified up to it (GET /v1/events/:id/verify).
import { get } from './api.js'
import { fill, fmtMicros, fmtValue, h } from './dom.js'
import { drawGraph } from './graph.js'

const FIELDS = ['eventId', 'globalSequence', 'entity', 'scope', 'type', 'kind', 'clock', 'timestampUs', 'occurredAtUs', 'correlationId', 'causationId', 'tags', 'contentHash', 'prevHash', 'tombstoned']

function fieldsOf(e) {
  return h('dl.fields', {}, FIELDS.filter((k) => e[k] !== undefined && e[k] !== null).map((k) => [
    h('dt', { text: k }),
    h('dd', { 'data-field': k },
      k === 'causationId' || k === 'correlationId'
        ? h('a', { href: `#/event/${e[k]}`, text: e[k] })
        : `${fmtValue(e[k])}${k.endsWith('Us') ? ` (${fmtMicros(e[k])})` : ''}`),
  ]))
}

function verifyOf(v) {
  const problems = [
    ...v.contentMismatches.map((x) => `#${x.globalSequence} ${x.eventId}: payload does not hash to its content hash`),
    ...v.brokenLinks.map((x) => `#${x.globalSequence} ${x.eventId}: not linked to its predecessor (prevHash ${x.prevHash})`),
    ...v.missingParents.map((x) => `#${x.globalSequence} ${x.eventId}: predecessor not in the store`),
  ]
  return h(`div#verify.${v.ok ? 'ok' : 'bad'}`, { 'data-ok': String(v.ok) },
    h('strong', { text: v.ok ? 'Chain verified' : 'Chain NOT verified' }),
    ` — ${v.checked} event(s) of ${v.entity} checked from genesis to clock ${v.clock}` + (v.tombstones ? `, ${v.tombstones} tombstone(s)` : ''),
    problems.length ? h('ul', {}, problems.map((p) => h('li', { text: p }))) : null)
}

export function eventView(root, onError, id) {
  const head = h('div#event-fields', {}, 'loading…')
  const payload = h('pre#event-payload')
  const verify = h('div#verify-box', {}, 'verifying…')
  const graph = h('div#graph-box', {}, 'drawing…')
  const depth = h('select', { name: 'direction' }, ['both', 'causes', 'effects'].map((d) => h('option', { value: d, text: d })))
  fill(root, h('h2', { text: 'Event' }), head, h('h3', { text: 'Payload' }), payload,
    h('h3', {}, 'Hash chain'), verify,
    h('h3', {}, 'Causal graph ', depth), graph)
  let live = true
  const open = (eid) => { location.hash = `#/event/${eid}` }
  const enc = encodeURIComponent(id)
  get(`/v1/events/${enc}`).then((e) => {
    fill(head, fieldsOf(e))
    fill(payload, JSON.stringify(e.payload, null, 2))
  }).catch((e) => { fill(head, `${e.code}: ${e.message}`); onError(e) })
  get(`/v1/events/${enc}/verify`).then((v) => fill(verify, verifyOf(v))).catch((e) => fill(verify, `${e.code}: ${e.message}`))
  async function loadGraph() {
    try {
      fill(graph, 'drawing…')
      const g = await get(`/v1/events/${enc}/causal?direction=${depth.value}&maxDepth=16`)
      const el = await drawGraph(g, open)
      if (!live) return
      fill(graph, h('p.note', { text: `${g.nodes.length} event(s), ${g.edges.length} link(s)${g.truncated ? ', cut at depth 16' : ''}` }), el)
    } catch (e) {
      fill(graph, `${e.code ?? ''} ${e.message}`)
    }
  }
  depth.addEventListener('change', loadGraph)
  loadGraph()
  return () => { live = false }
}
