/**
 * Connections that never carried a request. Node's server.close() (and
 * closeIdleConnections) leaves them open until the client hangs up, so a
 * client keeping a spare connection (fetch's pool does, after an aborted
 * stream) would hold close() for seconds. close() destroys them: no
 * request of theirs is lost, as they never sent one.
 */
import type { Server as NetServer, Socket } from 'node:net'

/**
 * `http1`: the server is node's HTTP/1.1 server, whose 'request' and
 * 'upgrade' events mark a connection used. Not a 'data' listener on its
 * sockets: one makes node parse every request of that connection in
 * JavaScript (socketOnData) instead of natively, about 10 µs a request.
 * HTTP/2 sessions parse natively whatever listens, so there the first
 * bytes mark it.
 */
export function trackUnusedSockets(server: NetServer, http1: boolean): () => void {
  const unused = new Set<Socket>()
  server.on('connection', (s: Socket) => {
    unused.add(s)
    const used = (): void => void unused.delete(s)
    if (!http1) s.once('data', used)
    s.once('close', used)
  })
  if (http1) {
    const used = (req: { socket: Socket }): void => void unused.delete(req.socket)
    server.on('request', used)
    server.on('upgrade', used)
  }
  return () => {
    for (const s of unused) s.destroy()
    unused.clear()
  }
}
