import { InvalidArgumentError } from '../errors.js'
import { GateSet } from './gate-set.js'
import { type Receipt, spendReceipt } from './receipt.js'

/**
 * Gates in front of a commit: `commit` runs only with a genuine, unspent
 * Receipt from this pipeline's GateSet, so nothing commits unchecked.
 */
export class Pipeline<Ctx> {
  readonly gates: GateSet<Ctx>

  constructor(gates: GateSet<Ctx>) {
    if (!(gates instanceof GateSet)) throw new InvalidArgumentError('Pipeline expects a GateSet')
    this.gates = gates
  }

  /** GateSet.evaluate: a Receipt, or GateDeniedError with the first denial. */
  evaluate<T>(ctx: Ctx, proposal: T): Receipt<T> {
    return this.gates.evaluate(ctx, proposal)
  }

  /**
   * Spends the receipt and runs `fn` with its proposal, returning what `fn`
   * returns. The receipt is spent even when `fn` throws: evaluate again to
   * retry, since the context may have changed. A forged, foreign or spent
   * receipt throws InvalidArgumentError and `fn` does not run.
   */
  commit<T, R>(receipt: Receipt<T>, fn: (proposal: T) => R): R {
    if (typeof fn !== 'function') throw new InvalidArgumentError('commit expects a function')
    return fn(spendReceipt(receipt, this.gates))
  }
}
