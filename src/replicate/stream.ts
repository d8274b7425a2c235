/**
 * The JetStream stream a store replicates to: created on first use with
 * file storage, `replicas` copies (RAFT) and de-duplication, and checked
 * when it exists (its subject must be ours). It carries two subjects: the
 * events and the fence markers promote publishes.
 */
import type { JetStreamManager, StreamInfo } from '@nats-io/jetstream'
import { ReplicationError } from '../errors.js'
import type { NatsPeers } from './nats.js'
import { fenceSubjectOf, subjectOf } from './wire.js'

/** How long JetStream remembers a Nats-Msg-Id (nanoseconds): the window a re-publish is recognised in. */
const DUPLICATE_WINDOW_NS = 10 * 60 * 1e9

export async function ensureStream(peers: NatsPeers, jsm: JetStreamManager, stream: string, replicas: number): Promise<StreamInfo> {
  const subject = subjectOf(stream)
  let info: StreamInfo | undefined
  try {
    info = await jsm.streams.info(stream)
  } catch (e) {
    if ((e as { code?: unknown }).code !== peers.jetstream.JetStreamApiCodes.StreamNotFound) throw e
  }
  if (!info) {
    info = await jsm.streams.add({
      name: stream,
      subjects: [subject, fenceSubjectOf(stream)],
      num_replicas: replicas,
      storage: peers.jetstream.StorageType.File,
      duplicate_window: DUPLICATE_WINDOW_NS,
      discard: peers.jetstream.DiscardPolicy.New,
    })
  }
  if (!info.config.subjects?.includes(subject)) {
    throw new ReplicationError(`stream ${stream} exists without subject ${subject}: it is not a causeway stream`)
  }
  // A stream made before fence markers existed gets their subject added.
  if (!info.config.subjects.includes(fenceSubjectOf(stream))) {
    info = await jsm.streams.update(stream, { ...info.config, subjects: [...info.config.subjects, fenceSubjectOf(stream)] })
  }
  return info
}
