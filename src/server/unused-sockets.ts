/**
 * Connections that never carried a request. Node's server.close() (and
 * closeIdleConnections) leaves them open until the client hangs up, so a
 * client keeping a spare connection (fetch's pool does, after an aborted
 * stream) would hold close() for seconds. close() destroys them: no
 * request of theirs is lost, as they never sent one.
 */
import type { Server as NetServer, Socket } from 'node:net'

export function trackUnusedSockets(server: NetServer): () => void {
  const unused = new Set<Socket>()
  server.on('connection', (s: Socket) => {
    unused.add(s)
    const used = (): void => void unused.delete(s)
    s.once('data', used)
    s.once('close', used)
  })
  return () => {
    for (const s of unused) s.destroy()
    unused.clear()
  }
}
