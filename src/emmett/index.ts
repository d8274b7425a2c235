// causeway/emmett: causeway as an event store for Emmett applications
// (@event-driven-io/emmett 0.42.x, an optional peer dependency).
export { getCausewayEventStore, type CausewayEventStore, type CausewayEventStoreOptions, type CausewayProjectionContext } from './event-store.js'
export { causewayEventStoreConsumer, type CausewayConsumer, type CausewayConsumerOptions, type CausewayProcessorContext } from './consumer.js'
export { causewayCheckpointer, readCheckpoint, CHECKPOINT_SCOPE, CHECKPOINT_TYPE } from './checkpointer.js'
export { streamToEntity, entityToStream } from './names.js'
export type { CausewayReadEvent, CausewayReadEventMetadata } from './read-event.js'
export { useEmmett } from './peer.js'
