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
};

// Bytes the frame occupies in a segment, padding included.
inline uint64_t FrameSpan(uint16_t entity_len, uint16_t scope_len, uint32_t payload_len) {
  return AlignFrame(kFrameHeaderSize + uint64_t(entity_len) + scope_len + payload_len);
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
