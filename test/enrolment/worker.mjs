// One racer of test/enrolment-race.test.ts: opens the shared store in its
// own thread and runs its list of enrolments through the example's
// decide + appendIf loop, reporting every receipt it got.
import { parentPort, workerData } from 'node:worker_threads'
import { Store } from 'causeway'
import { defineTypes, enrol } from '../../examples/enrolment.mjs'

const { dataDir, attempts, maxCourses, start } = workerData
const store = Store.open({ dataDir })
defineTypes(store)
// Both racers ready before either starts: otherwise one is done before the other has loaded.
const ready = new Int32Array(start)
Atomics.add(ready, 0, 1)
Atomics.notify(ready, 0)
for (let n; (n = Atomics.load(ready, 0)) < 2; ) Atomics.wait(ready, 0, n, 100)
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
parentPort.postMessage({ receipts, conflicts, refused })
