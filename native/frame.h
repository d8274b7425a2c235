// Frame codec: writes one frame into a buffer, and checks and decodes one
// frame read from a segment. Pure functions over bytes; no I/O.
#pragma once

#include <cstddef>
#include <cstdint>

#include "format.h"

namespace causeway {

// Everything a frame holds, ready to be laid out by EncodeFrame.
struct FrameFields {
  uint8_t flags = 0;
  uint16_t kind = 0;
  uint32_t clock = 0;
  uint64_t sequence = 0;
  int64_t timestamp_us = 0;
  const uint8_t* event_id = nullptr;        // 16 bytes
  const uint8_t* correlation_id = nullptr;  // 16 bytes
  const uint8_t* causation_id = nullptr;    // 16 bytes or null (none)
  const uint8_t* idempotency = nullptr;     // 16 bytes or null (none)
  const uint8_t* content_hash = nullptr;    // 32 bytes
  const uint8_t* prev_hash = nullptr;       // 32 bytes
  const uint8_t* entity = nullptr;
  uint16_t entity_len = 0;
  const uint8_t* scope = nullptr;
  uint16_t scope_len = 0;
  const uint8_t* payload = nullptr;
  uint32_t payload_len = 0;
  // The extension block (checked with CheckExtension), or null and 0: then
  // the frame has no kFlagExtension and is exactly a version-1 frame.
  const uint8_t* extension = nullptr;
  uint16_t ext_len = 0;
};

// Bytes the frame occupies in a segment, padding included.
inline uint64_t FrameSpan(uint16_t entity_len, uint16_t scope_len, uint32_t payload_len, uint32_t ext_len = 0) {
  return AlignFrame(kFrameHeaderSize + uint64_t(entity_len) + scope_len + payload_len + ext_len);
}

// True when `len` bytes at p are a well-formed extension block: its length
// word says `len`, version 1 or more, known field bits, at most kMaxTags
// distinct tags of 1..kMaxTagBytes bytes each filling the block exactly. Tag bytes
// are checked further (UTF-8, no control characters) by the TypeScript
// layer that encodes them; the core treats them as opaque keys.
bool CheckExtension(const uint8_t* p, size_t len);

// Calls fn(const uint8_t* tag, size_t len) for each tag of a checked block.
template <typename Fn>
void ForEachTag(const uint8_t* ext, Fn fn) {
  const size_t n = ext[ext::kTagCount];
  const uint8_t* t = ext + ext::kTags;
  for (size_t i = 0; i < n; i++) {
    fn(t + 1, size_t(t[0]));
    t += 1 + t[0];
  }
}

// Lays the frame out at dst, which has FrameSpan(...) bytes, padding zeroed,
// CRC computed. Returns the span written.
uint64_t EncodeFrame(const FrameFields& f, uint8_t* dst);

enum class FrameCheck {
  kOk,          // a whole frame whose CRC and fields check
  kEnd,         // zero bytes where a length would be: the unwritten rest of a segment
  kTruncated,   // the length runs past the bytes available
  kBadChecksum, // CRC mismatch
  kBadFields,   // CRC fine but a field is impossible (length sum, type, flags)
};

// Fills *out from a frame this process just encoded (no checks: its bytes are
// known good). Everything read back from disk goes through DecodeFrame.
void ViewEncodedFrame(const uint8_t* p, FrameView* out);

// Checks the frame at p with `avail` readable bytes after it and fills *out.
FrameCheck DecodeFrame(const uint8_t* p, uint64_t avail, FrameView* out);
const char* FrameCheckName(FrameCheck c);

// The CRC as stored: masked, over [0, 4) then [8, length).
uint32_t FrameCrc(const uint8_t* frame, uint32_t length);

}  // namespace causeway
