/**
 * The byte layouts TypeScript shares with the addon (native/js_layouts.h,
 * native/format.h): the request buffer, receipts, batch items and read records.
 */
/** Layout of the shared request buffer (TypeScript writes, native reads). */
export const Req = {
  entity: 0,
  scope: 4,
  kind: 8,
  flags: 10,
  expected: 12,
  correlation: 16,
  causation: 32,
  keyLen: 48,
  key: 52,
  extLen: 1076,
  ext: 1080,
  size: 1080 + 4144,
  hasExpected: 1,
  hasKey: 2,
  hasCorrelation: 4,
  hasCausation: 8,
  priorItem: 16,
  hasExtension: 32,
} as const

/** Layout of one receipt (native writes). */
export const Rcpt = {
  sequence: 0,
  clock: 8,
  flags: 12,
  timestamp: 16,
  eventId: 24,
  correlation: 40,
  causation: 56,
  contentHash: 72,
  prevHash: 104,
  size: 136,
  durable: 1,
  deduplicated: 2,
  hasCausation: 4,
} as const

/** Layout of one batch item descriptor. */
export const Item = {
  entity: 0,
  scope: 4,
  kind: 8,
  flags: 10,
  expected: 12,
  priorItem: 16,
  payloadOffset: 20,
  payloadLen: 24,
  keyOffset: 28,
  keyLen: 32,
  correlation: 40,
  causation: 56,
  extOffset: 72,
  extLen: 76,
  size: 80,
} as const

/** A read record: 16-byte prefix, then the frame as on disk (native/FORMAT.md). */
export const Rec = { span: 0, entity: 4, scope: 8, prefix: 16 } as const

/** Frame field offsets (native/format.h). */
export const Frame = {
  length: 0,
  flags: 9,
  kind: 10,
  entityLen: 12,
  scopeLen: 14,
  payloadLen: 16,
  clock: 20,
  sequence: 24,
  timestamp: 32,
  eventId: 40,
  correlation: 56,
  causation: 72,
  contentHash: 104,
  prevHash: 136,
  variable: 168,
  flagHasCausation: 0x08,
  flagTombstone: 0x10,
  flagExtension: 0x20,
} as const
