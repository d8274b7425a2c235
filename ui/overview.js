// overview.js: the Overview view: the store's stats (GET /v1/stats) polled
// every 2 s, as figures and as small line charts over time.
import { get } from './api.js'
import { fill, fmtBytes, h } from './dom.js'
import { lineChart, Series } from './charts.js'

const POLL_MS = 2000
const series = new Series(90)

const FIGURES = [
  ['events', 'Events', String],
  ['segments', 'Segments', String],
  ['bytes', 'Log bytes', fmtBytes],
  ['entities', 'Entities', String],
  ['scopes', 'Scopes', String],
  ['indexBytes', 'Index memory', fmtBytes],
  ['syncs', 'Syncs', String],
  ['role', 'Role', String],
  ['clients', 'Clients', String],
]
const CHARTS = [
  ['events', 'Events', String],
  ['rate', 'Appends per second', (v) => v.toFixed(1)],
  ['bytes', 'Log bytes', fmtBytes],
  ['indexBytes', 'Index memory', fmtBytes],
]

export function overviewView(root, onError) {
  const figures = h('dl.figures')
  const charts = h('div.charts')
  const note = h('p.note')
  fill(root, h('h2', { text: 'Overview' }), figures, h('h3', { text: 'Over time (every 2 s)' }), charts, note)
  let prev
  let timer
  async function tick() {
    try {
      const s = await get('/v1/stats')
      const t = Date.now()
      series.push('events', t, s.events)
      series.push('bytes', t, s.bytes)
      series.push('indexBytes', t, s.indexBytes)
      if (prev) series.push('rate', t, (Number(s.events) - Number(prev.s.events)) / ((t - prev.t) / 1000))
      prev = { s, t }
      fill(figures, FIGURES.map(([k, label, fmt]) => [h('dt', { text: label }), h('dd', { 'data-stat': k, text: fmt(s[k]) })]))
      fill(charts, CHARTS.map(([k, label, fmt]) => lineChart(k, label, series.get(k), fmt)))
      fill(note, s.lastSyncAt ? `last sync ${s.lastSyncAt}` : 'not synced yet')
    } catch (e) {
      onError(e)
    }
  }
  tick()
  timer = setInterval(tick, POLL_MS)
  return () => clearInterval(timer)
}
