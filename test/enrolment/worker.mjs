// One racer of test/enrolment-race.test.ts: opens the shared store in its
// own thread or process and runs its list of enrolments through the
// example's decide + appendIf loop, reporting every receipt it got.
//   thread:  workerData { dataDir, attempts, maxCourses, start: SharedArrayBuffer }
//   process: argv <dataDir> <attempts.json> <maxCourses>; prints "ready", waits for a
//            line on stdin, prints its report as one JSON line.
import * as fs from 'node:fs'
import { createInterface } from 'node:readline'
import { isMainThread, parentPort, workerData } from 'node:worker_threads'
import { Store } from 'causeway'
import { defineTypes, enrol } from '../../examples/enrolment.mjs'

const asProcess = isMainThread
const { dataDir, attempts, maxCourses, start } = asProcess
  ? { dataDir: process.argv[2], attempts: JSON.parse(fs.readFileSync(process.argv[3], 'utf8')), maxCourses: Number(process.argv[4]) }
  : workerData
const store = Store.open({ dataDir })
defineTypes(store)
// The role at the start of the race (the survivor of two processes is promoted once the writer closes).
const role = store.stats().role
// Both racers ready before either starts: otherwise one is done before the other has loaded.
if (asProcess) {
  console.log('ready')
  await new Promise((resolve) => createInterface({ input: process.stdin }).once('line', resolve))
} else {
  const ready = new Int32Array(start)
  Atomics.add(ready, 0, 1)
  Atomics.notify(ready, 0)
  for (let n; (n = Atomics.load(ready, 0)) < 2; ) Atomics.wait(ready, 0, n, 100)
}
const receipts = []
let conflicts = 0
let refused = 0
for (const [studentId, courseId] of attempts) {
  const r = enrol(store, studentId, courseId, maxCourses)
  conflicts += r.attempts - 1
  if (r.ok) receipts.push({ studentId, courseId, sequence: String(r.sequence) })
  else refused++
}
store.close()
const report = { receipts, conflicts, refused, role }
if (asProcess) {
  console.log(JSON.stringify(report))
  process.exit(0)
} else parentPort.postMessage(report)
