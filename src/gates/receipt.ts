import { InvalidArgumentError } from '../errors.js'

/** Module-private: only code in this file can name it, so only mintReceipt can build a Receipt. */
const TOKEN: unique symbol = Symbol('causeway.receipt')
const minted = new WeakSet<object>()
const unspent = new WeakSet<object>()

/**
 * Proof that every gate of a GateSet allowed `proposal`. Only GateSet.evaluate
 * makes one; a forged object (even one made with this prototype) is refused
 * by Pipeline.commit, and each receipt commits once.
 */
export class Receipt<T> {
  readonly proposal: T
  /** The names of the gates that allowed it, in order. */
  readonly gatesPassed: readonly string[]
  /** @internal the GateSet that issued it */
  private readonly issuer: object

  /** @internal */
  constructor(token: typeof TOKEN, issuer: object, proposal: T, gatesPassed: readonly string[]) {
    if (token !== TOKEN) throw new InvalidArgumentError('a Receipt is made only by GateSet.evaluate')
    this.issuer = issuer
    this.proposal = proposal
    this.gatesPassed = Object.freeze([...gatesPassed])
    Object.freeze(this)
    minted.add(this)
    unspent.add(this)
  }

  /** Whether commit can still take it. */
  get spent(): boolean {
    return !unspent.has(this)
  }

  /** @internal */
  static issuerOf(r: Receipt<unknown>): object {
    return r.issuer
  }
}

/** @internal */
export function mintReceipt<T>(issuer: object, proposal: T, gatesPassed: readonly string[]): Receipt<T> {
  return new Receipt(TOKEN, issuer, proposal, gatesPassed)
}

/** @internal Checks a receipt is genuine, unspent and from `issuer`, then spends it. */
export function spendReceipt<T>(receipt: Receipt<T>, issuer: object): T {
  if (typeof receipt !== 'object' || receipt === null || !minted.has(receipt)) {
    throw new InvalidArgumentError('commit expects a Receipt made by GateSet.evaluate')
  }
  if (Receipt.issuerOf(receipt) !== issuer) throw new InvalidArgumentError('the receipt was issued by another GateSet')
  if (!unspent.delete(receipt)) throw new InvalidArgumentError('the receipt was already committed; evaluate the gates again')
  return receipt.proposal
}
