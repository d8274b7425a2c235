import { describe, expect, it, vi } from 'vitest'
import {
  Coordinate,
  DENIAL_KIND,
  EventKind,
  GATE_DEFECT,
  GateDeniedError,
  GateSet,
  InvalidArgumentError,
  InvalidKindError,
  Pipeline,
  Receipt,
  Store,
  isCausewayError,
  type Gate,
} from '../src/index.js'
import { tempDir } from './helpers.js'

interface Ctx {
  balance: number
  amount: number
  frozen: boolean
}

const notFrozen: Gate<Ctx> = { name: 'not-frozen', evaluate: (c) => (c.frozen ? { code: 'FROZEN', message: 'account is frozen' } : null) }
const funded: Gate<Ctx> = {
  name: 'funded',
  evaluate: (c) => (c.amount > c.balance ? { code: 'INSUFFICIENT', message: 'not enough money', context: { short: c.amount - c.balance } } : undefined),
}
const ok: Ctx = { balance: 10, amount: 5, frozen: false }

function denialOf(f: () => unknown): GateDeniedError {
  try {
    f()
  } catch (e) {
    if (e instanceof GateDeniedError) return e
    throw e
  }
  throw new Error('expected a GateDeniedError')
}

describe('GateSet', () => {
  it('issues a receipt naming every gate passed when all allow', () => {
    const r = new GateSet([notFrozen, funded]).evaluate(ok, { withdraw: 5 })
    expect(r).toBeInstanceOf(Receipt)
    expect(r.proposal).toEqual({ withdraw: 5 })
    expect(r.gatesPassed).toEqual(['not-frozen', 'funded'])
    expect(r.spent).toBe(false)
  })

  it('stops at the first denial and throws it as GateDeniedError with code E_GATE_DENIED', () => {
    const later = { name: 'later', evaluate: vi.fn(() => null) }
    const gates = new GateSet<Ctx>().push(notFrozen).push(funded).push(later)
    const e = denialOf(() => gates.evaluate({ balance: 1, amount: 5, frozen: false }, 'p'))
    expect(e.denial).toEqual({ gate: 'funded', code: 'INSUFFICIENT', message: 'not enough money', context: { short: 4 } })
    expect(isCausewayError(e, 'E_GATE_DENIED')).toBe(true)
    expect(e.message).toContain('funded')
    expect(later.evaluate).not.toHaveBeenCalled()
  })

  it('collects every denial with evaluateAll, turning a throwing gate into GATE_DEFECT', () => {
    const broken: Gate<Ctx> = {
      name: 'broken',
      evaluate: () => {
        throw new TypeError('boom')
      },
    }
    const weird = { name: 'weird', evaluate: () => 42 } as unknown as Gate<Ctx>
    const gates = new GateSet([notFrozen, broken, funded, weird])
    const all = gates.evaluateAll({ balance: 0, amount: 1, frozen: true })
    expect(all.map((d) => [d.gate, d.code])).toEqual([
      ['not-frozen', 'FROZEN'],
      ['broken', GATE_DEFECT],
      ['funded', 'INSUFFICIENT'],
      ['weird', GATE_DEFECT],
    ])
    expect(all[1]!.message).toContain('TypeError: boom')
    expect(new GateSet([notFrozen, funded]).evaluateAll(ok)).toEqual([])
    expect(denialOf(() => new GateSet([broken]).evaluate(ok, 1)).denial.code).toBe(GATE_DEFECT)
  })

  it('refuses a gate without a name or an evaluate function', () => {
    expect(() => new GateSet<Ctx>().push({ name: '', evaluate: () => null })).toThrow(InvalidArgumentError)
    expect(() => new GateSet<Ctx>().push({ name: 'x' } as Gate<Ctx>)).toThrow(InvalidArgumentError)
  })
})

describe('Receipt and Pipeline', () => {
  it('commits a genuine receipt once, running the function with its proposal', () => {
    const p = new Pipeline(new GateSet([notFrozen]))
    const r = p.evaluate(ok, { withdraw: 5 })
    expect(p.commit(r, (proposal) => proposal.withdraw * 2)).toBe(10)
    expect(r.spent).toBe(true)
    const fn = vi.fn()
    expect(() => p.commit(r, fn)).toThrow(/already committed/)
    expect(fn).not.toHaveBeenCalled()
  })

  it('refuses a forged receipt at runtime, even one built on the Receipt prototype', () => {
    const p = new Pipeline(new GateSet([notFrozen]))
    const fn = vi.fn()
    const lookalike = Object.freeze(Object.assign(Object.create(Receipt.prototype), { issuer: p.gates, proposal: 1, gatesPassed: ['not-frozen'] }))
    expect(lookalike).toBeInstanceOf(Receipt)
    for (const fake of [lookalike, { issuer: p.gates, proposal: 1, gatesPassed: [] }, null]) {
      expect(() => p.commit(fake as Receipt<number>, fn)).toThrow(InvalidArgumentError)
      expect(() => p.commit(fake as Receipt<number>, fn)).toThrow(/made by GateSet.evaluate/)
    }
    const Ctor = Receipt as unknown as new (...a: unknown[]) => Receipt<number>
    expect(() => new Ctor(Symbol('causeway.receipt'), p.gates, 1, [])).toThrow(/only by GateSet.evaluate/)
    expect(fn).not.toHaveBeenCalled()
  })

  it('refuses a receipt issued by another pipeline\'s gate set', () => {
    const a = new Pipeline(new GateSet([notFrozen]))
    const b = new Pipeline(new GateSet([notFrozen]))
    expect(() => b.commit(a.evaluate(ok, 1), () => 1)).toThrow(/another GateSet/)
  })

  it('spends the receipt even when the commit function throws', () => {
    const p = new Pipeline(new GateSet<Ctx>())
    const r = p.evaluate(ok, 1)
    expect(() =>
      p.commit(r, () => {
        throw new Error('store down')
      }),
    ).toThrow('store down')
    expect(() => p.commit(r, () => 1)).toThrow(/already committed/)
  })
})

describe('appendDenial', () => {
  it('records the denial as a system event on the entity\'s own chain', () => {
    const s = Store.open({ dataDir: tempDir() })
    const c = new Coordinate('acct:1', 'bank')
    const first = s.append(c, EventKind.custom(1, 1), { deposit: 1 })
    const e = denialOf(() => new GateSet([funded]).evaluate({ balance: 1, amount: 5, frozen: false }, null))
    const r = s.appendDenial(c, e.denial, { causationId: first.eventId })
    expect(r.clock).toBe(2)
    expect(r.prevHash).toBe(first.contentHash)
    const stored = s.get(r.eventId)!
    expect(stored.kind.value).toBe(0x000f)
    expect(stored.kind.equals(DENIAL_KIND)).toBe(true)
    expect(stored.causationId).toBe(first.eventId)
    expect(stored.payload).toEqual({ gate: 'funded', code: 'INSUFFICIENT', message: 'not enough money', context: { short: 4 } })
    expect(s.byFact(DENIAL_KIND).map((x) => x.eventId)).toEqual([r.eventId])
    expect(() => s.append(c, DENIAL_KIND, {})).toThrow(InvalidKindError) // users cannot forge one
    expect(() => s.appendDenial(c, { code: 'X' } as never)).toThrow(InvalidArgumentError)
    s.close()
  })
})
