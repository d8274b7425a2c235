#!/usr/bin/env node
// The package's install script. It is optional: with --ignore-scripts (or a
// package manager that blocks install scripts) the prebuilt binary in
// prebuilds/ loads all the same. When scripts run, this checks that the
// addon loads, through the same loader the package uses at run time, and only
// when it does not (no prebuilt binary for this platform, a glibc older than
// the binary needs) or when a source build is asked for
// (npm_config_build_from_source=true, i.e. `npm install --build-from-source`)
// builds it with cmake-js.
//
// A source build needs what the package does not install for everyone: CMake
// and a C++20 compiler on the machine, and the npm packages cmake-js,
// node-addon-api (headers) and @c4312/blake3-native (the BLAKE3 C sources) in
// the project. They are not dependencies: every user would download them for a
// fallback that few need, and @c4312/blake3-native runs a node-gyp build of
// its own when installed with scripts. If they are missing, this says which
// and how to add them.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(path.join(root, 'package.json'))

// A development checkout (npm ci in the repository): `prepare` builds it.
if (fs.existsSync(path.join(root, 'scripts/build-ts.mjs'))) process.exit(0)

const fromSource = /^(true|1)$/.test(process.env.npm_config_build_from_source ?? '')

/** Loads the addon the way the package does, in a fresh process; '' when it loads, else the error. */
function loadError() {
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(root, 'dist/cjs/native/index.js'))}).native()`], {
    encoding: 'utf8',
  })
  return r.status === 0 ? '' : r.stderr.trim() || `exit code ${r.status}`
}

if (!fromSource) {
  const err = loadError()
  if (!err) process.exit(0)
  console.error(`causeway: the prebuilt addon does not load here, building from source.\n${err}\n`)
}

const missing = ['cmake-js', 'node-addon-api', '@c4312/blake3-native'].filter((name) => {
  try {
    require.resolve(`${name}/package.json`)
    return false
  } catch {
    return true
  }
})
if (missing.length) {
  console.error(
    [
      `causeway: a source build needs the npm packages ${missing.join(', ')}, which are not installed.`,
      '  Add the build tools to your project (CMake >= 3.15 and a C++20 compiler must be on the machine), then rebuild:',
      '    npm install --save-dev --ignore-scripts cmake-js node-addon-api @c4312/blake3-native',
      '    npm rebuild causeway',
    ].join('\n'),
  )
  process.exit(1)
}

const cmakeJs = path.join(path.dirname(require.resolve('cmake-js/package.json')), 'bin/cmake-js')
const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--log-level', 'warn'], { cwd: root, stdio: 'inherit' })
if (r.status !== 0) {
  console.error('causeway: the source build failed (see above). It needs CMake >= 3.15 and a C++20 compiler.')
  process.exit(r.status ?? 1)
}
const err = loadError()
if (err) {
  console.error(`causeway: built from source, but the addon still does not load:\n${err}`)
  process.exit(1)
}
