import { execFileSync } from 'node:child_process'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot, tempDir } from './helpers.js'

describe('examples', () => {
  it('runs the npm start order-service demo twice on the same store', () => {
    const data = tempDir('demo')
    const run = () =>
      execFileSync(process.execPath, [path.join(repoRoot, 'examples/order-service.mjs')], {
        cwd: repoRoot,
        env: { ...process.env, CAUSEWAY_DATA: data },
        encoding: 'utf8',
      })
    const first = run()
    expect(first).toContain('invalid payload refused: /customer must be string')
    expect(first).toContain('types: order.placed, order.item-added, order.shipped')
    expect(first).toContain('1 orders so far, 2 items reserved, 8 events') // 4 of them the type definitions
    const second = run()
    expect(second).toContain('retry deduplicated: true, same event: true')
    expect(second).toContain('2 orders so far, 4 items reserved, 12 events') // the types defined once
  })
})
