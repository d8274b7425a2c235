// A minimal Server-Sent Events reader over fetch, for the live-delivery
// tests: frames as { id, event, data, comment }, with bounded waits.
export interface SseFrame {
  id?: string
  event?: string
  data?: string
  comment?: string
}

export interface SseReader {
  status: number
  /** The next `n` frames that are not comments (unless `comments`), or throws after `timeoutMs`. */
  next(n: number, opts?: { timeoutMs?: number; comments?: boolean }): Promise<SseFrame[]>
  close(): void
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const ac = new AbortController()
  const timer = setTimeout(() => ac.abort(), 10_000)
  const res = await fetch(url, { headers, signal: ac.signal })
  clearTimeout(timer)
  const frames: SseFrame[] = []
  let buf = ''
  const reader = res.body!.getReader()
  const dec = new TextDecoder()
  let waiting: (() => void) | undefined
  let ended = false
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        buf += dec.decode(value, { stream: true })
        let i: number
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i)
          buf = buf.slice(i + 2)
          const f: SseFrame = {}
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) f.comment = line.slice(1).trim()
            else {
              const c = line.indexOf(':')
              const k = line.slice(0, c) as 'id' | 'event' | 'data'
              f[k] = line.slice(c + 1).replace(/^ /, '')
            }
          }
          frames.push(f)
        }
        waiting?.()
      }
    } catch {
      // aborted
    }
    ended = true
    waiting?.()
  })()
  return {
    status: res.status,
    async next(n, opts = {}) {
      const deadline = Date.now() + (opts.timeoutMs ?? 5000)
      const take = (): SseFrame[] | undefined => {
        const wanted = opts.comments ? frames : frames.filter((f) => f.comment === undefined)
        if (wanted.length < n) return undefined
        const out = wanted.slice(0, n)
        for (const f of out) frames.splice(frames.indexOf(f), 1)
        return out
      }
      for (;;) {
        const got = take()
        if (got) return got
        if (ended) throw new Error(`the stream ended after ${frames.length} of ${n} frames`)
        const left = deadline - Date.now()
        if (left <= 0) throw new Error(`timed out waiting for ${n} frames (have ${frames.length})`)
        await new Promise<void>((r) => {
          const t = setTimeout(r, left)
          waiting = () => {
            clearTimeout(t)
            r()
          }
        })
      }
    },
    close() {
      ac.abort()
    },
  }
}
