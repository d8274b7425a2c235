// tail.js: the Live tail view: the latest events matching the filters
// (entity prefix, scope, type, tag), and new ones as they are appended
// (live.js picks SSE or polling). Click a row for the event page.
import { post } from './api.js'
import { fill, fmtMicros, h } from './dom.js'
import { follow } from './live.js'

const KEEP = 200
const filters = { entity: '', scope: '', type: '', tag: '' }

function regionOf(f) {
  const r = {}
  if (f.entity) r.entity = f.entity
  if (f.scope) r.scope = f.scope
  if (f.type) r.type = f.type
  if (f.tag) r.tags = [f.tag]
  return r
}

function row(e) {
  return h('tr.clickable', { 'data-event': e.eventId, onclick: () => { location.hash = `#/event/${e.eventId}` } },
    h('td', { text: e.globalSequence }),
    h('td', { text: fmtMicros(e.timestampUs) }),
    h('td', { text: e.entity }),
    h('td', { text: e.scope }),
    h('td', { text: e.type ?? `kind ${e.kind}` }),
    h('td', { text: (e.tags ?? []).join(', ') }),
    h('td.payload', { text: JSON.stringify(e.payload)?.slice(0, 120) ?? '' }))
}

export function tailView(root, onError) {
  const status = h('span#tail-status.note', { text: 'starting…' })
  const rows = h('tbody#tail-rows')
  const inputs = Object.keys(filters).map((k) => h('label', {}, `${k} `, h('input', { name: k, value: filters[k], placeholder: k === 'entity' ? 'prefix' : '' })))
  const form = h('form.filters', { onsubmit: (ev) => { ev.preventDefault(); restart() } }, inputs, h('button', { type: 'submit', text: 'Apply' }))
  fill(root, h('h2', { text: 'Live tail' }), form, status,
    h('table', {}, h('thead', {}, h('tr', {}, ['Seq', 'Time', 'Entity', 'Scope', 'Type', 'Tags', 'Payload'].map((t) => h('th', { text: t })))), rows))
  let live
  async function restart() {
    live?.stop()
    for (const i of form.querySelectorAll('input')) filters[i.name] = i.value.trim()
    const region = regionOf(filters)
    rows.replaceChildren()
    try {
      // The latest page first (newest on top), then everything after it as it comes.
      const page = await post('/v1/query', { region, limit: 50, reverse: true })
      for (const e of page.events) rows.append(row(e))
      const after = page.events[0]?.globalSequence ?? null
      live = follow({
        region,
        after,
        onStatus: (s) => { status.textContent = s },
        onEvent: (e) => {
          rows.prepend(row(e))
          while (rows.children.length > KEEP) rows.lastChild.remove()
        },
      })
    } catch (e) {
      status.textContent = `${e.code ?? ''} ${e.message}`
      onError(e)
    }
  }
  restart()
  return () => live?.stop()
}
