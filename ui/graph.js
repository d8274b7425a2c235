// graph.js: draws a causal graph ({ root, nodes, edges, truncated }) as a
// picture with Graphviz (viz.js, served at /ui/vendor/viz.js from the
// @viz-js/viz package). Where that is not installed, the graph is shown as
// a list instead, and the page says so. Nodes are clickable either way.
import { h } from './dom.js'

let vizPromise

function loadViz() {
  vizPromise ??= import('./vendor/viz.js').then((m) => m.instance())
  return vizPromise
}

/** Text made safe inside a DOT quoted string. */
function esc(s) {
  return String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/[\r\n]/g, ' ')
}
const q = (s) => `"${esc(s)}"`

export function toDot(g) {
  const lines = ['digraph causal {', '  rankdir=LR;', '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, fillcolor="#eef3fb", color="#4a6fa5"];']
  for (const n of g.nodes) {
    // Lines of a label are joined by DOT's own \n escape.
    const label = [n.type ?? `kind ${n.kind}`, n.entity, `#${n.globalSequence}`].map(esc).join('\\n')
    const extra = n.eventId === g.root ? ', fillcolor="#ffd98a", penwidth=2' : ''
    lines.push(`  ${q(n.eventId)} [label="${label}"${extra}];`)
  }
  for (const e of g.edges) lines.push(`  ${q(e.cause)} -> ${q(e.effect)};`)
  lines.push('}')
  return lines.join('\n')
}

function asList(g, onOpen, why) {
  const byId = new Map(g.nodes.map((n) => [n.eventId, n]))
  const name = (id) => { const n = byId.get(id); return n ? `${n.type ?? `kind ${n.kind}`} ${n.entity} #${n.globalSequence}` : `${id} (not in the store)` }
  return h('div.graph-list', {},
    h('p.note', { text: why }),
    h('ul', {}, g.edges.map((e) => h('li', {},
      h('a', { href: `#/event/${e.cause}`, text: name(e.cause) }), ' → ',
      h('a', { href: `#/event/${e.effect}`, text: name(e.effect) })))),
    g.edges.length === 0 ? h('p', { text: 'No causation links: this event neither caused nor was caused by another.' }) : null)
}

/** An element showing the graph; resolves once drawn. */
export async function drawGraph(g, onOpen) {
  let viz
  try {
    viz = await loadViz()
  } catch {
    return asList(g, onOpen, 'Graphviz (@viz-js/viz) is not installed on the server: the causal graph is shown as a list.')
  }
  const el = viz.renderSVGElement(toDot(g))
  el.classList.add('causal-svg')
  for (const node of el.querySelectorAll('g.node')) {
    const id = node.querySelector('title')?.textContent
    if (!id) continue
    node.setAttribute('data-event', id)
    node.classList.add('clickable')
    node.addEventListener('click', () => onOpen(id))
  }
  return h('div.graph', {}, el)
}
