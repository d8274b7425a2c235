// The contenders: causeway and its peers, each writing the workload of
// ./workload.mjs into its own directory. Every method runs one whole loop, so
// the harness adds one call per workload, not per event.
//
//   open(dir, { durable })   -> handle
//   appendSingle(h, n)        events 0..n-1, one call (one commit) each
//   appendBatch(h, n)         the same events, atomic batches of config.batch
//   appendDurable(h, n)       one call each, acknowledged after fdatasync
//   close(h)
//   reads[name](h, arg)       -> { events, check }  (check: sum of payload.qty,
//                                 or of kinds for header-only reads; equal
//                                 across contenders)
//   reopen(dir) / closeReopened(h) / reopenedStats(h)   for the open probe
//   writes                    the append workloads it runs (default: all three)
import { causeway } from './causeway.mjs'
import { floorContender } from './floor.mjs'
import { lmdbContender, peerVersions, sqliteContender } from './peers.mjs'

export { peerVersions }

export const contenders = [
  causeway('causeway', 'causeway', {}, 'default sync: background fdatasync every 1000 events / 10 ms'),
  causeway('causeway-nosync', 'causeway (sync.mode none)', { sync: { mode: 'none' } }, 'no background sync (appends only)', {
    writeOnly: true,
  }),
  lmdbContender(false),
  lmdbContender(true),
  sqliteContender(false),
  sqliteContender(true),
  floorContender(),
  floorContender({ preallocate: false }),
]

export const byId = Object.fromEntries(contenders.map((c) => [c.id, c]))
