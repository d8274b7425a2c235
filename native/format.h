// Byte layout of causeway's segment files. native/FORMAT.md is the prose
// version with a worked example; the two must agree.
//
// A data directory holds segment files named "<16 hex digits>.cwseg" by id.
// Every integer is little-endian. Every frame starts 8-byte aligned.
//
// Segment header, 128 bytes:
//   +0   u8[8]  magic "CWSEGv01"
//   +8   u32    format version (kFormatVersion)
//   +12  u32    header size (kSegmentHeaderSize)
//   +16  u64    segment id
//   +24  u64    base sequence: global sequence of the first frame it may hold
//   +32  i64    created at, microseconds since the Unix epoch
//   +40  u32    reserved, zero
//   +44  u32    masked CRC32C of bytes [0, 44)
//   +48  u8[16] reserved, zero
//   +64  frontier slot 0 (32 bytes)
//   +96  frontier slot 1 (32 bytes)
//
// Frontier slot, 32 bytes; the valid slot with the larger generation wins:
//   +0   u64  generation (0: never written)
//   +8   u64  end: bytes [128, end) were fdatasynced and hold whole frames
//   +16  u64  next sequence: global sequence after the last frame below end
//   +24  u32  state: 1 open (the writer may add frames), 2 sealed (end is final)
//   +28  u32  masked CRC32C of bytes [0, 28) of the slot
//
// Frame, kFrameHeaderSize bytes of header, then the variable part:
//   +0   u32  length of the frame, header included, padding excluded
//   +4   u32  masked CRC32C of bytes [0, 4) then [8, length)
//   +8   u8   type: 1 event
//   +9   u8   flags (kFlag*)
//   +10  u16  kind: category << 12 | type
//   +12  u16  entity length in bytes (1..1024, UTF-8)
//   +14  u16  scope length in bytes (1..1024, UTF-8)
//   +16  u32  payload length in bytes (the msgpack encoding)
//   +20  u32  clock: 1 for an entity's first event
//   +24  u64  global sequence
//   +32  i64  timestamp, microseconds since the Unix epoch, never decreasing
//   +40  u8[16] event id (UUIDv7, RFC 9562 byte order)
//   +56  u8[16] correlation id
//   +72  u8[16] causation id, all zero when none
//   +88  u8[16] idempotency digest: first 16 bytes of BLAKE3(key), zero when none
//   +104 u8[32] content hash: BLAKE3 of the payload bytes
//   +136 u8[32] prev hash: content hash of the entity's previous event, zero for the first
//   +168 entity bytes, scope bytes, payload bytes
//   then, with kFlagExtension only, the extension block (format version 2):
//     +0  u16 block length (kExtensionFixed + the tags' bytes)
//     +2  u16 type version, 1..65535
//     +4  u8  fields: kExtOccurredAt when the occurred-at time is set
//     +5  u8  tag count, 0..kMaxTags
//     +6  i64 occurred at, microseconds since the Unix epoch (0 when not set)
//     +14 each tag: u8 length (1..kMaxTagBytes), that many bytes of UTF-8
//   then zero bytes up to the next multiple of 8.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace causeway {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "causeway's format code assumes a little-endian host");

constexpr char kSegmentMagic[8] = {'C', 'W', 'S', 'E', 'G', 'v', '0', '1'};
// Version 2 adds the frame extension block; a segment of version 1 never holds
// a frame with kFlagExtension (the writer starts a new segment first).
constexpr uint32_t kFormatVersion = 2;
constexpr uint32_t kOldestFormatVersion = 1;
constexpr size_t kSegmentHeaderSize = 128;
constexpr size_t kHeaderCrcOffset = 44;
constexpr size_t kFrontierSlot0 = 64;
constexpr size_t kFrontierSlotSize = 32;
constexpr size_t kFrontierCrcOffset = 28;

constexpr uint32_t kFrontierOpen = 1;
constexpr uint32_t kFrontierSealed = 2;

constexpr size_t kFrameHeaderSize = 168;
constexpr size_t kFrameAlign = 8;
constexpr uint8_t kFrameTypeEvent = 1;

