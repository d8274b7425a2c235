// segments.js: the Segments view, the store's segment list (GET /v1/segments).
import { get } from './api.js'
import { fill, fmtBytes, h, table } from './dom.js'

const COLUMNS = [
  { key: 'id', label: 'Id' },
  { key: 'file', label: 'File' },
  { key: 'baseSequence', label: 'First sequence' },
  { key: 'nextSequence', label: 'Next sequence' },
  { key: 'bytes', label: 'Bytes', fmt: fmtBytes },
  { key: 'sealed', label: 'Sealed', fmt: (v) => (v ? 'yes' : 'no') },
  { key: 'active', label: 'Active', fmt: (v) => (v ? 'yes' : '') },
]

export function segmentsView(root, onError) {
  const body = h('div#segments', {}, 'loading…')
  fill(root, h('h2', { text: 'Segments' }), body)
  get('/v1/segments')
    .then((r) => fill(body, h('p', { text: `${r.segments.length} segment(s)` }), table(COLUMNS, r.segments)))
    .catch(onError)
  return () => {}
}
