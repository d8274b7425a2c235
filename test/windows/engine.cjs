// The engine under Windows' file rules, run by a Windows Node (under Wine on
// the Linux machines here; test/windows.test.ts starts it). Wine, like
// Windows before 10 1809, has no POSIX-semantics rename or delete: a file
// mapped by another process cannot be cut, renamed over or removed. Every
// step below meets one of those rules with another process holding the files.
//
//   node engine.cjs <causeway entry (dist/cjs/index.js)> <work dir>
//
// Prints one JSON line of findings; exits non-zero on the first failed check.
'use strict'
const assert = require('node:assert/strict')
const cp = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const [entry, work, role, ...rest] = process.argv.slice(2)
const { Store, Coordinate, EventKind, Region } = require(entry)
const K = EventKind.custom(1, 1)
const coord = (i) => new Coordinate(`order:${i % 10}`, 'shop')
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
const waitFor = (file, what) => {
  for (let t = 0; !fs.existsSync(file); t += 20) {
    if (t > 60_000) throw new Error(`timed out waiting for ${what}`)
    sleep(20)
  }
  return fs.readFileSync(file, 'utf8')
}
// A flag file appears whole: written beside, then renamed (waitFor once read one between its creation and its write).
const flagWrite = (file, text) => {
  fs.writeFileSync(`${file}.tmp`, text)
  fs.renameSync(`${file}.tmp`, file)
}
const count = (s) => s.query(Region.entity('order')).length
const files = (dir) => fs.readdirSync(dir).sort()
// Bytes after a sealed segment's footer (native/FORMAT.md: the footer starts
// at the sealed end, its length at offset 16); 0 when the file was cut there,
// -1 when the segment has none (a compaction's replacement).
const tailAfterFooter = (dir, seg) => {
  const file = path.join(dir, seg.file)
  const fd = fs.openSync(file, 'r')
  const head = Buffer.alloc(24)
  fs.readSync(fd, head, 0, 24, seg.bytes)
  fs.closeSync(fd)
  if (head.subarray(0, 8).toString('latin1') !== 'CWFOOTv1') return -1
  return fs.statSync(file).size - seg.bytes - Number(head.readBigUInt64LE(16))
}
const child = (...args) => cp.spawn(process.execPath, [__filename, entry, work, ...args], { stdio: 'ignore' })
const childSync = (env, ...args) =>
  cp.spawnSync(process.execPath, [__filename, entry, work, ...args], { stdio: 'ignore', env: { ...process.env, ...env } })

// Child roles.
if (role === 'reader') {
  // Holds every segment mapped until told to stop, refreshing meanwhile.
  const [dir, flag] = rest
  const ro = Store.open({ dataDir: dir, readOnly: true })
  flagWrite(`${flag}.ready`, String(count(ro)))
  const t = setInterval(() => {
    ro.refresh()
    if (!fs.existsSync(`${flag}.stop`)) return
    clearInterval(t)
    ro.refresh()
    flagWrite(`${flag}.done`, String(count(ro)))
    ro.close()
  }, 20)
  return
}
if (role === 'second-writer') {
  try {
    Store.open({ dataDir: rest[0], exclusive: true })
    fs.writeFileSync(rest[1], 'opened')
  } catch (e) {
    fs.writeFileSync(rest[1], e.code)
  }
  return
}
if (role === 'durable-appender') {
  // Appends durably and records each acknowledged sequence, until killed.
  const [dir, acks] = rest
  const s = Store.open({ dataDir: dir, segmentMaxBytes: 16 * 1024 })
  const fd = fs.openSync(acks, 'w')
  for (let i = 0; ; i++) {
    const r = s.append(coord(i), K, { i, pad: 'z'.repeat(100) }, { durable: true })
    fs.writeSync(fd, `${r.globalSequence}\n`)
  }
}
if (role === 'compact-killed') {
  // CAUSEWAY_KILL_AT ends this process inside compaction.
  const s = Store.open({ dataDir: rest[0], segmentMaxBytes: 16 * 1024 })
  s.compact({ strategy: 'merge' })
  fs.writeFileSync(rest[1], 'not killed')
  s.close()
  return
}

