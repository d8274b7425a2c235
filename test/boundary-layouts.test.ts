import { describe, expect, it } from 'vitest'
import { Item, native, Rcpt, Rec, Req } from '../src/native'

// The buffers TypeScript and the addon share are laid out twice: in
// native/js_layouts.h and in src/native (Req, Rcpt, Item, Rec). The addon
// exports its side as `layouts`; each TypeScript constant must equal it key
// for key, so this fails if any one offset, size or flag bit differs, or if
// either side has a field the other lacks (checked by changing Rcpt.clock
// from 8 to 9 in src/native, and rec::kScope from 8 to 9 in js_layouts.h,
// one at a time: each fails the matching case).
type Layout = Record<string, number>
const layouts = native().layouts as Record<string, Layout>

const copies: Array<[string, Layout]> = [
  ['request', Req],
  ['receipt', Rcpt],
  ['item', Item],
  ['record', Rec],
]

describe('boundary layouts', () => {
  it('the addon exports exactly the request, receipt, item and record layouts', () => {
    expect(Object.keys(layouts).sort()).toEqual(copies.map(([name]) => name).sort())
  })

  it.each(copies)('%s: every offset, size and flag matches the TypeScript copy', (name, ts) => {
    const addon = layouts[name]
    expect(addon).toBeDefined()
    expect(Object.keys(addon!).sort()).toEqual(Object.keys(ts).sort())
    for (const key of Object.keys(ts)) {
      expect({ [key]: addon![key] }, `${name}.${key}`).toEqual({ [key]: ts[key] })
    }
  })
})
