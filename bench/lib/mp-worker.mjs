// One producer of the multi-producer workload (bench/features.bench.mjs),
// run in a worker_thread. It opens the directory with Store.open, which in
// the same process shares the one native store the other workers (and the
// main thread) hold, waits at a barrier, appends its share of the workload
// and reports the wall-clock interval it spent appending.
//
// workerData: { dir, mode: 'single' | 'batch', durable, index, producers, count, gate }
//   Producer `index` of `producers` appends workload events i = index,
//   index + producers, ... below `count`: the producers share the entities,
//   so every entity gets appends from every producer.
//   gate: SharedArrayBuffer of 2 Int32: [0] producers ready, [1] go flag.
import { parentPort, workerData } from 'node:worker_threads'
import { config, ENTITIES, entityNames, kindTypeOf, payloads, scopeNames, scopeOf } from './workload.mjs'

const { Store, Coordinate, EventKind } = await import('../../dist/esm/index.mjs')

const { dir, mode, durable, index, producers, count, gate } = workerData
const POOL = config.payloadPool
const BATCH = config.batch
const coords = entityNames.map((name, e) => new Coordinate(name, scopeNames[scopeOf(e)]))
const kinds = [null, 1, 2, 3, 4].map((t) => (t === null ? null : EventKind.custom(1, t)))
const opts = durable ? Object.freeze({ durable: true }) : undefined

const g = new Int32Array(gate)
let store
let appended = 0
let errors = 0
let firstError = null
try {
  store = Store.open({ dataDir: dir })
  // Untimed warm-up is done by the caller with a separate store; here, the barrier.
  Atomics.add(g, 0, 1)
  Atomics.notify(g, 0)
  Atomics.wait(g, 1, 0)
  const t0 = performance.timeOrigin + performance.now()
  if (mode === 'single') {
    for (let i = index; i < count; i += producers) {
      try {
        store.append(coords[i % ENTITIES], kinds[kindTypeOf(i)], payloads[i % POOL], opts)
        appended++
      } catch (e) {
        errors++
        firstError ??= `${e?.name}: ${e?.message}`
      }
    }
  } else {
    // Batches of BATCH of this producer's own events (stride `producers`).
    let items = []
    for (let i = index; i < count; i += producers) {
      items.push({ coord: coords[i % ENTITIES], kind: kinds[kindTypeOf(i)], payload: payloads[i % POOL] })
      if (items.length === BATCH || i + producers >= count) {
        try {
          store.appendBatch(items, opts)
          appended += items.length
        } catch (e) {
          errors += items.length
          firstError ??= `${e?.name}: ${e?.message}`
        }
        items = []
      }
    }
  }
  const t1 = performance.timeOrigin + performance.now()
  store.close()
  parentPort.postMessage({ ok: true, t0, t1, appended, errors, firstError })
} catch (e) {
  try {
    store?.close()
  } catch {}
  Atomics.add(g, 0, 1)
  Atomics.notify(g, 0)
  parentPort.postMessage({ ok: false, appended, errors, firstError: firstError ?? `${e?.name}: ${e?.message}\n${e?.stack}` })
}
