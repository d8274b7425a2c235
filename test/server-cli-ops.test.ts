// `causeway serve` operations as a child process: SIGHUP re-reads the
// tokens file (a bad file keeps the old tokens and says why on stderr),
// --cors-origin and --rate-limit reach the server, and
// `causeway token create --expires` writes an expiry (a past one refused).
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { BIN, cli, requireBuild } from './cli-helpers.js'
import { tempDir } from './helpers.js'
import { exited } from './process-helpers.js'

beforeAll(requireBuild)

/** Polls `check` every 50 ms until it holds, for at most `ms`. */
async function until(check: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what} did not happen within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('causeway token create --expires', () => {
  it('writes expiresAt from a duration or a date, and refuses a date in the past with exit code 2', () => {
    const file = path.join(tempDir('cli-expires'), 'tokens.jsonl')
    expect(cli(['token', 'create', '--roles', 'read', '--id', 'a', '--expires', '30d', '--tokens', file]).code).toBe(0)
    expect(cli(['token', 'create', '--roles', 'read', '--id', 'b', '--expires', '2099-01-31', '--tokens', file]).code).toBe(0)
    const [a, b] = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { expiresAt: string })
    expect(Math.abs(Date.parse(a!.expiresAt) - (Date.now() + 30 * 86_400_000))).toBeLessThan(60_000)
    expect(b!.expiresAt).toBe('2099-01-31')
    const past = cli(['token', 'create', '--roles', 'read', '--expires', '2001-01-01', '--tokens', file])
    expect(past.code).toBe(2)
    expect(past.stderr).toContain('past')
  })
})

describe('causeway serve operations', () => {
  it('reloads the tokens file on SIGHUP, keeps the old tokens when the file is bad, and serves CORS and rate-limit flags', async () => {
    const dir = tempDir('cli-ops')
    const tokens = path.join(tempDir('cli-ops-tokens'), 'tokens.jsonl')
    const first = cli(['token', 'create', '--roles', 'read', '--tokens', tokens]).stdout.trim()
    const child = spawn(process.execPath, [BIN, 'serve', dir, '--tokens', tokens, '--cors-origin', 'https://app.example', '--rate-limit', '1000', '--rate-limit-window', '60000'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
    try {
      await until(() => out.includes('\n'), 10_000, `serve printing its URL (stderr: ${err})`)
      const base = out.trim()
      const get = (token: string) => fetch(`${base}/health`, { headers: { authorization: `Bearer ${token}`, origin: 'https://app.example' }, signal: AbortSignal.timeout(5000) })
      const r = await get(first)
      expect(r.status).toBe(200)
      expect(r.headers.get('access-control-allow-origin')).toBe('https://app.example')
      expect(r.headers.get('x-ratelimit-limit')).toBe('1000')

      const second = cli(['token', 'create', '--roles', 'read', '--tokens', tokens]).stdout.trim()
      expect((await get(second)).status).toBe(401)
      child.kill('SIGHUP')
      await until(() => err.includes('tokens reloaded'), 5000, 'the reload')
      expect((await get(second)).status).toBe(200)

      fs.appendFileSync(tokens, '{ not json\n')
      child.kill('SIGHUP')
      await until(() => err.includes('tokens not reloaded'), 5000, 'the refused reload')
      expect((await get(first)).status).toBe(200)
      child.kill('SIGTERM')
      await exited(child)
      expect(child.exitCode).toBe(0)
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
  })
})
