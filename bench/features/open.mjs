// Open: reopen from the index checkpoint against a full scan, a fresh process
// per open.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import {
  fmtInt,
  fmtRatio,
  freshDir,
  markdownTable,
  median,
  removeDir,
} from '../lib/workload.mjs'
import { Store, libDir, N, RUNS, log, problem, raw, settle, fillWorkload } from './common.mjs'

function probe(dir) {
  const p = spawnSync(process.execPath, ['--expose-gc', path.join(libDir, 'open-ckpt-probe.mjs'), dir], { encoding: 'utf8', maxBuffer: 1 << 20 })
  if (p.status !== 0) {
    const why = p.signal ? `crashed (${p.signal})` : `failed (exit ${p.status})`
    problem(`open probe on ${path.basename(dir)} ${why}: ${(p.stderr || '').trim().split('\n').slice(-3).join(' | ')}`)
    return null
  }
  return JSON.parse(p.stdout.trim().split('\n').pop())
}

export async function openBench(root) {
  log('open: checkpoint vs full scan (fresh process per open)...')
  const sizes = [...new Set([Math.min(100_000, N), N])]
  const rows = []
  const res = {}
  for (const size of sizes) {
    const dir = freshDir(root, `open-${size}`)
    const s = Store.open({ dataDir: dir })
    fillWorkload(s, 0, size)
    s.close()
    const ckpt = path.join(dir, 'index.ckpt')
    if (!fs.existsSync(ckpt)) problem(`open ${size}: no index.ckpt after close`)
    const r = (res[size] = { ckpt: [], scan: [] })
    for (let run = 0; run < RUNS; run++) {
      settle()
      const a = probe(dir) // close rewrites the checkpoint
      if (a) r.ckpt.push(a)
      fs.rmSync(ckpt, { force: true })
      settle()
      const b = probe(dir)
      if (b) r.scan.push(b)
      if (!fs.existsSync(ckpt)) problem(`open ${size}: no index.ckpt after closing a store opened by a full scan`)
      log(`  run ${run + 1} ${fmtInt(size).padStart(9)} events: checkpoint ${a ? `${a.wallMs.toFixed(1)} ms (fromCheckpoint=${a.openedFromCheckpoint})` : 'failed'}, full scan ${b ? `${b.wallMs.toFixed(1)} ms (fromCheckpoint=${b.openedFromCheckpoint})` : 'failed'}`)
    }
    for (const [how, want] of [['ckpt', true], ['scan', false]]) {
      const ok = r[how]
      for (const x of ok) {
        if (x.openedFromCheckpoint !== want) problem(`open ${size} (${how}): openedFromCheckpoint = ${x.openedFromCheckpoint}, expected ${want}`)
        if (x.events !== size) problem(`open ${size} (${how}): ${x.events} events after reopen, expected ${size}`)
      }
    }
    const m = (how, f) => median(r[how].map(f))
    const scanMs = m('scan', (x) => x.wallMs)
    for (const [how, label] of [['ckpt', 'from index.ckpt'], ['scan', 'full scan (index.ckpt deleted)']]) {
      if (r[how].length === 0) {
        rows.push([fmtInt(size), label, 'failed', '', '', '', '', '', ''])
        continue
      }
      const ms = m(how, (x) => x.wallMs)
      rows.push([
        fmtInt(size),
        label,
        ms.toFixed(1),
        m(how, (x) => x.openMs).toFixed(1),
        fmtRatio(ms / scanMs),
        fmtInt((size / ms) * 1000),
        (m(how, (x) => x.indexBytes) / size).toFixed(1),
        (m(how, (x) => x.rssDelta) / size).toFixed(1),
        (m(how, (x) => x.anonDelta) / size).toFixed(1),
      ])
    }
    if (size === N) res.keepDir = dir
    else removeDir(dir)
  }
  raw.open = res
  const big = res[N]
  return {
    table: markdownTable(
      ['events', 'open', 'open ms (wall)', 'stats().openMs', 'time vs full scan', 'events/s loaded', 'index bytes/event', 'RSS delta bytes/event', 'anon RSS delta bytes/event'],
      rows,
      ['r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    keepDir: res.keepDir,
    summary: {
      ckptMs: median(big.ckpt.map((x) => x.wallMs)),
      scanMs: median(big.scan.map((x) => x.wallMs)),
      indexBytesPerEvent: median(big.ckpt.map((x) => x.indexBytes)) / N,
    },
  }
}
