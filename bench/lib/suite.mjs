// The comparison suite: every contender, every workload, BENCH_RUNS times in
// one process (contender order rotated each run), then Markdown tables of
// medians. Started by bench/run.mjs as `node --expose-gc bench/lib/suite.mjs`.
//
// Environment: BENCH_EVENTS (default 1,000,000), BENCH_DURABLE_EVENTS (2,000),
// BENCH_RUNS (3), BENCH_ONLY (comma-separated contender ids),
// BENCH_JSON (write every run's raw figures to this file).
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { contenders as allContenders, peerVersions } from './contenders.mjs'
import {
  BENCH_DIR,
  MSGPACKR_VERSION,
  avgPayloadBytes,
  config,
  dirBytes,
  fmtInt,
  fmtRatio,
  freshDir,
  gc,
  markdownTable,
  median,
  now,
  removeDir,
  removeScratchRoot,
  sampleEntities,
  scratchRoot,
} from './workload.mjs'

const N = config.events
const D = config.durableEvents
const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((s) => s.trim())) : null
const contenders = allContenders.filter((c) => !only || only.has(c.id))
const probeScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'open-probe.mjs')

// Which contender runs which workloads: the plain peers, causeway without
// background sync and the growing-file floor are write-only rows; reads run on
// causeway, the indexed peers and (scans only) the floor.
const WRITES = ['single', 'batch', 'durable']
const READS = ['scanDecode', 'scanHeaders', 'scanDecodeForOf', 'scanDecodeQuery', 'scanHeadersQuery', 'stream', 'scope', 'kind', 'scopeKind']
const doesWrite = (c, w) => (c.writes ?? WRITES).includes(w)
const doesRead = (c, r) => c.reads && typeof c.reads[r] === 'function'
const doesProbe = (c) => typeof c.reopen === 'function' && c.reads

const READ_LABEL = {
  scanDecode: 'full scan + decode',
  scanHeaders: 'full scan, headers only',
  scanDecodeForOf: 'full scan + decode, for...of query() (causeway only)',
  scanDecodeQuery: 'full scan + decode, query()[i] (causeway only)',
  scanHeadersQuery: 'full scan, headers only, query()[i] (causeway only)',
  stream: 'one entity (stream)',
  scope: 'by scope',
  kind: 'by kind',
  scopeKind: 'scope + kind',
}
const WRITE_LABEL = {
  single: `(a) single appends`,
  batch: `(b) batches of ${config.batch}`,
  durable: `(c) durable single appends`,
}

// Read-workload arguments (the same for every contender).
const readArgs = {
  stream: sampleEntities(1000),
  scope: [3],
  kind: [2],
  scopeKind: Array.from({ length: config.scopes }, (_, s) => [s, (s % config.kinds) + 1]),
}

const results = {} // results[id][workload] = [events/s per run]
const openResults = {} // openResults[id] = [probe result per run]
const diskBytes = {} // diskBytes[id] = [bytes per event after (a), per run]
const checks = {} // checks[read] = { 'id run N': 'events/check' }, compared across contenders and runs
const push = (o, id, k, v) => (((o[id] ??= {})[k] ??= []).push(v))

function settle() {
  gc()
  try {
    execFileSync('sync')
  } catch {}
}

async function timed(fn) {
  const t = now()
  await fn()
  return now() - t
}

function log(msg) {
  process.stderr.write(msg + '\n')
}

async function writeRun(c, root, w, count, runIdx) {
  const dir = freshDir(root, `${c.id}-${w}`)
  const h = await c.open(dir, { durable: w === 'durable' })
  const fn = w === 'single' ? c.appendSingle : w === 'batch' ? c.appendBatch : c.appendDurable
  const ms = await timed(() => fn.call(c, h, count))
  const eps = (count / ms) * 1000
  push(results, c.id, w, eps)
  log(`  run ${runIdx + 1} ${c.id.padEnd(16)} ${WRITE_LABEL[w].padEnd(28)} ${fmtInt(eps).padStart(11)} events/s  (${(ms / 1000).toFixed(2)} s)`)
  return { dir, h }
}

