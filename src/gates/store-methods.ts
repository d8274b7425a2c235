import { Coordinate } from '../coordinate.js'
import { InvalidArgumentError, InvalidCoordinateError } from '../errors.js'
import type { AppendReceipt } from '../receipt.js'
import { Store, type ImmediateAppendOptions } from '../store.js'
import { checkOptions } from '../strict.js'
import { DENIAL_KEYS, DENIAL_KIND, type Denial } from './denial.js'

declare module '../store.js' {
  interface Store {
    /**
     * Records a denial as a system event (kind DENIAL_KIND, 0x000F) on the
     * entity's own chain, payload `{ gate, code, message, context? }`.
     */
    appendDenial(coord: Coordinate, denial: Denial, options?: ImmediateAppendOptions): AppendReceipt
  }
}

Store.prototype.appendDenial = function (this: Store, coord: Coordinate, denial: Denial, options?: ImmediateAppendOptions): AppendReceipt {
  if (!(coord instanceof Coordinate)) throw new InvalidCoordinateError('coord must be a Coordinate')
  const d = denial as Partial<Denial> | null
  if (typeof d !== 'object' || d === null || typeof d.gate !== 'string' || typeof d.code !== 'string' || typeof d.message !== 'string') {
    throw new InvalidArgumentError('appendDenial expects a denial { gate, code, message, context? }')
  }
  checkOptions('appendDenial denial', d, DENIAL_KEYS)
  const payload: Record<string, unknown> = { gate: d.gate, code: d.code, message: d.message }
  if (d.context !== undefined) payload.context = d.context
  return this.appendSystem(coord, DENIAL_KIND, payload, options)
}
