// The console's Server-Sent Events reader (ui/live.js), run in Node on a
// real byte stream: messages split across chunks at any point, CRLF line
// ends, comments and multi-line data must come out whole and in order.
import { describe, expect, it } from 'vitest'
// @ts-expect-error: a plain browser ES module without declarations
import { readSse } from '../ui/live.js'

function streamOf(text: string, cut: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text)
  let at = 0
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close()
      c.enqueue(bytes.slice(at, at + cut))
      at += cut
    },
  })
}

describe('console SSE reader', () => {
  it('loses no message and merges none when chunks split lines, with CRLF, comments and multi-line data', async () => {
    const text = ': hello\r\n\r\nid: 7\r\nevent: event\r\ndata: {"a":1}\r\n\r\nid: 8\nevent: event\ndata: {"b":\ndata: 2}\n\nevent: lag\ndata: x\n\n'
    for (const cut of [1, 2, 3, 5, 8, 13, 1000]) {
      const got: Array<{ id?: string; event: string; data: string }> = []
      await readSse(streamOf(text, cut), (m: { id?: string; event: string; data: string }) => got.push(m), new AbortController().signal)
      expect(got, `chunks of ${cut}`).toEqual([
        { id: '7', event: 'event', data: '{"a":1}' },
        { id: '8', event: 'event', data: '{"b":\n2}' },
        { id: undefined, event: 'lag', data: 'x' },
      ])
    }
  })
})