// Frame flags.
constexpr uint8_t kFlagBatchMember = 0x01;  // part of an atomic batch
constexpr uint8_t kFlagBatchEnd = 0x02;     // last frame of its batch: commits the batch
constexpr uint8_t kFlagIdempotent = 0x04;   // idempotency digest is set
constexpr uint8_t kFlagHasCausation = 0x08; // causation id is set
constexpr uint8_t kFlagTombstone = 0x10;    // payload replaced by compaction
constexpr uint8_t kFlagExtension = 0x20;   // an extension block follows the payload
constexpr uint8_t kKnownFlags = 0x3f;

// The extension block (after the payload, unaligned: read with LoadLE).
constexpr size_t kExtensionFixed = 14;
constexpr size_t kMaxTags = 32;
constexpr size_t kMaxTagBytes = 128;
constexpr size_t kMaxExtensionBytes = kExtensionFixed + kMaxTags * (1 + kMaxTagBytes);
constexpr uint8_t kExtOccurredAt = 0x01;
namespace ext {
constexpr size_t kLength = 0, kVersion = 2, kFields = 4, kTagCount = 5, kOccurredAt = 6, kTags = 14;
}  // namespace ext

constexpr size_t kMaxNameBytes = 1024;
constexpr uint32_t kMaxPayloadBytesLimit = 64u << 20;

// Field offsets inside a frame.
namespace frame {
constexpr size_t kLength = 0;
constexpr size_t kCrc = 4;
constexpr size_t kType = 8;
constexpr size_t kFlags = 9;
constexpr size_t kKind = 10;
constexpr size_t kEntityLen = 12;
constexpr size_t kScopeLen = 14;
constexpr size_t kPayloadLen = 16;
constexpr size_t kClock = 20;
constexpr size_t kSequence = 24;
constexpr size_t kTimestamp = 32;
constexpr size_t kEventId = 40;
constexpr size_t kCorrelationId = 56;
constexpr size_t kCausationId = 72;
constexpr size_t kIdempotency = 88;
constexpr size_t kContentHash = 104;
constexpr size_t kPrevHash = 136;
constexpr size_t kVariable = 168;
}  // namespace frame

static_assert(frame::kVariable == kFrameHeaderSize, "frame header fields must fill the header exactly");
static_assert(kFrontierSlot0 + 2 * kFrontierSlotSize == kSegmentHeaderSize, "two frontier slots end the header");
static_assert(kFrameHeaderSize % kFrameAlign == 0, "the variable part starts aligned");
static_assert(kSegmentHeaderSize % kFrameAlign == 0, "the first frame starts aligned");

inline constexpr uint64_t AlignFrame(uint64_t n) { return (n + kFrameAlign - 1) & ~uint64_t(kFrameAlign - 1); }

template <typename T>
inline T LoadLE(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <typename T>
inline void StoreLE(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

// The fixed fields of one frame, as decoded; the variable part is referenced, not copied.
struct FrameView {
  const uint8_t* base = nullptr;  // start of the frame
  uint32_t length = 0;
  uint8_t type = 0;
  uint8_t flags = 0;
  uint16_t kind = 0;
  uint16_t entity_len = 0;
  uint16_t scope_len = 0;
  uint32_t payload_len = 0;
  uint32_t clock = 0;
  uint64_t sequence = 0;
  int64_t timestamp_us = 0;

  const uint8_t* event_id() const { return base + frame::kEventId; }
  const uint8_t* correlation_id() const { return base + frame::kCorrelationId; }
  const uint8_t* causation_id() const { return base + frame::kCausationId; }
  const uint8_t* idempotency() const { return base + frame::kIdempotency; }
  const uint8_t* content_hash() const { return base + frame::kContentHash; }
  const uint8_t* prev_hash() const { return base + frame::kPrevHash; }
  const uint8_t* entity() const { return base + frame::kVariable; }
  const uint8_t* scope() const { return entity() + entity_len; }
  const uint8_t* payload() const { return scope() + scope_len; }
  // The extension block (kFlagExtension), ext_len bytes; null and 0 without one.
  const uint8_t* extension() const { return ext_len ? payload() + payload_len : nullptr; }
  uint16_t ext_len = 0;
};

}  // namespace causeway
