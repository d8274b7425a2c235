// Builds dist/: the CommonJS build with tsc, and an ESM entry that re-exports
// it, so ESM and CommonJS users share one copy of every class (no dual-package
// hazard: one addon instance, one set of error classes).
import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
rmSync(join(root, 'dist'), { recursive: true, force: true })
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], {
  stdio: 'inherit',
})
writeFileSync(join(root, 'dist/cjs/package.json'), '{ "type": "commonjs" }\n')
mkdirSync(join(root, 'dist/esm'), { recursive: true })
// Each entry point (package.json "exports"): the main one, causeway/server,
// causeway/client, causeway/emmett and causeway/replicate (NATS loads only
// when replicate() or openReplica() runs). The server entry loads fastify only
// when serve() runs, and the emmett one loads Emmett only when an adapter is
// made, so requiring them here needs neither. The ESM emmett entry hands
// Emmett's ESM module to the adapter (useEmmett): ESM applications then get
// their own error classes.
const preludes = {
  emmett: "import * as emmett from '@event-driven-io/emmett'\n",
}
const afterImport = {
  emmett: 'cjs.useEmmett(emmett)\n',
}
for (const [esm, cjsPath] of [
  ['index', 'index.js'],
  ['server', 'server/index.js'],
  ['client', 'client/index.js'],
  ['emmett', 'emmett/index.js'],
  ['replicate', 'replicate/index.js'],
]) {
  const cjs = require(join(root, 'dist/cjs', cjsPath))
  const names = Object.keys(cjs).filter((n) => n !== 'default' && n !== '__esModule').sort()
  writeFileSync(
    join(root, `dist/esm/${esm}.mjs`),
    `// ESM entry: re-exports the CommonJS build so both share one instance.\n${preludes[esm] ?? ''}import cjs from '../cjs/${cjsPath}'\n${afterImport[esm] ?? ''}export const { ${names.join(', ')} } = cjs\nexport default cjs\n`,
  )
  // The ESM declarations are the CommonJS ones, plus the default export the ESM
  // entry has (the CommonJS module object).
  writeFileSync(
    join(root, `dist/esm/${esm}.d.mts`),
    `import cjs from '../cjs/${cjsPath}'\nexport * from '../cjs/${cjsPath}'\nexport default cjs\n`,
  )
}
// causeway/client for browsers: plain ES modules (no node: module, no addon),
// under the "browser" condition of "./client".
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.browser.json')], {
  stdio: 'inherit',
})
writeFileSync(join(root, 'dist/browser/package.json'), '{ "type": "module" }\n')
