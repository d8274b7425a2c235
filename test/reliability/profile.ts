/**
 * The reliability suite's two profiles and its figures.
 *
 * Quick (inside `npm test`): scaled-down counts, at most 3 minutes on 2 cores.
 * Full (`npm run test:reliability`, CAUSEWAY_RELIABILITY=full): the targets'
 * counts, fuzzing and every canary. Each file records the figure of its
 * target; they are printed when the file ends, and appended as JSON lines to
 * CAUSEWAY_RELIABILITY_FIGURES when set (scripts/reliability.mjs prints the table).
 */
import * as fs from 'node:fs'
import { afterAll } from 'vitest'

export const PROFILE: 'quick' | 'full' = process.env.CAUSEWAY_RELIABILITY === 'full' ? 'full' : 'quick'
export const FULL = PROFILE === 'full'

/** The quick or the full count. */
export function scale<T>(quick: T, full: T): T {
  return FULL ? full : quick
}

export const TARGETS: Record<number, string> = {
  1: 'process crash (SIGKILL)',
  2: 'simulated power loss',
  3: 'torn tail',
  4: 'corruption',
  5: 'I/O faults',
  6: 'locking',
  7: 'compaction and snapshot killed',
  8: 'bad input and model',
  9: 'fuzzing',
  10: 'canaries',
}

const lines: string[] = []

/** Records one result line of a target, printed when the file's tests end. */
export function figure(target: number, text: string, data: Record<string, unknown> = {}): void {
  const line = `[reliability ${PROFILE}] target ${target} (${TARGETS[target]}): ${text}`
  lines.push(line)
  const file = process.env.CAUSEWAY_RELIABILITY_FIGURES
  if (file) fs.appendFileSync(file, JSON.stringify({ target, profile: PROFILE, text, ...data }) + '\n')
}

afterAll(() => {
  if (lines.length) console.log(lines.splice(0).join('\n'))
})

/** A small deterministic PRNG (mulberry32), so a failing trial can be replayed from its seed. */
export function rng(seed: number): (n: number) => number {
  let a = seed >>> 0
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (((t ^ (t >>> 14)) >>> 0) % n) >>> 0
  }
}
