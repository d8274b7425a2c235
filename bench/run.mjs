#!/usr/bin/env node
// `npm run bench`: installs the benchmark-only peers (lmdb, better-sqlite3,
// emmett-sqlite) into bench/node_modules on first use, then runs the comparison suite.
// Nothing here is part of `npm test` or of the published package.
//
//   node bench/run.mjs                       1,000,000 events, 3 runs
//   BENCH_EVENTS=100000 node bench/run.mjs   a quick run
//   BENCH_RUNS=1 BENCH_ONLY=causeway,fs node bench/run.mjs
//
// See bench/lib/suite.mjs for every environment variable.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const benchDir = path.dirname(fileURLToPath(import.meta.url))
const rootDir = path.resolve(benchDir, '..')

function installed(name) {
  return fs.existsSync(path.join(benchDir, 'node_modules', name, 'package.json'))
}

if (!fs.existsSync(path.join(rootDir, 'dist', 'esm', 'index.mjs'))) {
  console.error('bench: causeway is not built (dist/esm/index.mjs is missing); run `npm run build` first')
  process.exit(1)
}

if (!installed('lmdb') || !installed('better-sqlite3')) {
  console.error('bench: installing the benchmark peers into bench/node_modules (better-sqlite3 may compile from source, ~1 min)...')
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  // Native peers without a reachable prebuilt binary compile against the
  // system's Node headers (Debian's nodejs ships them) instead of downloading them.
  const env = { ...process.env }
  if (!env.npm_config_nodedir && fs.existsSync('/usr/include/node/node.h')) env.npm_config_nodedir = '/usr'
  const r = spawnSync(npm, ['install', '--prefix', 'bench', '--no-audit', '--no-fund'], { cwd: rootDir, stdio: 'inherit', env })
  if (r.status !== 0 || !installed('lmdb') || !installed('better-sqlite3')) {
    console.error('bench: npm install --prefix bench failed')
    process.exit(r.status || 1)
  }
}

const suite = path.join(benchDir, 'lib', 'suite.mjs')
const r = spawnSync(process.execPath, ['--expose-gc', suite, ...process.argv.slice(2)], { stdio: 'inherit' })
process.exit(r.status ?? (r.signal ? 1 : 0))
