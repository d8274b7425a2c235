// Shared by the service tests (server-*.test.ts): a store in a temp dir
// served on 127.0.0.1 port 0, tokens with each role, and a fetch helper.
// Every server and store started here is stopped after each test.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterEach } from 'vitest'
import { Store } from '../src/index.js'
import { hashToken, serve, type Server, type ServeOptions, type TokenEntry } from '../src/server/index.js'
import { tempDir } from './helpers.js'

/** Tokens (the secrets) by name; their entries are in TOKEN_ENTRIES. */
export const TOKENS = {
  reader: 'reader-secret-token',
  appender: 'appender-secret-token',
  admin: 'admin-secret-token',
  shopOnly: 'shop-only-secret-token',
  shopReader: 'shop-reader-secret-token',
  shopAdmin: 'shop-admin-secret-token',
  tagOnly: 'tag-only-secret-token',
  tagReader: 'tag-reader-secret-token',
  tagAdmin: 'tag-admin-secret-token',
} as const

export const TOKEN_ENTRIES: TokenEntry[] = [
  { id: 'reader', hash: hashToken(TOKENS.reader), roles: ['read'] },
  { id: 'appender', hash: hashToken(TOKENS.appender), roles: ['append'] },
  { id: 'admin', hash: hashToken(TOKENS.admin), roles: ['admin'] },
  { id: 'shop-only', hash: hashToken(TOKENS.shopOnly), roles: ['read', 'append'], scopes: ['shop'] },
  { id: 'shop-reader', hash: hashToken(TOKENS.shopReader), roles: ['read'], scopes: ['shop'] },
  { id: 'shop-admin', hash: hashToken(TOKENS.shopAdmin), roles: ['admin'], scopes: ['shop'] },
  // Restricted to events tagged tenant:shop (any scope).
  { id: 'tag-only', hash: hashToken(TOKENS.tagOnly), roles: ['read', 'append'], tags: ['tenant:shop'] },
  { id: 'tag-reader', hash: hashToken(TOKENS.tagReader), roles: ['read'], tags: ['tenant:shop'] },
  { id: 'tag-admin', hash: hashToken(TOKENS.tagAdmin), roles: ['admin'], tags: ['tenant:shop'] },
]

const open: Array<{ server?: Server; store: Store }> = []

afterEach(async () => {
  for (const { server, store } of open.splice(0)) {
    await server?.close()
    store.close()
  }
})

export interface Served {
  store: Store
  server: Server
  dir: string
  /** A request to the server; `token` adds the Authorization header; JSON bodies unless `raw`. */
  req(method: string, url: string, init?: { token?: string | undefined; body?: unknown; raw?: NonNullable<RequestInit['body']>; headers?: Record<string, string>; redirect?: 'follow' | 'manual' }): Promise<Response>
}

export async function served(options: Partial<ServeOptions> = {}, storeOptions: { maxPayloadBytes?: number; subscriberCapacity?: number; segmentMaxBytes?: number } = {}): Promise<Served> {
  const dir = tempDir('serve')
  const store = Store.open({ dataDir: dir, ...storeOptions })
  const entry: { server?: Server; store: Store } = { store }
  open.push(entry)
  const server = await serve(store, { ...(options.insecureLocal ? {} : { tokens: TOKEN_ENTRIES }), ...options } as ServeOptions)
  entry.server = server
  const req: Served['req'] = (method, url, init = {}) => {
    const headers: Record<string, string> = { ...(init.headers ?? {}) }
    if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`
    let body: RequestInit['body'] | undefined = init.raw
    if (init.body !== undefined) {
      headers['content-type'] ??= 'application/json'
      body = JSON.stringify(init.body)
    }
    return fetch(server.url + url, { method, headers, ...(body !== undefined ? { body } : {}), ...(init.redirect ? { redirect: init.redirect } : {}), signal: AbortSignal.timeout(10_000) })
  }
  return { store, server, dir, req }
}

/** The `{ error: { code } }` of a response, with its status. */
export async function errorOf(r: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await r.json()) as { error?: { code: string; message: string } }
  return { status: r.status, code: body.error?.code ?? '(no error body)', message: body.error?.message ?? '' }
}

/**
 * A self-signed certificate for 127.0.0.1 made by openssl in `dir`, or the
 * reason it could not be made (the TLS tests skip with it).
 */
export function testCertificate(dir: string): { cert: Buffer; key: Buffer } | { skip: string } {
  const keyFile = path.join(dir, 'key.pem')
  const certFile = path.join(dir, 'cert.pem')
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile,
    '-out', certFile, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8', timeout: 10_000 })
  if (made.status !== 0) return { skip: `openssl could not make a test certificate: ${made.error?.message ?? made.stderr}` }
  return { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) }
}
