// dom.js: tiny DOM helpers. Every piece of data goes in as text (textContent,
// setAttribute), never as HTML, so event payloads cannot inject markup.

/** h('div.cls#id', { attr: v, onclick: f }, ...children): an element. */
export function h(spec, attrs = {}, ...children) {
  const [, tag = 'div', rest = ''] = /^([a-z0-9-]*)(.*)$/i.exec(spec)
  const el = document.createElement(tag || 'div')
  for (const part of rest.match(/[.#][^.#]+/g) ?? []) {
    if (part[0] === '.') el.classList.add(part.slice(1))
    else el.id = part.slice(1)
  }
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v)
    else if (k === 'text') el.textContent = String(v)
    else el.setAttribute(k, v === true ? '' : String(v))
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue
    el.append(c instanceof Node ? c : document.createTextNode(String(c)))
  }
  return el
}

/** An SVG element with attributes. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag)
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v))
  for (const c of children.flat(Infinity)) if (c) el.append(c instanceof Node ? c : document.createTextNode(String(c)))
  return el
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren()
  for (const c of children.flat(Infinity)) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : document.createTextNode(String(c)))
  return el
}

/** A table of rows (objects) with the given columns: [{ key, label, fmt? }]. */
export function table(columns, rows, onRowClick) {
  return h('table', {},
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { text: c.label })))),
    h('tbody', {}, rows.map((r) => h('tr', onRowClick ? { class: 'clickable', onclick: () => onRowClick(r) } : {},
      columns.map((c) => h('td', { 'data-col': c.key, text: c.fmt ? c.fmt(r[c.key], r) : fmtValue(r[c.key]) }))))))
}

export function fmtValue(v) {
  if (v === undefined || v === null) return ''
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v)
}

export function fmtBytes(n) {
  const v = Number(n)
  if (!Number.isFinite(v)) return String(n)
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  let x = v
  while (x >= 1024 && i < units.length - 1) { x /= 1024; i++ }
  return `${i === 0 ? x : x.toFixed(1)} ${units[i]}`
}

/** A timestamp in microseconds (a decimal string or number) as ISO 8601. */
export function fmtMicros(us) {
  const n = Number(us)
  return Number.isFinite(n) && n > 0 ? new Date(n / 1000).toISOString() : ''
}
