// causeway/client's types as a consumer resolves them: the same
// declarations under "import" and "require"; receipts and events carry
// bigints where the library's do; the error classes are the main entry's.
import { describe, expectTypeOf, it } from 'vitest'
import type * as main from 'causeway' with { 'resolution-mode': 'require' }
import type * as cjs from 'causeway/client' with { 'resolution-mode': 'require' }
import type * as esm from 'causeway/client' with { 'resolution-mode': 'import' }

describe('causeway/client declaration entry points', () => {
  it('resolve to the same declarations for import and require', () => {
    expectTypeOf<Omit<typeof esm, 'default'>>().toEqualTypeOf<typeof cjs>()
  })

  it('mirror the library: bigint sequences, typed payloads, async iterators, the same error classes', () => {
    type C = cjs.CausewayClient
    expectTypeOf<Awaited<ReturnType<C['append']>>['globalSequence']>().toEqualTypeOf<main.AppendReceipt['globalSequence']>()
    expectTypeOf<Awaited<ReturnType<C['get']>>>().toEqualTypeOf<cjs.StoredEvent | undefined>()
    expectTypeOf<ReturnType<C['cursor']>>().toMatchTypeOf<AsyncIterable<cjs.StoredEvent>>()
    expectTypeOf<cjs.StoredEvent<{ n: number }>['payload']>().toEqualTypeOf<{ n: number }>()
    expectTypeOf<cjs.SequenceMismatchError>().toEqualTypeOf<main.SequenceMismatchError>()
    expectTypeOf<Awaited<ReturnType<ReturnType<C['query']>['toArray']>>>().toEqualTypeOf<cjs.StoredEvent[]>()
  })
})
