/**
 * A paged answer: iterate its items (`for await`), its pages (`pages()`),
 * or collect them (`toArray()`). Each page is one request; `next` from the
 * server says where the following page starts.
 */
export type PageFetcher<T> = (next: bigint | undefined) => Promise<{ items: T[]; next: bigint | undefined }>

export class Paged<T> implements AsyncIterable<T> {
  constructor(private readonly fetchPage: PageFetcher<T>) {}

  async *pages(): AsyncGenerator<T[]> {
    let next: bigint | undefined
    for (;;) {
      const p = await this.fetchPage(next)
      if (p.items.length > 0) yield p.items
      if (p.next === undefined) return
      next = p.next
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for await (const page of this.pages()) yield* page
  }

  async toArray(): Promise<T[]> {
    const out: T[] = []
    for await (const page of this.pages()) out.push(...page)
    return out
  }
}
