// A tag list is laid out by one of two paths (event-ext.ts): a one-pass
// copy for up to 8 ASCII tags, the general path (checkTags and TextEncoder)
// for anything else, and the one-pass path falls back to the general one
// part way through a list. Whatever the path, the event must read back with
// the tags appended, repeats dropped, in order; and a refused list must
// leave nothing of itself in the next append's block.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Coordinate, InvalidTagError, Query, Store } from '../src/index.js'
import { tempDir } from './helpers.js'

// ASCII letters and punctuation, then characters that take 2, 3 and 4 UTF-8 bytes.
const CHARS = ['a', 'b', 'z', ':', '-', '0', '~', ' ', '\u00e9', '\u20ac', '\u{1f600}']
const tag = fc.array(fc.constantFrom(...CHARS), { minLength: 1, maxLength: 6 }).map((cs) => cs.join(''))
// A small pool as well, so lists repeat tags (next to each other and apart).
const tagList = fc.array(fc.oneof(tag, fc.constantFrom('course:c1', 'student:s\u00e9', 'a')), { minLength: 0, maxLength: 12 })
const distinct = (ts: readonly string[]): string[] => ts.filter((t, i) => ts.indexOf(t) === i)

describe('tag encoding: the one-pass path and the general path give the same events', () => {
  it('reads back every tag list as appended, repeats dropped, from a single append and from a batch', () => {
    const s = Store.open({ dataDir: tempDir('tag-encoding'), sync: { mode: 'none' } })
    s.types.define('t.x')
    let n = 0
    fc.assert(
      fc.property(tagList, (tags) => {
        const want = distinct(tags)
        if (want.length > 32) return
        const coord = new Coordinate(`e:${n++}`, 's')
        const one = s.append(coord, 't.x', { n }, { tags })
        const [b0, b1] = s.appendBatch([
          { coord, kind: 't.x', payload: 1, tags },
          { coord, kind: 't.x', payload: 2 },
        ])
        expect(s.get(one.eventId)!.tags).toEqual(want)
        expect(s.get(b0!.eventId)!.tags).toEqual(want)
        expect(s.get(b1!.eventId)!.tags).toEqual([])
        for (const t of want) {
          const found = s.query(Query.items({ tags: [t] })).map((e) => e.eventId)
          expect(found).toContain(one.eventId)
          expect(found).toContain(b0!.eventId)
        }
      }),
      { numRuns: 150 },
    )
    s.close()
  })

  it('leaves nothing of a refused tag list (refused part way through the one-pass copy) in the next event', () => {
    const s = Store.open({ dataDir: tempDir('tag-encoding-refused'), sync: { mode: 'none' } })
    const c = new Coordinate('e:1', 's')
    s.types.define('t.x')
    const before = s.stats().events
    for (const bad of [['course:c1', 'student:s1\u0001'], ['ok', 'x'.repeat(129)], ['ok', 7], ['ok', 'caf\u00e9\u0085']]) {
      expect(() => s.append(c, 't.x', 1, { tags: bad as string[] })).toThrow(InvalidTagError)
    }
    expect(s.stats().events).toBe(before)
    const r = s.append(c, 't.x', 2)
    expect(s.get(r.eventId)!.tags).toEqual([])
    const r2 = s.append(c, 't.x', 3, { tags: ['ok'] })
    expect(s.get(r2.eventId)!.tags).toEqual(['ok'])
    s.close()
  })
})
