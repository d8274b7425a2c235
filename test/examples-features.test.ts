import { execFileSync } from 'node:child_process'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot, tempDir } from './helpers.js'

// The examples import 'causeway', which resolves to dist/: `npm test` builds it first (pretest).
function run(example: string): string {
  return execFileSync(process.execPath, [path.join(repoRoot, 'examples', example)], {
    cwd: repoRoot,
    env: { ...process.env, CAUSEWAY_DATA: tempDir('example') },
    encoding: 'utf8',
  })
}

describe('feature examples', () => {
  it.each([
    ['projection.mjs', ['balance 95, applied 1 new event (cache hit: true)', 'stale decision refused: E_APPEND_CONDITION', 'final balance 45']],
    ['typestate.mjs', ['refused: transition ship leaves placed, but order:0@shop is in draft', 'order:0@shop is shipped at clock 3']],
    ['gates.mjs', ['denied by funded: INSUFFICIENT_FUNDS, recorded at clock 2', 'every denial at once: FROZEN, INSUFFICIENT_FUNDS']],
    ['causal-audit.mjs', ['walked 5 events back from clock 5: stopped at genesis', 'verified 10 events: 0 content mismatches, 0 broken links']],
    ['outbox.mjs', ['flushed as one batch: sequences 0, 1', 'refused batch wrote nothing: 2 events']],
    ['delivery.mjs', ['mailer handled: order:1, order:2', 'after restart the mailer resumes with: order:3', 'reactions: 3 invoices; invoice:2 caused by order:2', 'subscriber saw 3 invoices live']],
    ['opentelemetry.mjs', ['span causeway.append events=1 durable=true sequence=0', 'span causeway.appendBatch events=2 durable=false sequence=1', 'span causeway.append events=1 durable=false error E_SEQUENCE_MISMATCH']],
    ['enrolment.mjs', ['s3 -> c1: refused (course full)', 's1 -> c4: refused (student at the course limit)', 's4 -> c2: conflict, the decision is stale', 'c2 holds s1, s5, s4']],
    ['aggregations.mjs', ['09:00 OrderPlaced: 2 orders, revenue 200, basket 100, largest 120', '09:00 OrderRefunded: 1 orders, revenue 80, basket 80, largest 80', '09:10 OrderPlaced: 1 orders, revenue 0, basket null, largest null', 'closed 09:00: 3 orders, revenue 280', 'closed 09:05: 1 orders, revenue 400']],
    ['operations.mjs', ['600 events in', 'dropped', 'snapshot holds every event below sequence', 'opened from checkpoint: true']],
  ])('runs %s to completion with its expected output', (example, lines) => {
    const out = run(example) // throws on a non-zero exit
    for (const line of lines) expect(out).toContain(line)
  })
})
