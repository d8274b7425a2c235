// Turns a stored causeway event of an Emmett stream into Emmett's ReadEvent,
// shaped as Emmett's SQLite and PostgreSQL stores return it: type, data and
// metadata from the JSON body, and the metadata Emmett adds (messageId,
// streamName, streamPosition and globalPosition, both bigints).
import type { StoredEvent } from '../event.js'
import { decodeBody, entityToStream } from './names.js'

/** Emmett's read-event metadata, with this adapter's positions. */
export interface CausewayReadEventMetadata {
  readonly messageId: string
  readonly streamName: string
  /** The event's clock in its entity: 1 for the stream's first event. */
  readonly streamPosition: bigint
  /** The causeway global sequence plus one (Emmett's global positions start at 1). */
  readonly globalPosition: bigint
}

/** A read event as this adapter returns it (type, data, metadata, kind). */
export interface CausewayReadEvent {
  type: string
  data: Record<string, unknown>
  metadata: Record<string, unknown> & CausewayReadEventMetadata
  kind: 'Event'
}

/** The ReadEvent of a stored event; `streamName` saves decoding the entity when the caller knows it. */
export function toReadEvent(e: StoredEvent, streamName?: string): CausewayReadEvent {
  const body = decodeBody(e.payload)
  const userMeta = body.m !== null && typeof body.m === 'object' ? (body.m as Record<string, unknown>) : {}
  return {
    type: body.t ?? e.type ?? '',
    data: body.d as Record<string, unknown>,
    metadata: {
      ...userMeta,
      messageId: e.eventId,
      streamName: streamName ?? entityToStream(e.coordinate.entity),
      streamPosition: BigInt(e.clock),
      globalPosition: e.globalSequence + 1n,
    },
    kind: 'Event',
  }
}
