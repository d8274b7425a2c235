// causeway/emmett's consumer: Emmett's reactor() and projector() fed from a
// causeway cursor (woken by appends, no polling), resuming after a restart from
// positions the causeway checkpointer kept in the store, stopping on STOP, and
// the checkpointer's optimistic concurrency between two instances.
import * as emmett from '@event-driven-io/emmett'
import { type Event, MessageProcessor, projection, type ReadEvent } from '@event-driven-io/emmett'
import { describe, expect, it } from 'vitest'
import {
  causewayCheckpointer,
  causewayEventStoreConsumer,
  getCausewayEventStore,
  readCheckpoint,
  useEmmett,
} from '../src/emmett/index.js'
import { tempDir } from './helpers.js'

useEmmett(emmett)
const ev = (n: number): Event => ({ type: 'Counted', data: { n } })

/** Resolves once `check` holds, polling a test-side condition (bounded). */
async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('causeway consumer for Emmett processors', () => {
  it('delivers appends to a reactor as they happen and resumes after a restart without redelivery', async () => {
    const dir = tempDir('emmett-consumer')
    const got: number[] = []
    {
      const es = getCausewayEventStore({ dataDir: dir })
      try {
        await es.appendToStream('c-1', [ev(1), ev(2)])
        const consumer = causewayEventStoreConsumer({ eventStore: es })
        consumer.reactor({ processorId: 'counter', eachMessage: async (e: ReadEvent) => void got.push(e.data.n as number) })
        const running = consumer.start()
        await until(() => got.length === 2)
        await es.appendToStream('c-2', [ev(3)]) // wakes the waiting cursor
        await until(() => got.length === 3)
        await consumer.stop()
        await running
        expect(readCheckpoint(es.store, 'counter')).toBeGreaterThan(0n)
      } finally {
        await es.close()
      }
    }
    {
      const es = getCausewayEventStore({ dataDir: dir })
      try {
        await es.appendToStream('c-1', [ev(4)])
        const consumer = causewayEventStoreConsumer({ eventStore: es })
        consumer.reactor({ processorId: 'counter', eachMessage: async (e: ReadEvent) => void got.push(e.data.n as number) })
        void consumer.start()
        await until(() => got.length >= 4)
        await consumer.stop()
        expect(got).toEqual([1, 2, 3, 4])
      } finally {
        await es.close()
      }
    }
  })

  it('runs a projector on only the types it handles, and stops a reactor that returns STOP', async () => {
    const es = getCausewayEventStore({ dataDir: tempDir('emmett-projector') })
    try {
      let total = 0
      const stoppedAt: number[] = []
      await es.appendToStream('p', [ev(1), { type: 'Other', data: { n: 100 } }, ev(2), ev(3)])
      const consumer = es.consumer({ batchSize: 2 }) // as Emmett's stores offer it
      consumer.projector({
        projection: projection<Event>({ name: 'sum', canHandle: ['Counted'], handle: async (events) => void events.forEach((e) => (total += e.data.n as number)) }),
      })
      consumer.reactor({
        processorId: 'stopper',
        eachMessage: async (e: ReadEvent) => {
          stoppedAt.push(e.data.n as number)
          return e.data.n === 100 ? MessageProcessor.result.stop({ reason: 'enough' }) : undefined
        },
      })
      void consumer.start()
      await until(() => total === 6)
      expect(stoppedAt).toEqual([1, 100])
      await consumer.stop()
      expect(consumer.isRunning).toBe(false)
      expect(readCheckpoint(es.store, 'emt:processor:projector:sum')).not.toBeNull()
    } finally {
      await es.close()
    }
  })

  it('refuses a checkpoint stored from a stale position (two instances of one processor)', async () => {
    const es = getCausewayEventStore({ dataDir: tempDir('emmett-ckpt') })
    try {
      await es.appendToStream('k', [ev(1), ev(2)])
      const [m1, m2] = (await es.readStream('k')).events
      const a = causewayCheckpointer(es.store)
      const b = causewayCheckpointer(es.store)
      const ctx = {} as never
      expect(await a.store({ processorId: 'p', version: 1, message: m1!, lastCheckpoint: null }, ctx)).toEqual({ success: true, newCheckpoint: m1!.metadata.globalPosition })
      expect(await b.store({ processorId: 'p', version: 1, message: m2!, lastCheckpoint: null }, ctx)).toEqual({ success: false, reason: 'MISMATCH' })
      expect(await b.store({ processorId: 'p', version: 1, message: m1!, lastCheckpoint: null }, ctx)).toEqual({ success: false, reason: 'IGNORED' })
      expect(await a.store({ processorId: 'p', version: 1, message: m2!, lastCheckpoint: m1!.metadata.globalPosition }, ctx)).toMatchObject({ success: true })
      expect(await b.store({ processorId: 'p', version: 1, message: m1!, lastCheckpoint: m1!.metadata.globalPosition }, ctx)).toEqual({ success: false, reason: 'CURRENT_AHEAD' })
      expect((await b.read({ processorId: 'p' }, ctx)).lastCheckpoint).toBe(m2!.metadata.globalPosition)
    } finally {
      await es.close()
    }
  })
})
