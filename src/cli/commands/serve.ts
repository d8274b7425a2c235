import * as fs from 'node:fs'
import * as path from 'node:path'
import type { Command } from 'commander'
import { isCausewayError } from '../../index.js'
import { DEFAULT_RATE_LIMIT, serve, type Server, type ServeOptions } from '../../server/index.js'
import { checkServeOptions } from '../../server/options.js'
import { UsageError } from '../errors.js'
import { integer } from '../parse.js'
import { openStore } from '../store-dir.js'

interface ServeOpts {
  port: number
  host: string
  tlsCert?: string
  tlsKey?: string
  http2?: boolean
  tokens?: string
  insecureLocal?: boolean
  backupDir?: string
  bodyLimit?: number
  /** commander's --no-rate-limit sets it false. */
  rateLimit: number | false | undefined
  rateLimitWindow?: number
  corsOrigin?: string[]
  requestTimeout?: number
}

function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v]
}

/**
 * On SIGHUP, re-reads the tokens file: a bad file keeps the old tokens
 * and says why on stderr. Returns the function that removes the handler.
 */
function reloadOnHangup(server: Server, file: string): () => void {
  const on = () => {
    try {
      server.reloadTokens(file)
      process.stderr.write(`causeway serve: tokens reloaded from ${file}\n`)
    } catch (e) {
      process.stderr.write(`causeway serve: tokens not reloaded, the old ones stay: ${(e as Error).message}\n`)
    }
  }
  process.on('SIGHUP', on)
  return () => process.off('SIGHUP', on)
}

function readPem(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file)
  } catch (e) {
    throw new UsageError(`cannot read the ${what} ${file}: ${(e as Error).message}`)
  }
}

/** Resolves on the first SIGTERM or SIGINT (the handlers are removed then). */
function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGTERM', on)
      process.off('SIGINT', on)
      resolve(sig)
    }
    process.on('SIGTERM', on)
    process.on('SIGINT', on)
  })
}

export function serveCommand(program: Command): void {
  program
    .command('serve')
    .summary('serve a store over HTTP (needs fastify)')
    .description('Serve a store over HTTP/HTTPS (causeway/server): append, read, query, stats, metrics, admin. Needs the fastify package.')
    .argument('<dir>', 'the store directory (created when missing); this process becomes its writer')
    .option('--port <n>', 'the port; 0 picks a free one', integer(0, 65535), 0)
    .option('--host <address>', 'the address to listen on', '127.0.0.1')
    .option('--tls-cert <file>', 'HTTPS: the certificate chain (PEM)')
    .option('--tls-key <file>', 'HTTPS: the private key (PEM)')
    .option('--http2', 'HTTP/2 over TLS (HTTP/1.1 clients still served); needs --tls-cert and --tls-key')
    .option('--tokens <file>', 'the tokens file (causeway token create writes it)')
    .option('--insecure-local', 'no authentication: only with a loopback --host')
    .option('--backup-dir <dir>', 'where admin snapshots may be written (a snapshot dest must resolve inside it)')
    .option('--body-limit <bytes>', 'the largest request body accepted (default 1048576)', integer(1, 1 << 30))
    .option('--request-timeout <ms>', 'a request not received in full within this is answered 408 (default 30000)', integer(1, 3_600_000))
    .option('--rate-limit <n>', `requests per token (or per address without one) per window (default ${DEFAULT_RATE_LIMIT.max})`, integer(1, 1e9))
    .option('--rate-limit-window <ms>', `the rate limit's window (default ${DEFAULT_RATE_LIMIT.timeWindowMs})`, integer(1, 86_400_000))
    .option('--no-rate-limit', 'no rate limit at all')
    .option('--cors-origin <origin>', 'allow cross-origin requests from this exact origin (repeatable); default: CORS off', collect)
    .addHelpText(
      'after',
      `
Prints the URL once listening. SIGTERM or SIGINT: stops accepting, finishes
the requests in flight, syncs and closes the store, exits 0. SIGHUP: re-reads
the tokens file (a bad file keeps the old tokens; the error goes to stderr).

Examples:
  causeway token create --roles read,append --tokens ./tokens.jsonl
  causeway serve ./data --port 8080 --tokens ./tokens.jsonl
  causeway serve ./data --insecure-local`,
    )
    .action(async (dir: string, opts: ServeOpts) => {
      if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together')
      if (opts.tokens === undefined && !opts.insecureLocal) throw new UsageError('give --tokens <file>, or --insecure-local on a loopback --host')
      const options: ServeOptions = { host: opts.host, port: opts.port }
      if (opts.tlsCert !== undefined && opts.tlsKey !== undefined) {
        options.tls = { cert: readPem(opts.tlsCert, 'certificate'), key: readPem(opts.tlsKey, 'key') }
      }
      if (opts.http2) options.http2 = true
      if (opts.tokens !== undefined) options.tokens = path.resolve(opts.tokens)
      if (opts.insecureLocal) options.insecureLocal = true
      if (opts.backupDir !== undefined) options.backupDir = path.resolve(opts.backupDir)
      if (opts.bodyLimit !== undefined) options.bodyLimit = opts.bodyLimit
      if (opts.requestTimeout !== undefined) options.requestTimeoutMs = opts.requestTimeout
      if (opts.rateLimit === false) {
        if (opts.rateLimitWindow !== undefined) throw new UsageError('--rate-limit-window and --no-rate-limit contradict each other')
        options.rateLimit = false
      } else if (opts.rateLimit !== undefined || opts.rateLimitWindow !== undefined) {
        options.rateLimit = { max: opts.rateLimit ?? DEFAULT_RATE_LIMIT.max, timeWindowMs: opts.rateLimitWindow ?? DEFAULT_RATE_LIMIT.timeWindowMs }
      }
      if (opts.corsOrigin !== undefined) options.cors = { origins: opts.corsOrigin }
      try {
        checkServeOptions(options)
      } catch (e) {
        // A refused option (insecure-local off loopback, a bad tokens file) is the command line's
        // fault, found before the store is opened (or created).
        if (isCausewayError(e, 'E_INVALID_ARGUMENT')) throw new UsageError(e.message)
        throw e
      }
      const store = openStore(path.resolve(dir), false)
      const stopped = stopSignal()
      try {
        const server = await serve(store, options)
        const unhook = options.tokens !== undefined ? reloadOnHangup(server, options.tokens as string) : () => {}
        process.stdout.write(`${server.url}\n`)
        await stopped
        unhook()
        await server.close()
      } finally {
        store.close()
      }
    })
}
