// The benchmark scripts are not run by `npm test` (their figures are no
// assertions), so a script that no longer parses would only show when someone
// runs `npm run bench`. Each one is checked with `node --check` here.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot } from './helpers.js'

function scripts(dir: string): string[] {
  const out: string[] = []
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules') continue
    const p = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...scripts(p))
    else if (e.name.endsWith('.mjs')) out.push(p)
  }
  return out
}

describe('benchmark scripts', () => {
  it('fails when a script under bench/ no longer parses', () => {
    const files = scripts(path.join(repoRoot, 'bench'))
    expect(files.length).toBeGreaterThan(10)
    const broken = files.filter((f) => spawnSync(process.execPath, ['--check', f], { encoding: 'utf8' }).status !== 0)
    expect(broken.map((f) => path.relative(repoRoot, f))).toEqual([])
  })
})
