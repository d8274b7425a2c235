import { InvalidArgumentError } from '../errors.js'
import type { NativeFilter } from '../native/binding.js'
import type { KindLookup } from '../region.js'
import { APPEND_CONDITION_KEYS, type AppendCondition } from '../append-options.js'
import { checkOptions } from '../strict.js'
import { isSelection } from './selection.js'

/**
 * appendIf's condition as the filter the writer checks inside the append:
 * any event matching `failIfEventsMatch` with a sequence after `after`
 * refuses the batch. Everything is checked before anything is written.
 */
export function conditionFilter(condition: AppendCondition, types: KindLookup): NativeFilter {
  if (typeof condition !== 'object' || condition === null || !isSelection(condition.failIfEventsMatch)) {
    throw new InvalidArgumentError('appendIf expects { failIfEventsMatch: Region | Query, after: bigint | null }')
  }
  checkOptions('appendIf condition', condition, APPEND_CONDITION_KEYS)
  const after = condition.after
  if (after !== null && (typeof after !== 'bigint' || after < 0n)) {
    throw new InvalidArgumentError('appendIf condition.after must be a non-negative bigint or null')
  }
  return { ...condition.failIfEventsMatch.toFilter(types), fromSequence: after === null ? 0 : Number(after) + 1 }
}
