import { CausewayError } from '../errors.js'

/** An outbox used after it was flushed or discarded. */
export class OutboxClosedError extends CausewayError {
  override readonly code = 'E_OUTBOX_CLOSED' as const
}
