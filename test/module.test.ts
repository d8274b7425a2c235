import { execFileSync } from 'node:child_process'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot, tempDir } from './helpers.js'

function node(args: string[], cwd = repoRoot): string {
  return execFileSync(process.execPath, args, { cwd, encoding: 'utf8' })
}

describe('package entry points', () => {
  it('loads from CommonJS require and from ESM import, sharing one copy of every class', () => {
    const dir = tempDir()
    const script = `
      import { createRequire } from 'node:module'
      const require = createRequire(${JSON.stringify(path.join(repoRoot, 'package.json'))})
      const cjs = require('causeway')
      const esm = await import('causeway')
      const { Store, Coordinate, EventKind, StoreLockedError } = esm
      if (cjs.Store !== Store || cjs.StoreLockedError !== StoreLockedError) throw new Error('two copies of the classes')
      const s = Store.open({ dataDir: ${JSON.stringify(dir)} })
      const r = s.append(new Coordinate('a', 'b'), EventKind.custom(1, 1), { ok: true })
      try { cjs.Store.open({ dataDir: ${JSON.stringify(dir)} }) } catch (e) { console.log(e instanceof StoreLockedError, e.code) }
      console.log(typeof r.globalSequence, s.get(r.eventId).payload.ok)
      s.close()
    `
    const out = node(['--input-type=module', '-e', script])
    expect(out.trim().split('\n')).toEqual(['true E_STORE_LOCKED', 'bigint true'])
  })
})
