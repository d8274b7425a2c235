/**
 * Target 9, fuzzing of the native frame decoder, frame scanner, segment
 * open, writer-link decoders and the MessagePack field walker of
 * aggregations (native/fuzz/*_fuzz.cc) with ASan and UBSan. `npm run test:full`
 * and both reliability profiles replay the inputs kept in
 * test/fuzz/corpus/<target>/ (past crash inputs and regression seeds; the
 * replay compiles every core source under ASan, so it left `npm test` for
 * the ten-minute budget); the full profile also runs libFuzzer for 90 s
 * (clang-14 is installed with apt-get when missing), keeping any crash
 * input there.
 */
import { spawnSync } from 'node:child_process'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot } from '../helpers.js'
import { FULL, figure } from './profile.js'

const SCRIPT = path.join(repoRoot, 'scripts/reliability-fuzz.mjs')

function run(args: string[]): Array<{ target: string; engine: string; inputs?: number; execs?: number; seconds?: number; crashes: number; output?: string }> {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 })
  const lines = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
  expect(lines.length, `${args.join(' ')}: ${r.stderr.slice(-2000)}`).toBeGreaterThan(0)
  for (const l of lines) expect(l.crashes, `${l.target}: ${l.output ?? ''}`).toBe(0)
  expect(r.status, r.stderr.slice(-2000)).toBe(0)
  return lines
}

// libFuzzer and the sanitizers come from Debian's clang (apt-get): Linux only.
const notLinux = process.platform === 'linux' ? null : `libFuzzer and clang come from Debian's packages here, not on ${process.platform}`
// test:full sets CAUSEWAY_PORTS, scripts/reliability.mjs CAUSEWAY_RELIABILITY; plain npm test sets neither.
const replayHere = process.env['CAUSEWAY_PORTS'] !== undefined || process.env['CAUSEWAY_RELIABILITY'] !== undefined

describe.skipIf(notLinux !== null)(`target 9: fuzzing the native decoders${notLinux ? `: skipped, ${notLinux}` : ''}`, () => {
  it.skipIf(!replayHere)('replays every kept crash input and seed through the frame, segment and writer-link decoders and the MessagePack field walker clean under ASan and UBSan', () => {
    const lines = run(['replay'])
    figure(9, `replay under ASan+UBSan: ${lines.map((l) => `${l.target} ${l.inputs} inputs`).join(', ')}: 0 crashes, 0 sanitizer reports`, { replay: lines })
  }, 360_000) // compile-bound: every core source under ASan, two at a time, beside the rest of test:full

  it.skipIf(!FULL)('finds nothing in 90 s of libFuzzer with ASan and UBSan on the frame, segment and writer-link decoders and the MessagePack field walker', () => {
    const lines = run(['fuzz', '90'])
    figure(9, `libFuzzer+ASan+UBSan 90 s: ${lines.map((l) => `${l.target} ${l.execs} execs in ${l.seconds} s`).join(', ')}: 0 crashes (crash inputs would be kept in test/fuzz/corpus/<target>/)`, { fuzz: lines })
  })
})
