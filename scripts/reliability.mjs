#!/usr/bin/env node
// The full reliability profile (npm run test:reliability): runs test/reliability/
// the bad-input table and the async operations (1M-event compaction beside
// the event loop) with CAUSEWAY_RELIABILITY=full (1000 SIGKILL cycles,
// 12,000 corruption trials, every I/O step, 90 s of libFuzzer, every canary),
// then prints the figures of each target and the wall time.
//   node scripts/reliability.mjs [quick]     the quick profile's counts instead
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const profile = process.argv[2] === 'quick' ? 'quick' : 'full'
const figures = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-figures-')), 'figures.jsonl')
const t0 = Date.now()
const r = spawnSync(
  process.execPath,
  [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', 'test/reliability', 'test/bad-input.test.ts', 'test/async-ops.test.ts', 'test/several-processes.test.ts', '--typecheck.enabled=false'],
  { cwd: root, stdio: 'inherit', env: { ...process.env, CAUSEWAY_RELIABILITY: profile, CAUSEWAY_RELIABILITY_FIGURES: figures, CAUSEWAY_CANARY: '1' } },
)
const secs = ((Date.now() - t0) / 1000).toFixed(0)
const rows = fs.existsSync(figures) ? fs.readFileSync(figures, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []
rows.sort((a, b) => a.target - b.target)
console.log(`\ncauseway reliability, ${profile} profile: ${secs} s on ${os.cpus().length} cores, vitest exit ${r.status}`)
for (const row of rows) console.log(`  ${String(row.target).padStart(2)}. ${row.text}`)
process.exitCode = r.status ?? 1
