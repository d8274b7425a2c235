#!/usr/bin/env node
// Builds the addon with one planted bug (reliability target 10):
//   node scripts/reliability-canary.mjs NAME   ->  build/canary/<name>/build/Release/causeway.node
// NAME is one of the CAUSEWAY_CANARY_<NAME> switches in native/ (ACK_BEFORE_FSYNC, NO_DIR_FSYNC,
// NO_CRC_CHECK, TORN_BELOW_FRONTIER, NO_LOCK, IGNORE_FSYNC_ERROR). Load it with
// CAUSEWAY_PREBUILD=build/canary/<name>. Prints the directory.
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const name = process.argv[2]
if (!/^[A-Z_]+$/.test(name ?? '')) {
  console.error('usage: reliability-canary.mjs NAME')
  process.exit(2)
}
const dir = path.join(root, 'build/canary', name.toLowerCase())
fs.mkdirSync(dir, { recursive: true })
const cmakeJs = path.join(root, 'node_modules/cmake-js/bin/cmake-js')
execFileSync(process.execPath, [cmakeJs, 'compile', '--log-level', 'warn', '-O', path.join(dir, 'build'), `--CDCAUSEWAY_CANARY=${name}`], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
if (!fs.existsSync(path.join(dir, 'build/Release/causeway.node'))) throw new Error(`no addon built in ${dir}`)
console.log(dir)
