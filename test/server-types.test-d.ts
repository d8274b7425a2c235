// The causeway/server declaration entry points, as a consumer resolves them:
// under "require" (dist/cjs/server/index.d.ts) and "import"
// (dist/esm/server.d.mts) the same declarations, plus the ESM default
// export; serve() takes the main entry's Store.
import { describe, expectTypeOf, it } from 'vitest'
import type * as main from 'causeway' with { 'resolution-mode': 'require' }
import type * as cjs from 'causeway/server' with { 'resolution-mode': 'require' }
import type * as esm from 'causeway/server' with { 'resolution-mode': 'import' }
import type * as src from '../src/server/index.js'

describe('causeway/server declaration entry points', () => {
  it('resolve to the same declarations for import and require, matching the sources', () => {
    expectTypeOf<Omit<typeof esm, 'default'>>().toEqualTypeOf<typeof cjs>()
    expectTypeOf<typeof esm.default>().toEqualTypeOf<typeof cjs>()
    expectTypeOf<keyof typeof cjs>().toEqualTypeOf<keyof typeof src>()
  })

  it('serve takes the Store of the main entry and resolves to a Server', () => {
    expectTypeOf<Parameters<typeof cjs.serve>[0]>().toEqualTypeOf<main.Store>()
    expectTypeOf<ReturnType<typeof esm.serve>>().toEqualTypeOf<Promise<cjs.Server>>()
    expectTypeOf<cjs.Server['routes'][number]['need']>().toEqualTypeOf<'read' | 'append' | 'admin' | 'any' | 'public'>()
  })
})
