import { Region, type Store, type StoredEvent } from '../index.js'

/** Events per native read. */
export const PAGE = 1024

/**
 * The events of `region` from sequence `from` up to the end the store had
 * when the walk started, a page at a time (memory stays bounded on large stores).
 */
export function* pages(store: Store, region: Region = Region.all(), from = 0n, pageSize = PAGE): Generator<StoredEvent[]> {
  const end = store.stats().nextSequence
  const cursor = store.cursor(region, { from })
  while (cursor.position < end) {
    const page = cursor.pollBatch(pageSize)
    if (page.length === 0) return
    yield page
  }
}
