/**
 * Target 10, canaries ("test the tests"): the addon is built with one planted
 * bug at a time (CAUSEWAY_CANARY_<NAME> in native/, scripts/reliability-canary.mjs)
 * and the reliability test that must catch it is run against that build
 * (CAUSEWAY_PREBUILD). Pass: the test fails for each planted bug, and the
 * failure is the test's own (the canary addon loaded).
 * The quick profile plants one bug (no lock); the full profile all six.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot } from '../helpers.js'
import { FULL, figure } from './profile.js'

const CANARIES: Array<{ name: string; bug: string; file: string; test: string }> = [
  { name: 'NO_LOCK', bug: 'lock not taken (no flock)', file: 'locking.test.ts', test: 'races of two processes' },
  { name: 'ACK_BEFORE_FSYNC', bug: 'ack before fsync', file: 'powerloss.test.ts', test: 'power-loss images' },
  { name: 'NO_DIR_FSYNC', bug: 'missing directory fsync', file: 'powerloss.test.ts', test: 'power-loss images' },
  { name: 'NO_CRC_CHECK', bug: 'CRC not checked', file: 'corruption.test.ts', test: 'never returns a wrong byte' },
  { name: 'TORN_BELOW_FRONTIER', bug: 'torn tail accepted below the frontier', file: 'torn-tail.test.ts', test: 'below the durable frontier' },
  { name: 'IGNORE_FSYNC_ERROR', bug: 'failed fsync retried and carried on', file: 'io-faults.test.ts', test: 'failed fsync' },
]

const caught: string[] = []

describe('target 10: canaries', () => {
  const list = FULL ? CANARIES : CANARIES.slice(0, 1)
  it.each(list)('fails $file when the addon is built with "$bug"', ({ name, bug, file, test }) => {
    const dir = execFileSync(process.execPath, [path.join(repoRoot, 'scripts/reliability-canary.mjs'), name], { encoding: 'utf8' }).trim()
    const env = { ...process.env, CAUSEWAY_PREBUILD: dir, CAUSEWAY_RELIABILITY: 'quick', CAUSEWAY_RELIABILITY_FIGURES: '' }
    const r = spawnSync(
      process.execPath,
      [path.join(repoRoot, 'node_modules/vitest/vitest.mjs'), 'run', `test/reliability/${file}`, '-t', test, '--typecheck.enabled=false'],
      { cwd: repoRoot, env, encoding: 'utf8', timeout: 300_000 },
    )
    const out = r.stdout + r.stderr
    expect(out, 'the canary addon did not load').not.toMatch(/could not load its native addon/)
    expect(out).toMatch(/(\d+) failed/)
    expect(r.status, `${file} passed with the planted bug "${bug}"`).not.toBe(0)
    caught.push(name)
  }, 600_000)

  it('reports the canaries caught', () => {
    figure(10, `${caught.length}/${list.length} planted bugs made the suite fail (${list.map((c) => `${c.bug}: ${caught.includes(c.name) ? 'caught' : 'MISSED'}`).join('; ')})`, { planted: list.length, caught: caught.length })
  })
})