async function readRun(c, h, runIdx) {
  for (const r of READS) {
    if (!doesRead(c, r)) continue
    gc()
    let out
    const ms = await timed(() => {
      out = c.reads[r](h, readArgs[r])
    })
    const eps = (out.events / ms) * 1000
    push(results, c.id, r, eps)
    ;(checks[r] ??= {})[`${c.id} run ${runIdx + 1}`] = `${out.events}/${out.check}`
    log(`  run ${runIdx + 1} ${c.id.padEnd(16)} ${READ_LABEL[r].padEnd(28)} ${fmtInt(eps).padStart(11)} events/s  (${out.events} events, ${(ms / 1000).toFixed(2)} s)`)
  }
}

function probeOpen(c, dir, runIdx) {
  const p = spawnSync(process.execPath, ['--expose-gc', probeScript, c.id, dir], { encoding: 'utf8', maxBuffer: 1 << 20 })
  if (p.status !== 0) {
    const why = p.signal ? `crashed (${p.signal})` : `failed (exit ${p.status})`
    log(`  run ${runIdx + 1} ${c.id.padEnd(16)} reopen ${why}: ${(p.stderr || '').trim().split('\n').slice(-3).join(' | ')}`)
    push(openResults, c.id, 'runs', { error: why })
    return
  }
  const r = JSON.parse(p.stdout.trim().split('\n').pop())
  push(openResults, c.id, 'runs', r)
  log(`  run ${runIdx + 1} ${c.id.padEnd(16)} reopen ${r.openMs.toFixed(1)} ms, RSS +${fmtInt(r.rssDelta / 1024)} KiB (anon +${fmtInt(r.anonDelta / 1024)} KiB)`)
}

async function warmUp(root) {
  // Untimed: JIT-compiles every contender's loops before run 1.
  const n = Math.min(N, 20_000)
  for (const c of contenders) {
    for (const w of WRITES) {
      if (!doesWrite(c, w)) continue
      const dir = freshDir(root, `warm-${c.id}`)
      const h = await c.open(dir, { durable: w === 'durable' })
      const fn = w === 'single' ? c.appendSingle : w === 'batch' ? c.appendBatch : c.appendDurable
      await fn.call(c, h, w === 'durable' ? Math.min(D, 200) : n)
      if (w === 'single' && c.reads) for (const r of READS) if (doesRead(c, r)) c.reads[r](h, readArgs[r]?.slice(0, 10))
      await c.close(h)
      removeDir(dir)
    }
  }
}

function machine() {
  let cpu = os.cpus()[0]?.model ?? 'unknown'
  try {
    const m = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)
    if (m) cpu = m[1].trim()
  } catch {}
  let df = ''
  try {
    df = execFileSync('df', ['-h', BENCH_DIR], { encoding: 'utf8' }).trim()
  } catch {}
  return { cpu, cores: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, kernel: os.release(), df, date: new Date().toISOString() }
}

function cell(id, w) {
  const mine = median(results[id]?.[w] ?? [])
  if (!Number.isFinite(mine)) return '—'
  const base = median(results.causeway?.[w] ?? [])
  return Number.isFinite(base) ? `${fmtInt(mine)} (${fmtRatio(mine / base)})` : fmtInt(mine)
}

