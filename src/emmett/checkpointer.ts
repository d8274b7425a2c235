// Emmett's Checkpointer on causeway: a processor's position is the latest event
// of its own entity ("<partition>/<processorId>") in a checkpoint scope, and
// each store is a compare-and-set on that entity's clock, so two instances of
// one processor never both move it from the same position.
import type { Checkpointer, ReadProcessorCheckpointResult, StoreProcessorCheckpointResult } from '@event-driven-io/emmett'
import { Coordinate } from '../coordinate.js'
import { SequenceMismatchError } from '../errors.js'
import type { Store } from '../store.js'
import { emmett } from './peer.js'
import { streamToEntity } from './names.js'

/** The scope processor positions are kept in. */
export const CHECKPOINT_SCOPE = 'emmett.checkpoints'
/** The named type of a saved position. */
export const CHECKPOINT_TYPE = 'emt.processor.checkpoint'

interface Saved {
  clock: number
  position: bigint | null
}

function coordOf(processorId: string, partition: string | undefined): Coordinate {
  return new Coordinate(streamToEntity(`${partition ?? emmett().defaultTag}/${processorId}`), CHECKPOINT_SCOPE)
}

function readSaved(store: Store, c: Coordinate): Saved {
  const last = store.stream<{ position: string | null }>(c, { reverse: true, limit: 1 }).toArray()[0]
  if (!last) return { clock: 0, position: null }
  const p = last.payload.position
  return { clock: last.clock, position: p === null ? null : BigInt(p) }
}

/** The position a processor last stored, or null. */
export function readCheckpoint(store: Store, processorId: string, partition?: string): bigint | null {
  return readSaved(store, coordOf(processorId, partition)).position
}

/** A checkpointer keeping positions (Emmett global positions) in `store`. */
export function causewayCheckpointer(store: Store): Checkpointer {
  if (!store.types.has(CHECKPOINT_TYPE)) store.types.define(CHECKPOINT_TYPE)
  return {
    read: async ({ processorId, partition }): Promise<ReadProcessorCheckpointResult<bigint>> => ({
      lastCheckpoint: readCheckpoint(store, processorId, partition),
    }),
    store: async ({ processorId, partition, message, lastCheckpoint }): Promise<StoreProcessorCheckpointResult<bigint | null>> => {
      const c = coordOf(processorId, partition)
      const saved = readSaved(store, c)
      const next = emmett().getCheckpoint(message as never) as bigint | null
      if (saved.position !== null && saved.position === next) return { success: false, reason: 'IGNORED' }
      if (saved.position !== (lastCheckpoint ?? null)) {
        return { success: false, reason: next !== null && saved.position !== null && saved.position > next ? 'CURRENT_AHEAD' : 'MISMATCH' }
      }
      try {
        store.append(c, CHECKPOINT_TYPE, { position: next === null ? null : next.toString() }, { expectedSequence: saved.clock })
      } catch (err) {
        if (err instanceof SequenceMismatchError) return { success: false, reason: 'MISMATCH' }
        throw err
      }
      return { success: true, newCheckpoint: next }
    },
  }
}
