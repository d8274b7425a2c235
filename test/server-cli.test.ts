// `causeway serve` and `causeway token create` as child processes
// (bin/causeway -> dist/cjs/cli/main.js): the URL printed once listening,
// a real request, SIGTERM closing gracefully with exit code 0, and the
// appended event in the store afterwards.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { Store } from '../src/index.js'
import { BIN, cli, requireBuild } from './cli-helpers.js'
import { repoRoot, tempDir } from './helpers.js'
import { exited } from './process-helpers.js'

beforeAll(requireBuild)

/** Spawns `causeway serve ...`; resolves with the URL it prints (or rejects with its stderr if it exits first). */
function startServe(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  const url = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const nl = out.indexOf('\n')
      if (nl >= 0) resolve(out.slice(0, nl))
    })
    child.once('exit', (code) => reject(new Error(`serve exited with ${code} before listening: ${err}`)))
    setTimeout(() => reject(new Error(`serve printed no URL within 10 s: ${err}`)), 10_000).unref()
  })
  return { child, url, stderr: () => err }
}

describe('the causeway/server entry point', () => {
  it('loads from CommonJS require and ESM import as one copy, sharing the error classes of the main entry', () => {
    const script = `
      import { createRequire } from 'node:module'
      const require = createRequire(${JSON.stringify(path.join(repoRoot, 'package.json'))})
      const cjs = require('causeway/server')
      const esm = await import('causeway/server')
      const main = await import('causeway')
      if (cjs.serve !== esm.serve || typeof esm.default.serve !== 'function') throw new Error('two copies of serve')
      try { esm.loadFastify(() => { throw Object.assign(new Error("Cannot find module 'fastify'"), { code: 'MODULE_NOT_FOUND' }) }) }
      catch (e) { console.log(e instanceof main.MissingDependencyError, e.code) }
    `
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8' })
    expect(out.trim()).toBe('true E_MISSING_DEPENDENCY')
  })
})

describe('causeway serve', () => {
  it('prints its URL, serves an authenticated append, and on SIGTERM closes gracefully with exit code 0, the event kept', async () => {
    const dir = tempDir('cli-serve')
    const tokens = path.join(tempDir('cli-tokens'), 'tokens.jsonl')
    const made = cli(['token', 'create', '--roles', 'read,append', '--scope', 'shop', '--tokens', tokens])
    expect(made.code, made.stderr).toBe(0)
    const token = made.stdout.trim()
    expect(token).toMatch(/^cw_[A-Za-z0-9_-]{43}$/)
    expect(fs.statSync(tokens).mode & 0o777).toBe(0o600)
    expect(fs.readFileSync(tokens, 'utf8')).not.toContain(token)

    const { child, url } = startServe([dir, '--port', '0', '--tokens', tokens])
    try {
      const base = await url
      expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      const r = await fetch(`${base}/v1/append`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ entity: 'order:1', scope: 'shop', kind: 0x1001, payload: { via: 'http' } }),
        signal: AbortSignal.timeout(5000),
      })
      expect(r.status, await r.clone().text()).toBe(200)
      expect((await fetch(`${base}/health`, { signal: AbortSignal.timeout(5000) })).status).toBe(401)
      child.kill('SIGTERM')
      await exited(child)
      expect(child.exitCode).toBe(0)
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
    const s = Store.open({ dataDir: dir })
    try {
      expect(s.stream('order:1').map((e) => e.payload)).toEqual([{ via: 'http' }])
    } finally {
      s.close()
    }
  })

  it('refuses --insecure-local on a non-loopback host, and no authentication at all, with exit code 2', () => {
    const dir = tempDir('cli-serve-insecure')
    // Bounded: a serve that wrongly started would otherwise run until the test times out.
    const bounded = (args: string[]) => {
      const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 10_000 })
      return { code: r.status, stderr: r.stderr }
    }
    const r = bounded(['serve', dir, '--insecure-local', '--host', '0.0.0.0'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('loopback')
    expect(fs.readdirSync(dir)).toEqual([])
    const none = bounded(['serve', dir])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('--tokens')
    expect(cli(['token', 'create', '--roles', 'root', '--tokens', path.join(dir, 't')]).code).toBe(2)
  })

  it('writes a token restricted to tags with --tag, and refuses a tag with a control character with exit code 2, writing nothing', () => {
    const tokens = path.join(tempDir('cli-tag-tokens'), 'tokens.jsonl')
    const made = cli(['token', 'create', '--roles', 'read,append', '--tag', 'tenant:a,tenant:b', '--tag', 'tenant:c', '--tokens', tokens])
    expect(made.code, made.stderr).toBe(0)
    expect(JSON.parse(fs.readFileSync(tokens, 'utf8')).tags).toEqual(['tenant:a', 'tenant:b', 'tenant:c'])
    const bad = cli(['token', 'create', '--roles', 'read', '--tag', 'bad\u0001tag', '--tokens', tokens])
    expect(bad.code, bad.stderr).toBe(2)
    expect(fs.readFileSync(tokens, 'utf8').trim().split('\n')).toHaveLength(1)
  })
})