// The main run.
const found = {}
fs.mkdirSync(work, { recursive: true })

// 1. Segments sealed while another process maps them: Windows cannot cut
//    them to their end, so each keeps its zero tail after the footer, and an
//    open without a checkpoint still loads every footer.
{
  const dir = path.join(work, 'store')
  const flag = path.join(work, 'reader1')
  let s = Store.open({ dataDir: dir, segmentMaxBytes: 64 * 1024 })
  let last
  for (let i = 0; i < 200; i++) last = s.append(coord(i), K, { i, pad: 'x'.repeat(60) }, { causationId: i % 7 === 0 && last ? last.eventId : undefined })
  const reader = child('reader', dir, flag)
  assert.equal(waitFor(`${flag}.ready`, 'the reader'), '200')
  // Large events (a footer small enough to fit in the segment, so sealing
  // cuts the file), in steps the reader's refresh keeps up with: it maps
  // each segment while it is active, before the writer seals it.
  for (let i = 200; i < 500; i++) {
    s.append(coord(i), K, { i, pad: 'y'.repeat(3000) })
    if (i % 8 === 0) sleep(60)
  }
  const sealed = s.diagnostics().segmentList.filter((g) => g.sealed)
  const withTail = sealed.filter((g) => tailAfterFooter(dir, g) > 0)
  found.sealedWhileMapped = sealed.length
  found.sealedKeptTail = withTail.length
  assert.ok(withTail.length > 0, 'no segment sealed while mapped kept its tail: the test did not meet the rule it is for')
  // Reopened without its checkpoint, the store loads those footers too.
  s.close()
  fs.rmSync(path.join(dir, 'index.ckpt'))
  s = Store.open({ dataDir: dir, segmentMaxBytes: 64 * 1024 })
  const withFooter = s.diagnostics().segmentList.filter((g) => g.sealed && tailAfterFooter(dir, g) >= 0)
  // (A sealed segment with an index file is taken from the file, frames and footer unread.)
  found.footersLoaded = s.stats().footersLoaded + s.stats().indexFilesLoaded
  assert.equal(Number(s.stats().events), 500)
  // (>=: the segment active at the close was sealed with a footer too, then reopened for appends.)
  assert.ok(found.footersLoaded >= withFooter.length, 'a sealed segment with a tail after its footer was scanned instead of loaded')

  // 2. Compaction while the reader maps every source: committed, then it
  //    waits (nothing renamed over or removed under the reader) while the
  //    store reads the new layout in place; appends go on.
  const before = files(dir).length
  const rep = s.compact({ strategy: 'merge' })
  assert.equal(rep.performed, true)
  assert.ok(files(dir).includes('compaction.marker'), 'compaction finished with its sources mapped elsewhere')
  found.pendingFiles = files(dir).length
  assert.equal(files(dir).length, before + 2) // the replacement and the marker beside the sources
  for (let i = 500; i < 600; i++) s.append(coord(i), K, { i })
  assert.equal(count(s), 600)
  const again = s.compact({ strategy: 'merge' })
  assert.equal(again.performed, false)
  assert.match(again.reason, /previous compaction is not finished/)
  assert.equal(s.walkAncestors(last.eventId).length > 1, true)
  s.sync()
  fs.writeFileSync(`${flag}.stop`, '')
  assert.equal(waitFor(`${flag}.done`, 'the reader to finish'), '600')
  reader.unref()
  sleep(200) // the reader's exit unmaps its views

  // Close finishes the compaction now that nothing maps the sources.
  s.close()
  assert.ok(!files(dir).includes('compaction.marker'), `close did not finish the compaction: ${files(dir).join(' ')}`)
  assert.ok(!files(dir).some((f) => f.endsWith('.compact')))
  s = Store.open({ dataDir: dir, segmentMaxBytes: 64 * 1024 })
  assert.equal(Number(s.stats().events), 600)
  const chain = s.verifyChain()
  assert.equal(chain.eventsChecked, 600)
  assert.deepEqual([chain.brokenLinks.length, chain.contentMismatches.length, chain.missingParents.length], [0, 0, 0])

  // 3. With no other process: the compaction finishes at once.
  for (let i = 0; i < 3000; i++) s.append(coord(i), K, { i, pad: 'w'.repeat(60) })
  const rep2 = s.compact({ strategy: 'merge' })
  assert.equal(rep2.performed, true)
  assert.ok(!files(dir).includes('compaction.marker'), 'a compaction nobody else maps did not finish')
  found.segmentsAfterCompaction = rep2.segmentsAfter

  // 4. A snapshot (sealed segments hard-linked) opens with every event.
  const snap = path.join(work, 'snap')
  s.snapshot(snap)
  const sn = Store.open({ dataDir: snap, readOnly: true })
  assert.equal(count(sn), 3600)
  sn.close()

  // 5. One writer: a second process asking for exclusive access is refused
  //    (without it, it becomes the writer's client: test/windows/processes.cjs).
  const answer = path.join(work, 'second-writer')
  assert.equal(childSync({}, 'second-writer', dir, answer).status, 0)
  assert.equal(fs.readFileSync(answer, 'utf8'), 'E_STORE_LOCKED')
  s.close()
}

