import { CausewayError } from '../errors.js'

/**
 * A view's apply (or key, or init) threw on an event. The view stopped at
 * `position`, the sequence of that event: everything before it is
 * committed, nothing of it is. `cause` is what was thrown.
 */
export class ViewApplyError extends CausewayError {
  override readonly code = 'E_VIEW_APPLY' as const
  declare readonly view: string
  declare readonly eventId: string
  declare readonly globalSequence: bigint
  /** Where the view stands: the failed event's sequence, applied again on the next catch-up. */
  declare readonly position: bigint
}

/**
 * The view on disk was made by a newer definition (a higher version), or by
 * the same version over another query: nothing is changed. Bump `version` to
 * rebuild it; an older deployment never rewinds a newer view.
 */
export class ViewVersionError extends CausewayError {
  override readonly code = 'E_VIEW_VERSION' as const
  declare readonly view: string
  declare readonly storedVersion: number
  declare readonly version: number
}
