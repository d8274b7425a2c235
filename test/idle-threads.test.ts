// A store no other process watches must not wake a thread per append: the
// writer's notifier thread (cw-notify), which tells client processes about
// new events, used to be armed on every publish whoever listened, so each
// burst of appends paid a futex wake and a context switch (about 2 µs of
// the appender's time each, and more on a VM). Linux: read from /proc.
import * as fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { Coordinate, EventKind, Store } from '../src/index.js'
import { tempDir } from './helpers.js'

const linux = process.platform === 'linux'

function switchesOf(name: string): number | undefined {
  for (const t of fs.readdirSync('/proc/self/task')) {
    let comm: string
    try {
      comm = fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim()
    } catch {
      continue // the thread ended meanwhile
    }
    if (comm !== name) continue
    const m = /voluntary_ctxt_switches:\s+(\d+)/.exec(fs.readFileSync(`/proc/self/task/${t}/status`, 'utf8'))
    return m ? Number(m[1]) : undefined
  }
  return undefined
}

describe.skipIf(!linux)('threads a writer keeps', () => {
  it('does not wake the notifier thread on appends while no other process watches the store', async () => {
    const store = Store.open({ dataDir: tempDir('idle-threads') })
    try {
      // The thread names itself once it runs: wait for it (bounded).
      let before = switchesOf('cw-notify')
      for (let i = 0; i < 200 && before === undefined; i++) {
        await new Promise((r) => setTimeout(r, 10))
        before = switchesOf('cw-notify')
      }
      expect(before).toBeDefined()
      const c = new Coordinate('e', 's')
      // 100 bursts of 20 appends, 3 ms apart: armed on each publish, the thread woke about once per burst.
      for (let k = 0; k < 100; k++) {
        for (let i = 0; i < 20; i++) store.append(c, EventKind.custom(1, 1), i)
        await new Promise((r) => setTimeout(r, 3))
      }
      // Its one-second timed wait may pass once or twice.
      expect(switchesOf('cw-notify')! - before!).toBeLessThan(10)
    } finally {
      store.close()
    }
  })
})