// 6. A writer killed (TerminateProcess) while appending durably loses no
//    acknowledged event; the reopened store recovers and goes on.
{
  const dir = path.join(work, 'crash')
  const acks = path.join(work, 'acks')
  const p = child('durable-appender', dir, acks)
  for (let t = 0; !(fs.existsSync(acks) && fs.readFileSync(acks, 'utf8').split('\n').length > 300); t += 20) {
    if (t > 60_000) throw new Error('the appender acknowledged nothing')
    sleep(20)
  }
  p.kill('SIGKILL')
  while (p.exitCode === null && p.signalCode === null) {
    sleep(20)
    try {
      process.kill(p.pid, 0)
    } catch {
      break
    }
  }
  sleep(200)
  const acked = fs.readFileSync(acks, 'utf8').trim().split('\n').filter(Boolean).map(Number)
  const s = Store.open({ dataDir: dir, segmentMaxBytes: 16 * 1024 })
  const events = Number(s.stats().events)
  found.crashAcked = acked.length
  found.crashRecovered = events
  assert.ok(events >= acked.length, `acknowledged ${acked.length}, recovered ${events}`)
  assert.ok(s.get(s.query(Region.entity('order')).at(-1).eventId))
  s.append(coord(1), K, { after: 'crash' }, { durable: true })
  const chain = s.verifyChain()
  assert.deepEqual([chain.brokenLinks.length, chain.contentMismatches.length], [0, 0])
  s.close()
}

// 7. Killed inside compaction after its commit point: the next open finishes it.
{
  const dir = path.join(work, 'compact-kill')
  let s = Store.open({ dataDir: dir, segmentMaxBytes: 16 * 1024 })
  for (let i = 0; i < 1500; i++) s.append(coord(i), K, { i, pad: 'v'.repeat(60) })
  s.close()
  const answer = path.join(work, 'compact-killed')
  const r = childSync({ CAUSEWAY_KILL_AT: 'compact:marker-written' }, 'compact-killed', dir, answer)
  assert.notEqual(r.status, 0)
  assert.ok(!fs.existsSync(answer), 'the kill point did not fire')
  assert.ok(files(dir).includes('compaction.marker'))
  s = Store.open({ dataDir: dir, segmentMaxBytes: 16 * 1024 })
  assert.ok(!files(dir).includes('compaction.marker'), 'open did not finish the committed compaction')
  assert.equal(count(s), 1500)
  found.compactKilledSegments = s.diagnostics().segmentList.length
  s.close()
}

console.log(JSON.stringify(found))
