import { CausewayError } from '../errors.js'
import type { Denial } from './denial.js'

/** A gate refused a proposal: GateSet.evaluate (and Pipeline.evaluate) throw it with the first denial. */
export class GateDeniedError extends CausewayError {
  override readonly code = 'E_GATE_DENIED' as const
  readonly denial: Denial

  constructor(denial: Denial) {
    super(`gate ${denial.gate} denied (${denial.code}): ${denial.message}`)
    this.denial = denial
  }
}
