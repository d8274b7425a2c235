import { InvalidArgumentError } from '../errors.js'
import { type Denial, type Gate, runGate } from './denial.js'
import { GateDeniedError } from './gate-denied-error.js'
import { mintReceipt, type Receipt } from './receipt.js'

/** An ordered list of gates over a context type. */
export class GateSet<Ctx> {
  /** @internal */ private readonly gates: Gate<Ctx>[] = []

  constructor(gates: Iterable<Gate<Ctx>> = []) {
    for (const g of gates) this.push(g)
  }

  /** Adds a gate at the end; returns this set. */
  push(gate: Gate<Ctx>): this {
    if (typeof gate !== 'object' || gate === null || typeof gate.name !== 'string' || gate.name.length === 0) {
      throw new InvalidArgumentError('a gate needs a non-empty name')
    }
    if (typeof gate.evaluate !== 'function') throw new InvalidArgumentError(`gate ${gate.name}: evaluate must be a function`)
    this.gates.push(gate)
    return this
  }

  get size(): number {
    return this.gates.length
  }

  /** The gates' names, in evaluation order. */
  get names(): string[] {
    return this.gates.map((g) => g.name)
  }

  /**
   * Runs the gates in order and stops at the first denial, throwing it as a
   * GateDeniedError (a gate that throws is a GATE_DEFECT denial). When every
   * gate allows, returns the Receipt that Pipeline.commit takes.
   */
  evaluate<T>(ctx: Ctx, proposal: T): Receipt<T> {
    const passed: string[] = []
    for (const g of this.gates) {
      const d = runGate(g, ctx)
      if (d) throw new GateDeniedError(d)
      passed.push(g.name)
    }
    return mintReceipt(this, proposal, passed)
  }

  /** Runs every gate and returns all denials (empty when every gate allows). */
  evaluateAll(ctx: Ctx): Denial[] {
    const out: Denial[] = []
    for (const g of this.gates) {
      const d = runGate(g, ctx)
      if (d) out.push(d)
    }
    return out
  }
}
