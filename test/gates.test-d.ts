import { describe, expectTypeOf, it } from 'vitest'
import { GateSet, Pipeline, type Receipt } from '../src/index.js'

describe('gate types', () => {
  it('carries the proposal type from evaluate to commit', () => {
    const p = new Pipeline(new GateSet<{ user: string }>())
    const r = p.evaluate({ user: 'ada' }, { amount: 5 })
    expectTypeOf(r).toEqualTypeOf<Receipt<{ amount: number }>>()
    expectTypeOf(p.commit(r, (x) => x.amount)).toEqualTypeOf<number>()
  })

  it('does not accept an object literal as a Receipt', () => {
    const p = new Pipeline(new GateSet<null>())
    // @ts-expect-error a Receipt has a private issuer: only GateSet.evaluate makes one
    p.commit({ proposal: 1, gatesPassed: [], spent: false }, () => 1)
  })

  it('checks the context type of gates and evaluate', () => {
    const gates = new GateSet<{ n: number }>()
    // @ts-expect-error the gate reads a context of another type
    gates.push({ name: 'g', evaluate: (c: { s: string }) => (c.s ? null : null) })
    // @ts-expect-error the context is of the wrong type
    gates.evaluate({ s: 'x' }, 1)
  })
})