function report(m) {
  const out = []
  out.push(`## Run of ${m.date}`)
  out.push('')
  out.push(`Machine: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, Node ${m.node}, Linux ${m.kernel}`)
  out.push('```')
  out.push(m.df)
  out.push('```')
  out.push(
    `Workload: ${fmtInt(N)} events (durable: ${fmtInt(D)}) over ${fmtInt(config.entities)} entities, ${config.scopes} scopes, ${config.kinds} kinds; ` +
      `msgpack payloads of ${avgPayloadBytes.toFixed(1)} bytes on average (msgpackr ${MSGPACKR_VERSION}); ` +
      `lmdb ${peerVersions.lmdb}, better-sqlite3 ${peerVersions['better-sqlite3']}. ` +
      `Medians of ${config.runs} run(s); cells are events/s (ratio to causeway: >1 is faster than causeway).`,
  )
  out.push('')
  const writers = contenders.filter((c) => WRITES.some((w) => doesWrite(c, w)))
  out.push('### Appends')
  out.push('')
  out.push(
    markdownTable(
      ['contender', ...WRITES.map((w) => WRITE_LABEL[w]), 'disk bytes/event'],
      writers.map((c) => [
        c.label,
        ...WRITES.map((w) => (doesWrite(c, w) ? cell(c.id, w) : '—')),
        diskBytes[c.id] ? fmtInt(median(diskBytes[c.id])) : '',
      ]),
      ['l', 'r', 'r', 'r', 'r'],
    ),
  )
  out.push('')
  const readers = contenders.filter((c) => READS.some((r) => doesRead(c, r)))
  if (readers.length) {
    out.push('### Reads (events returned per second, payload decoded unless "headers only")')
    out.push('')
    out.push(
      markdownTable(
        ['contender', ...READS.map((r) => READ_LABEL[r])],
        readers.map((c) => [c.label, ...READS.map((r) => (doesRead(c, r) ? cell(c.id, r) : '—'))]),
        ['l', ...READS.map(() => 'r')],
      ),
    )
    out.push('')
    const bad = Object.entries(checks).filter(([, v]) => new Set(Object.values(v)).size > 1)
    out.push(
      bad.length
        ? `**Result mismatch** between contenders: ${bad.map(([r, v]) => `${r} ${JSON.stringify(v)}`).join('; ')}`
        : 'Every contender returned the same events (count and payload checksum) for every read, in every run.',
    )
    out.push('')
  }
  const probed = contenders.filter(doesProbe)
  if (probed.length) {
    out.push(`### Reopen after the ${fmtInt(N)}-event append run (fresh process)`)
    out.push('')
    const base = median((openResults.causeway?.runs ?? []).map((r) => r.openMs))
    out.push(
      markdownTable(
        ['contender', 'open ms (median)', 'time vs causeway', 'index bytes/event', 'RSS delta bytes/event', 'anon RSS delta bytes/event'],
        probed.map((c) => {
          const runs = openResults[c.id]?.runs ?? []
          const ok = runs.filter((r) => !r.error)
          if (ok.length === 0) return [c.label, runs[0]?.error ?? '—', '', '', '', '']
          const ms = median(ok.map((r) => r.openMs))
          const ev = ok[0].events || N
          return [
            c.label,
            ms.toFixed(1),
            Number.isFinite(base) ? fmtRatio(ms / base) : '',
            ok[0].indexBytes != null ? (median(ok.map((r) => r.indexBytes)) / ev).toFixed(1) : '—',
            (median(ok.map((r) => r.rssDelta)) / ev).toFixed(1),
            (median(ok.map((r) => r.anonDelta)) / ev).toFixed(1),
          ]
        }),
        ['l', 'r', 'r', 'r', 'r', 'r'],
      ),
    )
    out.push('')
  }
  return out.join('\n')
}

const root = scratchRoot()
let interrupted = false
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    interrupted = true
    removeScratchRoot(root)
    process.exit(130)
  })
}

try {
  const m = machine()
  log(`causeway bench: ${fmtInt(N)} events, durable ${fmtInt(D)}, ${config.runs} run(s), payload ${avgPayloadBytes.toFixed(1)} B, contenders: ${contenders.map((c) => c.id).join(', ')}`)
  log('warm-up...')
  await warmUp(root)
  for (let run = 0; run < config.runs; run++) {
    // Rotate the order so no contender always runs first (or right after the heaviest).
    const order = contenders.map((_, i) => contenders[(i + run) % contenders.length])
    for (const c of order) {
      for (const w of WRITES) {
        if (!doesWrite(c, w)) continue
        settle()
        const { dir, h } = await writeRun(c, root, w, w === 'durable' ? D : N, run)
        if (w === 'single' && c.reads) await readRun(c, h, run)
        await c.close(h)
        if (w === 'single') (diskBytes[c.id] ??= []).push(dirBytes(dir) / N)
        if (w === 'single' && doesProbe(c)) probeOpen(c, dir, run)
        removeDir(dir)
      }
    }
  }
  const text = report(m)
  process.stdout.write('\n' + text + '\n')
  if (process.env.BENCH_JSON) {
    fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify({ machine: m, config, results, openResults, diskBytes, checks }, null, 2))
  }
} finally {
  if (!interrupted) removeScratchRoot(root)
}
