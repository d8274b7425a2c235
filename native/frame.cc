#include "frame.h"

#include "crc32c.h"
#include <cstring>

namespace causeway {

uint32_t FrameCrc(const uint8_t* frame, uint32_t length) {
  uint32_t c = crc32c::Extend(0, frame, 4);
  c = crc32c::Extend(c, frame + 8, length - 8);
  return crc32c::Mask(c);
}

bool CheckExtension(const uint8_t* p, size_t len) {
  if (len < kExtensionFixed || len > kMaxExtensionBytes || LoadLE<uint16_t>(p + ext::kLength) != len) return false;
  if (LoadLE<uint16_t>(p + ext::kVersion) == 0 || (p[ext::kFields] & ~kExtOccurredAt) != 0) return false;
  const size_t n = p[ext::kTagCount];
  if (n > kMaxTags) return false;
  size_t at = ext::kTags;
  size_t starts[kMaxTags];
  for (size_t i = 0; i < n; i++) {
    if (at >= len) return false;
    const size_t l = p[at];
    if (l == 0 || l > kMaxTagBytes || at + 1 + l > len) return false;
    // Distinct: the index lists each event once per tag.
    for (size_t j = 0; j < i; j++)
      if (p[starts[j]] == l && std::memcmp(p + starts[j] + 1, p + at + 1, l) == 0) return false;
    starts[i] = at;
    at += 1 + l;
  }
  return at == len;
}

uint64_t EncodeFrame(const FrameFields& f, uint8_t* dst) {
  static const uint8_t kZero16[16] = {};
  const uint32_t length =
      static_cast<uint32_t>(kFrameHeaderSize + f.entity_len + f.scope_len + f.payload_len + f.ext_len);
  const uint64_t span = AlignFrame(length);
  StoreLE<uint32_t>(dst + frame::kLength, length);
  dst[frame::kType] = kFrameTypeEvent;
  dst[frame::kFlags] = static_cast<uint8_t>(f.ext_len ? f.flags | kFlagExtension : f.flags & ~kFlagExtension);
  StoreLE<uint16_t>(dst + frame::kKind, f.kind);
  StoreLE<uint16_t>(dst + frame::kEntityLen, f.entity_len);
  StoreLE<uint16_t>(dst + frame::kScopeLen, f.scope_len);
  StoreLE<uint32_t>(dst + frame::kPayloadLen, f.payload_len);
  StoreLE<uint32_t>(dst + frame::kClock, f.clock);
  StoreLE<uint64_t>(dst + frame::kSequence, f.sequence);
  StoreLE<int64_t>(dst + frame::kTimestamp, f.timestamp_us);
  std::memcpy(dst + frame::kEventId, f.event_id, 16);
  std::memcpy(dst + frame::kCorrelationId, f.correlation_id, 16);
  std::memcpy(dst + frame::kCausationId, f.causation_id ? f.causation_id : kZero16, 16);
  std::memcpy(dst + frame::kIdempotency, f.idempotency ? f.idempotency : kZero16, 16);
  std::memcpy(dst + frame::kContentHash, f.content_hash, 32);
  std::memcpy(dst + frame::kPrevHash, f.prev_hash, 32);
  uint8_t* v = dst + frame::kVariable;
  std::memcpy(v, f.entity, f.entity_len);
  v += f.entity_len;
  std::memcpy(v, f.scope, f.scope_len);
  v += f.scope_len;
  if (f.payload_len) std::memcpy(v, f.payload, f.payload_len);
  if (f.ext_len) std::memcpy(v + f.payload_len, f.extension, f.ext_len);
  std::memset(dst + length, 0, span - length);
  StoreLE<uint32_t>(dst + frame::kCrc, FrameCrc(dst, length));
  return span;
}

void ViewEncodedFrame(const uint8_t* p, FrameView* v) {
  v->base = p;
  v->length = LoadLE<uint32_t>(p + frame::kLength);
  v->type = p[frame::kType];
  v->flags = p[frame::kFlags];
  v->kind = LoadLE<uint16_t>(p + frame::kKind);
  v->entity_len = LoadLE<uint16_t>(p + frame::kEntityLen);
  v->scope_len = LoadLE<uint16_t>(p + frame::kScopeLen);
  v->payload_len = LoadLE<uint32_t>(p + frame::kPayloadLen);
  v->clock = LoadLE<uint32_t>(p + frame::kClock);
  v->sequence = LoadLE<uint64_t>(p + frame::kSequence);
  v->timestamp_us = LoadLE<int64_t>(p + frame::kTimestamp);
  v->ext_len = static_cast<uint16_t>(v->length - kFrameHeaderSize - v->entity_len - v->scope_len - v->payload_len);
}

FrameCheck DecodeFrame(const uint8_t* p, uint64_t avail, FrameView* out) {
  if (avail < 8) {
    // Too short for a length and CRC: end of data if it is all zeros, torn otherwise.
    for (uint64_t i = 0; i < avail; i++)
      if (p[i] != 0) return FrameCheck::kTruncated;
    return FrameCheck::kEnd;
  }
  const uint32_t length = LoadLE<uint32_t>(p + frame::kLength);
  if (length == 0) {
    // A zero length with a non-zero CRC word is not unwritten space.
    return LoadLE<uint32_t>(p + frame::kCrc) == 0 ? FrameCheck::kEnd : FrameCheck::kBadFields;
  }
  if (length < kFrameHeaderSize) return FrameCheck::kBadFields;
  if (length > avail) return FrameCheck::kTruncated;
#ifndef CAUSEWAY_CANARY_NO_CRC_CHECK  // planted bug (reliability canary) when defined: no CRC check
  if (LoadLE<uint32_t>(p + frame::kCrc) != FrameCrc(p, length)) return FrameCheck::kBadChecksum;
#endif
  FrameView v;
  v.base = p;
  v.length = length;
  v.type = p[frame::kType];
  v.flags = p[frame::kFlags];
  v.kind = LoadLE<uint16_t>(p + frame::kKind);
  v.entity_len = LoadLE<uint16_t>(p + frame::kEntityLen);
  v.scope_len = LoadLE<uint16_t>(p + frame::kScopeLen);
  v.payload_len = LoadLE<uint32_t>(p + frame::kPayloadLen);
  v.clock = LoadLE<uint32_t>(p + frame::kClock);
  v.sequence = LoadLE<uint64_t>(p + frame::kSequence);
  v.timestamp_us = LoadLE<int64_t>(p + frame::kTimestamp);
  if (v.type != kFrameTypeEvent || (v.flags & ~kKnownFlags) != 0) return FrameCheck::kBadFields;
  const uint64_t fixed = uint64_t(kFrameHeaderSize) + v.entity_len + v.scope_len + v.payload_len;
  if (v.flags & kFlagExtension) {
    // The block fills the rest of the frame and checks on its own.
    if (fixed >= length || !CheckExtension(p + fixed, length - fixed)) return FrameCheck::kBadFields;
    v.ext_len = static_cast<uint16_t>(length - fixed);
  } else if (fixed != length) {
    return FrameCheck::kBadFields;
  }
  if (v.entity_len == 0 || v.entity_len > kMaxNameBytes || v.scope_len == 0 || v.scope_len > kMaxNameBytes)
    return FrameCheck::kBadFields;
  if (v.clock == 0) return FrameCheck::kBadFields;
  *out = v;
  return FrameCheck::kOk;
}

const char* FrameCheckName(FrameCheck c) {
  switch (c) {
    case FrameCheck::kOk: return "ok";
    case FrameCheck::kEnd: return "end of data";
    case FrameCheck::kTruncated: return "frame runs past the end of the data";
    case FrameCheck::kBadChecksum: return "checksum mismatch";
    case FrameCheck::kBadFields: return "impossible frame fields";
  }
  return "?";
}

}  // namespace causeway
