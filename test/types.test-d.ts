// The package's two declaration entry points, as a consumer resolves them by
// name: `causeway` under the "require" condition (dist/cjs/index.d.ts) and
// under the "import" condition (dist/esm/index.d.mts) declare the same module,
// plus the default export the ESM entry has. (test/package.test.ts checks the
// same from ESM and CommonJS consumer projects over the packed tarball.)
import { describe, expectTypeOf, it } from 'vitest'
import type * as cjs from 'causeway' with { 'resolution-mode': 'require' }
import type * as esm from 'causeway' with { 'resolution-mode': 'import' }
import type * as src from '../src/index.js'

describe('declaration entry points', () => {
  it('resolve to the same declarations for import and require', () => {
    expectTypeOf<Omit<typeof esm, 'default'>>().toEqualTypeOf<typeof cjs>()
    expectTypeOf<typeof esm.default>().toEqualTypeOf<typeof cjs>()
    expectTypeOf<typeof esm.Store>().toEqualTypeOf<typeof cjs.Store>()
    expectTypeOf<esm.StoredEvent>().toEqualTypeOf<cjs.StoredEvent>()
    expectTypeOf<esm.StoreOptions>().toEqualTypeOf<cjs.StoreOptions>()
  })

  it('declare what the sources export', () => {
    expectTypeOf<keyof typeof cjs>().toEqualTypeOf<keyof typeof src>()
    expectTypeOf<ReturnType<typeof cjs.Store.open>>().toEqualTypeOf<cjs.Store>()
    expectTypeOf<cjs.AppendReceipt['globalSequence']>().toEqualTypeOf<bigint>()
    expectTypeOf<ReturnType<cjs.Store['scan']>>().toEqualTypeOf<IterableIterator<cjs.EventBatch>>()
  })
})
