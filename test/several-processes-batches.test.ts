// A client's batches, forwarded to a writer in another process: the client
// indexes a batch's frames while it waits for the reply (store_link.cc,
// CatchUp mapped_only), so a reader thread of the client process must still
// see each batch whole or not at all, and the appending thread must see the
// whole batch as soon as appendBatch returns.
import { describe, expect, it } from 'vitest'
import { run, until } from './process-helpers.js'
import { tempDir } from './helpers.js'

describe('several processes: a client batch, read while it is in flight', () => {
  it("never shows a reader thread of the client part of a batch, and shows the appending thread all of it once appendBatch returns", async () => {
    const dir = tempDir('client-batches')
    const writerLines: string[] = []
    const writer = run('writer-daemon.cjs', [dir, JSON.stringify({ segmentMaxBytes: 64 << 20 })], (l) => writerLines.push(l), 'pipe')
    await until('the writer to open', () => writerLines.length > 0)
    const out: string[] = []
    const client = run('batch-reader-client.cjs', [dir, '300'], (l) => out.push(l))
    await until('the client to finish', () => out.length > 0, 60_000)
    writer.stdin!.write('exit\n')
    const [what, partial, reads, role] = out[0]!.split(' ')
    expect(what, out[0]).toBe('done')
    expect(role).toBe('client')
    expect(Number(reads)).toBeGreaterThan(300) // the reader ran beside the appends
    expect(Number(partial)).toBe(0)
    client.kill()
  }, 90_000)
})
