// charts.js: small SVG line charts drawn by hand (no chart library):
// one series of { t, v } points, its axis range, and the last value.
import { h, svg } from './dom.js'

const W = 260
const H = 90
const PAD = 4

/** Keeps the last `max` samples of each named series. */
export class Series {
  constructor(max = 90) {
    this.max = max
    this.data = new Map()
  }
  push(name, t, v) {
    const a = this.data.get(name) ?? []
    a.push({ t, v: Number(v) })
    if (a.length > this.max) a.splice(0, a.length - this.max)
    this.data.set(name, a)
  }
  get(name) {
    return this.data.get(name) ?? []
  }
}

/** The polyline points of `pts` scaled into the chart box. */
export function pathOf(pts, w = W, h = H) {
  if (pts.length === 0) return ''
  const t0 = pts[0].t
  const t1 = pts[pts.length - 1].t
  let lo = Math.min(...pts.map((p) => p.v))
  let hi = Math.max(...pts.map((p) => p.v))
  if (hi === lo) { hi += 1; lo = Math.max(0, lo - 1) }
  const x = (t) => (t1 === t0 ? w - PAD : PAD + ((t - t0) / (t1 - t0)) * (w - 2 * PAD))
  const y = (v) => h - PAD - ((v - lo) / (hi - lo)) * (h - 2 * PAD)
  return pts.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ')
}

/** A chart card: title, last value (formatted by `fmt`) and the line. */
export function lineChart(name, title, pts, fmt = String) {
  const last = pts.length ? pts[pts.length - 1].v : undefined
  const lo = pts.length ? Math.min(...pts.map((p) => p.v)) : 0
  const hi = pts.length ? Math.max(...pts.map((p) => p.v)) : 0
  return h('figure.chart', { 'data-chart': name },
    h('figcaption', {}, h('span', { text: title }), h('strong', { text: last === undefined ? '-' : fmt(last) })),
    svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': `${title} over time` },
      svg('rect', { x: 0, y: 0, width: W, height: H, class: 'chart-bg' }),
      svg('polyline', { points: pathOf(pts), class: 'chart-line', fill: 'none' }),
      svg('text', { x: PAD, y: 12, class: 'chart-axis' }, fmt(hi)),
      svg('text', { x: PAD, y: H - PAD - 2, class: 'chart-axis' }, fmt(lo))))
}
