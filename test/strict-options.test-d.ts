// The accepted-key lists are checked against their options interfaces at
// compile time: an option added to an interface but not to its list, or a
// listed name that is no option, does not compile.
import { describe, expectTypeOf, it } from 'vitest'
import { CAUSAL_GRAPH_OPTION_KEYS } from '../src/causal/graph.js'
import { CURSOR_OPTION_KEYS } from '../src/delivery/cursor.js'
import { REACT_LOOP_OPTION_KEYS, REACTION_KEYS } from '../src/delivery/react.js'
import type { CausalGraphOptions, CompactOptions, CursorOptions, ReactLoopOptions, ScanOptions, StageOptions, StoreOptions, SyncOptions } from '../src/index.js'
import type { AppendCondition, AppendOptions, BatchItem, BatchOptions } from '../src/index.js'
import { COMPACT_OPTION_KEYS } from '../src/ops/compact.js'
import { STORE_OPTION_KEYS, SYNC_OPTION_KEYS } from '../src/options.js'
import { STAGE_OPTION_KEYS } from '../src/outbox/outbox.js'
import { PROJECT_OPTION_KEYS } from '../src/projection/options.js'
import { SCAN_OPTION_KEYS } from '../src/scan.js'
import { APPEND_CONDITION_KEYS, APPEND_OPTION_KEYS, BATCH_ITEM_KEYS, BATCH_OPTION_KEYS, REACTION_OPTION_KEYS } from '../src/store.js'
import { omitKeys, optionKeys } from '../src/strict.js'
import { TRANSITION_OPTION_KEYS } from '../src/typestate/store-methods.js'

interface Opts {
  alpha?: number
  beta?: string
}

type Listed<L extends readonly unknown[]> = L[number]

describe('optionKeys', () => {
  it('compiles a list naming exactly the interface keys', () => {
    const keys = optionKeys<Opts>()(['alpha', 'beta'])
    expectTypeOf(keys).toEqualTypeOf<readonly ['alpha', 'beta']>()
  })

  it('refuses a list that leaves out an option of the interface', () => {
    // @ts-expect-error: 'beta' is missing (missingOptionKeys: "beta")
    optionKeys<Opts>()(['alpha'])
  })

  it('refuses a list naming a key the interface does not have', () => {
    // @ts-expect-error: 'gamma' is no option of Opts
    optionKeys<Opts>()(['alpha', 'beta', 'gamma'])
  })

  it('refuses an option added to an interface but not to its list', () => {
    interface Grown extends Opts {
      added?: boolean
    }
    // @ts-expect-error: the list of Opts no longer covers Grown
    optionKeys<Grown>()(['alpha', 'beta'])
  })

  it('drops keys for an Omit type, and refuses dropping a key that is not listed', () => {
    const base = optionKeys<Opts>()(['alpha', 'beta'])
    expectTypeOf(omitKeys(base, 'alpha')).toEqualTypeOf<readonly 'beta'[]>()
    // @ts-expect-error: 'gamma' is not in the list
    omitKeys(base, 'gamma')
  })
})

describe('the library key lists', () => {
  it('name exactly the keys of their options types', () => {
    expectTypeOf<Listed<typeof APPEND_OPTION_KEYS>>().toEqualTypeOf<keyof AppendOptions>()
    expectTypeOf<Listed<typeof REACTION_OPTION_KEYS>>().toEqualTypeOf<Exclude<keyof AppendOptions, 'correlationId' | 'causationId'>>()
    expectTypeOf<Listed<typeof TRANSITION_OPTION_KEYS>>().toEqualTypeOf<Exclude<keyof AppendOptions, 'expectedSequence'>>()
    expectTypeOf<Listed<typeof BATCH_OPTION_KEYS>>().toEqualTypeOf<keyof BatchOptions>()
    expectTypeOf<Listed<typeof BATCH_ITEM_KEYS>>().toEqualTypeOf<keyof BatchItem>()
    expectTypeOf<Listed<typeof STAGE_OPTION_KEYS>>().toEqualTypeOf<keyof StageOptions>()
    expectTypeOf<Listed<typeof APPEND_CONDITION_KEYS>>().toEqualTypeOf<keyof AppendCondition>()
    expectTypeOf<Listed<typeof STORE_OPTION_KEYS>>().toEqualTypeOf<keyof StoreOptions>()
    expectTypeOf<Listed<typeof SYNC_OPTION_KEYS>>().toEqualTypeOf<keyof SyncOptions>()
    expectTypeOf<Listed<typeof SCAN_OPTION_KEYS>>().toEqualTypeOf<keyof ScanOptions>()
    expectTypeOf<Listed<typeof CURSOR_OPTION_KEYS>>().toEqualTypeOf<keyof CursorOptions>()
    expectTypeOf<Listed<typeof REACT_LOOP_OPTION_KEYS>>().toEqualTypeOf<keyof ReactLoopOptions>()
    expectTypeOf<Listed<typeof REACTION_KEYS>>().toEqualTypeOf<'coord' | 'kind' | 'payload'>()
    expectTypeOf<Listed<typeof COMPACT_OPTION_KEYS>>().toEqualTypeOf<keyof CompactOptions>()
    expectTypeOf<Listed<typeof CAUSAL_GRAPH_OPTION_KEYS>>().toEqualTypeOf<keyof CausalGraphOptions>()
    expectTypeOf<Listed<typeof PROJECT_OPTION_KEYS>>().toEqualTypeOf<'freshness' | 'asOf'>()
  })
})
