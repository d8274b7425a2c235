/**
 * The web console's static files at /ui/ (the repository's ui/ directory),
 * and Graphviz's browser build at /ui/vendor/viz.js (@viz-js/viz, where
 * installed). They carry no data, so they are the one kind of public
 * route; the page asks for a token and calls the JSON API with it.
 *
 * Safe by construction: the files that may be served are listed once at
 * startup (regular files inside ui/, no symlinks, no dot-files), and a
 * request is looked up in that list by name; anything else is 404. Every
 * answer carries a strict Content-Security-Policy (scripts from this
 * origin only; 'wasm-unsafe-eval' lets viz.js compile its WebAssembly).
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { FastifyReply } from 'fastify'
import { NotFoundError } from '../errors.js'
import { PUBLIC_PREFIX } from './route-info.js'
import type { RouteTable } from './routes.js'

export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
}

/** The ui/ directory: beside src/ (tests run the sources) or two above dist/cjs/server. */
export function findUiDir(): string | undefined {
  for (const up of ['../..', '../../..']) {
    const d = path.resolve(__dirname, up, 'ui')
    if (fs.existsSync(path.join(d, 'index.html'))) return d
  }
  return undefined
}

/** Graphviz's ES-module browser build, or undefined where @viz-js/viz is not installed. */
export function findVizBuild(resolve: (id: string) => string = require.resolve): string | undefined {
  try {
    // The package's "require" entry is dist/viz.cjs; its browser ES module lies beside it.
    const f = path.join(path.dirname(resolve('@viz-js/viz')), 'viz.js')
    return fs.statSync(f).isFile() ? f : undefined
  } catch {
    return undefined
  }
}

/** URL path (below /ui/) -> file, for every regular file under `dir`; symlinks and dot-files are left out. */
export function listFiles(dir: string, base = ''): Map<string, string> {
  const out = new Map<string, string>()
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    if (d.name.startsWith('.')) continue
    const abs = path.join(dir, d.name)
    const rel = base === '' ? d.name : `${base}/${d.name}`
    if (d.isFile() && TYPES[path.extname(d.name)] !== undefined) out.set(rel, abs)
    else if (d.isDirectory()) for (const [k, v] of listFiles(abs, rel)) out.set(k, v)
  }
  return out
}

function strict(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cache-control', 'no-cache')
}

export function uiRoutes(t: RouteTable): void {
  const dir = findUiDir()
  const files = dir ? listFiles(dir) : new Map<string, string>()
  const viz = findVizBuild()
  if (viz) files.set('vendor/viz.js', viz)

  const serveFile = async (name: string, reply: FastifyReply): Promise<FastifyReply> => {
    const file = files.get(name)
    if (file === undefined) throw new NotFoundError(`no console file ${name}`)
    const body = await fs.promises.readFile(file)
    return strict(reply).code(200).type(TYPES[path.extname(file)]!).send(body)
  }

  t.add('GET', PUBLIC_PREFIX, 'public', async (_req, reply) => strict(reply).redirect(`${PUBLIC_PREFIX}/`, 302), {
    tag: 'console',
    summary: 'The web console (redirects to /ui/)',
  })
  t.add('GET', `${PUBLIC_PREFIX}/*`, 'public', async (req, reply) => {
    // The wildcard as fastify decoded it; an empty one is the index page.
    const name = (req.params as { '*': string })['*']
    return serveFile(name === '' ? 'index.html' : name, reply)
  }, { tag: 'console', summary: "The web console's static files (no data; no token needed)" })
}
