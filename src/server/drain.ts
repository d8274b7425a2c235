/**
 * Graceful close for HTTP/2 (with its HTTP/1.1 fallback). fastify closes
 * idle HTTP/1.1 keep-alive connections itself on a plain server, but an
 * HTTP/2 server has no such call: an idle session, or an idle HTTP/1.1
 * connection on the TLS port, would hold close() until its timeout
 * (72 s). This tracks both, and on close sends each session a GOAWAY
 * (session.close(): streams in flight finish, no new one starts) and ends
 * each idle HTTP/1.1 connection; busy ones end after their response
 * (serve()'s onSend hook adds Connection: close once closing).
 */
import type { Http2SecureServer, Http2Session } from 'node:http2'
import type { Socket } from 'node:net'

export function trackHttp2(server: Http2SecureServer): () => void {
  const sessions = new Set<Http2Session>()
  const h1 = new Map<Socket, number>() // HTTP/1.1 socket -> requests in flight
  server.on('session', (s: Http2Session) => {
    sessions.add(s)
    s.once('close', () => sessions.delete(s))
  })
  server.on('request', (req, res) => {
    if (req.httpVersionMajor !== 1) return
    const sock = req.socket as Socket
    if (!h1.has(sock)) sock.once('close', () => h1.delete(sock))
    h1.set(sock, (h1.get(sock) ?? 0) + 1)
    res.once('close', () => {
      const n = h1.get(sock)
      if (n !== undefined) h1.set(sock, n - 1)
    })
  })
  return () => {
    for (const s of sessions) s.close()
    for (const [sock, inFlight] of h1) if (inFlight === 0) sock.destroy()
  }
}
