import diagnostics_channel from 'node:diagnostics_channel'

/**
 * The store's diagnostics channels (node:diagnostics_channel), for tracing
 * libraries. Messages are built only when a channel has subscribers.
 *
 * - `causeway:append` (a TracingChannel: `tracing:causeway:append:start`,
 *   `:end`, `:error`): context `{ dataDir, op, events, durable }`; `:end`
 *   adds `result` (the receipt or receipts), `:error` adds `error`.
 * - `causeway:sync`: `{ dataDir, micros }` per sync the engine made.
 * - `causeway:roll`: `{ dataDir, micros }` per segment roll.
 * - `causeway:compaction` (a TracingChannel): context `{ dataDir, op }` (op
 *   'compact' or 'compactAsync'); `:end` (`:asyncEnd` for compactAsync)
 *   adds `result`, the compaction report.
 * - `causeway:recovery`: `{ dataDir, micros, tornBytes, fromCheckpoint, footersLoaded }` once per open.
 * - `causeway:projection-snapshot`: `{ dataDir, projection, event, reason?, bytes?, entities? }`
 *   where event is 'written', 'ignored' (a file or entry not reused, and why)
 *   or 'skipped' (a state that cannot be stored, and why).
 * - `causeway:maintenance`: `{ dataDir, task, event, report?, error? }` where task is
 *   'compact' or 'snapshot' and event 'done', 'failed' or 'pruned'.
 */
export const appendChannel = diagnostics_channel.tracingChannel('causeway:append')
export const compactionChannel = diagnostics_channel.tracingChannel('causeway:compaction')
export const syncChannel = diagnostics_channel.channel('causeway:sync')
export const rollChannel = diagnostics_channel.channel('causeway:roll')
export const recoveryChannel = diagnostics_channel.channel('causeway:recovery')
export const projectionSnapshotChannel = diagnostics_channel.channel('causeway:projection-snapshot')
export const maintenanceChannel = diagnostics_channel.channel('causeway:maintenance')

export const CHANNEL_NAMES = [
  'causeway:append',
  'causeway:sync',
  'causeway:roll',
  'causeway:compaction',
  'causeway:recovery',
  'causeway:projection-snapshot',
  'causeway:maintenance',
] as const

/** Whether anyone listens on the append tracing channel (cheap: checked per append). */
export function appendTraced(): boolean {
  return appendChannel.hasSubscribers
}
