// libFuzzer target: the frame decoder and the segment frame scanner on raw
// bytes, no I/O. Built by scripts/reliability-fuzz.mjs (clang, ASan, UBSan),
// never by CMakeLists.txt. Invariants checked beyond "no crash, no UB":
//  - a frame DecodeFrame accepts lies inside the input, its CRC checks, and
//    its field lengths add up to its length;
//  - the scanner visits frames inside [0, size) in strictly increasing
//    sequence order and its committed end never passes the input;
//  - encode(decode(x)) == x for every accepted frame (the bytes round-trip).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../frame.h"
#include "../log_reader.h"
#include "check.h"

using namespace causeway;

static void RoundTrip(const FrameView& v) {
  FrameFields f;
  f.flags = v.flags;
  f.kind = v.kind;
  f.clock = v.clock;
  f.sequence = v.sequence;
  f.timestamp_us = v.timestamp_us;
  f.event_id = v.event_id();
  f.correlation_id = v.correlation_id();
  static const uint8_t kZero[16] = {};
  f.causation_id = std::memcmp(v.causation_id(), kZero, 16) ? v.causation_id() : nullptr;
  f.idempotency = std::memcmp(v.idempotency(), kZero, 16) ? v.idempotency() : nullptr;
  f.content_hash = v.content_hash();
  f.prev_hash = v.prev_hash();
  f.entity = v.entity();
  f.entity_len = v.entity_len;
  f.scope = v.scope();
  f.scope_len = v.scope_len;
  f.payload = v.payload();
  f.payload_len = v.payload_len;
  std::vector<uint8_t> out(FrameSpan(v.entity_len, v.scope_len, v.payload_len));
  uint64_t span = EncodeFrame(f, out.data());
  CHECK(span == out.size());
  CHECK(std::memcmp(out.data(), v.base, v.length) == 0);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Copy into an 8-aligned buffer, as a mapping would be.
  std::vector<uint64_t> aligned((size + 7) / 8 + 1);
  uint8_t* p = reinterpret_cast<uint8_t*>(aligned.data());
  if (size) std::memcpy(p, data, size);

  FrameView v;
  if (DecodeFrame(p, size, &v) == FrameCheck::kOk) {
    CHECK(v.length <= size);
    CHECK(v.length >= kFrameHeaderSize);
    CHECK(uint64_t(kFrameHeaderSize) + v.entity_len + v.scope_len + v.payload_len == v.length);
    CHECK(LoadLE<uint32_t>(p + 4) == FrameCrc(p, v.length));
    RoundTrip(v);
  }

  uint64_t last = 0;
  bool any = false;
  ScanOutcome out = ScanFrames(p, 0, size, 0, [&](const FrameView& f, uint64_t at) {
    CHECK(at + f.length <= size);
    CHECK(!any || f.sequence > last);
    CHECK(LoadLE<uint32_t>(f.base + 4) == FrameCrc(f.base, f.length));
    last = f.sequence;
    any = true;
  });
  CHECK(out.committed_end <= size || (size % 8 != 0 && out.committed_end <= AlignFrame(size)));
  CHECK(out.stop_offset >= out.committed_end);
  return 0;
}
