import { execFileSync } from 'node:child_process'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot, tempDir } from './helpers.js'

// The README's "Projection snapshots" and "Automatic maintenance" example; it imports 'causeway' (dist/, built by pretest).
describe('read model example', () => {
  it('runs read-model-maintenance.mjs: a snapshot hit after reopen, a background compaction and pruned snapshots', () => {
    const out = execFileSync(process.execPath, [path.join(repoRoot, 'examples', 'read-model-maintenance.mjs')], {
      cwd: repoRoot,
      env: { ...process.env, CAUSEWAY_DATA: tempDir('example') },
      encoding: 'utf8',
    })
    expect(out).toContain('first fold applied 1000 events')
    expect(out).toContain('after reopen: 1002 kWh, applied 1 new event (cache hit: true)')
    expect(out).toContain('maintenance compacted: zero readings dropped')
    expect(out).toContain('snapshots taken: 3 or more, kept: 2')
  })
})
