// The frame codec: EncodeFrame and DecodeFrame on frames built by hand.

#include <sys/mman.h>
#include <unistd.h>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "../crc32c.h"
#include "fixture.h"

namespace causeway::test {
namespace {

// ===========================================================================
// Frame codec

TEST(FrameRoundTripLosesFields) {
  for (int variant = 0; variant < 4; variant++) {
    FrameSpec s;
    s.flags = static_cast<uint8_t>((variant & 1 ? kFlagHasCausation : 0) | (variant & 2 ? kFlagIdempotent : 0));
    s.causation = variant & 1;
    s.idempotency = variant & 2;
    s.kind = static_cast<uint16_t>(0x3000 | variant);
    s.clock = 77 + variant;
    s.sequence = 0x0123456789abcdefull + variant;
    s.timestamp_us = -5 + variant;  // any i64 survives
    s.entity = std::string(1 + variant * 3, 'e');
    s.scope = std::string(2 + variant, 's');
    s.payload = variant == 3 ? std::string() : std::string(10 + variant, 'p');
    s.seed = static_cast<uint8_t>(variant + 3);
    std::vector<uint8_t> buf;
    AppendFrame(&buf, s);
    CHECK_EQ(buf.size(), FrameSpan(static_cast<uint16_t>(s.entity.size()), static_cast<uint16_t>(s.scope.size()),
                                   static_cast<uint32_t>(s.payload.size())));
    CHECK_EQ(buf.size() % kFrameAlign, size_t(0));
    FrameView v;
    CHECK_EQ(DecodeFrame(buf.data(), buf.size(), &v), FrameCheck::kOk);
    CHECK(v.base == buf.data());
    CHECK_EQ(v.length, uint32_t(kFrameHeaderSize + s.entity.size() + s.scope.size() + s.payload.size()));
    CHECK_EQ(v.type, kFrameTypeEvent);
    CHECK_EQ(v.flags, s.flags);
    CHECK_EQ(v.kind, s.kind);
    CHECK_EQ(v.clock, s.clock);
    CHECK_EQ(v.sequence, s.sequence);
    CHECK_EQ(v.timestamp_us, s.timestamp_us);
    CHECK_EQ(std::string(reinterpret_cast<const char*>(v.entity()), v.entity_len), s.entity);
    CHECK_EQ(std::string(reinterpret_cast<const char*>(v.scope()), v.scope_len), s.scope);
    CHECK_EQ(std::string(reinterpret_cast<const char*>(v.payload()), v.payload_len), s.payload);
    // Ids and hashes as AppendFrame generated them.
    for (int j = 0; j < 16; j++) {
      CHECK_EQ(v.event_id()[j], static_cast<uint8_t>(s.seed * 31 + 0 * 17 + j));
      CHECK_EQ(v.correlation_id()[j], static_cast<uint8_t>(s.seed * 31 + 1 * 17 + j));
      CHECK_EQ(v.causation_id()[j], s.causation ? static_cast<uint8_t>(s.seed * 31 + 2 * 17 + j) : uint8_t(0));
      CHECK_EQ(v.idempotency()[j], s.idempotency ? static_cast<uint8_t>(s.seed * 31 + 3 * 17 + j) : uint8_t(0));
    }
    for (int j = 0; j < 32; j++) {
      CHECK_EQ(v.content_hash()[j], static_cast<uint8_t>(s.seed * 7 + 0 * 101 + j * 3));
      CHECK_EQ(v.prev_hash()[j], static_cast<uint8_t>(s.seed * 7 + 1 * 101 + j * 3));
    }
    // The stored CRC is the masked CRC of [0,4) and [8,length).
    CHECK_EQ(LoadLE<uint32_t>(buf.data() + frame::kCrc), FrameCrc(buf.data(), v.length));
    uint32_t raw = crc32c::Value(buf.data(), 4);
    raw = crc32c::Extend(raw, buf.data() + 8, v.length - 8);
    CHECK_EQ(crc32c::Unmask(LoadLE<uint32_t>(buf.data() + frame::kCrc)), raw);
  }
}

TEST(FramePaddingNotZeroed) {
  // Lengths landing on every residue mod 8.
  for (size_t plen = 0; plen < 16; plen++) {
    FrameSpec s;
    s.entity = "e";
    s.scope = "s";
    s.payload = std::string(plen, 'x');
    std::vector<uint8_t> buf;
    AppendFrame(&buf, s);  // AppendFrame pre-fills with 0xAB
    const uint32_t length = LoadLE<uint32_t>(buf.data());
    CHECK_EQ(buf.size(), AlignFrame(length));
    for (size_t i = length; i < buf.size(); i++) CHECK_EQ(buf[i], uint8_t(0));
  }
}

TEST(FlippedBitDecodesAsOk) {
  // Several lengths, some with padding, each with and without trailing
  // zero bytes after the frame (a segment's unwritten space).
  for (size_t plen : {size_t(0), size_t(1), size_t(5), size_t(8), size_t(61)}) {
    for (size_t tail : {size_t(0), size_t(64)}) {
      FrameSpec s;
      s.payload = std::string(plen, 'q');
      s.flags = kFlagIdempotent | kFlagHasCausation;
      s.causation = s.idempotency = true;
      std::vector<uint8_t> buf;
      AppendFrame(&buf, s);
      const uint32_t length = LoadLE<uint32_t>(buf.data());
      buf.resize(buf.size() + tail, 0);
      FrameView v;
      CHECK_EQ(DecodeFrame(buf.data(), buf.size(), &v), FrameCheck::kOk);
      for (uint32_t i = 0; i < length; i++) {
        for (int bit = 0; bit < 8; bit++) {
          buf[i] ^= static_cast<uint8_t>(1u << bit);
          FrameCheck c = DecodeFrame(buf.data(), buf.size(), &v);
          buf[i] ^= static_cast<uint8_t>(1u << bit);
          if (c != FrameCheck::kBadChecksum && c != FrameCheck::kBadFields && c != FrameCheck::kTruncated) {
            Fail(__FILE__, __LINE__,
                 "payload " + std::to_string(plen) + " tail " + std::to_string(tail) + ": bit " +
                     std::to_string(bit) + " of byte " + std::to_string(i) + " gives " + FrameCheckName(c));
            return;
          }
        }
      }
    }
  }
}

TEST(ImpossibleFieldsWithGoodCrcAccepted) {
  // Fields a CRC cannot vouch for: rewrite a field, recompute the CRC.
  auto mutate = [](std::function<void(uint8_t*)> edit) {
    FrameSpec s;
    std::vector<uint8_t> buf;
    AppendFrame(&buf, s);
    edit(buf.data());
    const uint32_t length = LoadLE<uint32_t>(buf.data());
    StoreLE<uint32_t>(buf.data() + frame::kCrc, FrameCrc(buf.data(), length));
    FrameView v;
    return DecodeFrame(buf.data(), buf.size(), &v);
  };
  CHECK_EQ(mutate([](uint8_t* p) { p[frame::kType] = 2; }), FrameCheck::kBadFields);
  CHECK_EQ(mutate([](uint8_t* p) { p[frame::kFlags] = 0x20; }), FrameCheck::kBadFields);
  CHECK_EQ(mutate([](uint8_t* p) { StoreLE<uint32_t>(p + frame::kClock, 0); }), FrameCheck::kBadFields);
  CHECK_EQ(mutate([](uint8_t* p) { StoreLE<uint16_t>(p + frame::kEntityLen, 0); }), FrameCheck::kBadFields);
  CHECK_EQ(mutate([](uint8_t* p) { StoreLE<uint16_t>(p + frame::kScopeLen, 0); }), FrameCheck::kBadFields);
  CHECK_EQ(mutate([](uint8_t* p) {
             // Lengths that no longer sum to the frame length.
             StoreLE<uint16_t>(p + frame::kEntityLen, LoadLE<uint16_t>(p + frame::kEntityLen) + 1);
           }),
           FrameCheck::kBadFields);
  // Names longer than 1024 bytes, everything else consistent.
  for (size_t n : {size_t(1024), size_t(1025), size_t(4000)}) {
    FrameSpec s;
    s.entity = std::string(n, 'e');
    std::vector<uint8_t> b;
    AppendFrame(&b, s);
    FrameView v;
    CHECK_EQ(DecodeFrame(b.data(), b.size(), &v), n <= kMaxNameBytes ? FrameCheck::kOk : FrameCheck::kBadFields);
    s.entity = "e";
    s.scope = std::string(n, 's');
    b.clear();
    AppendFrame(&b, s);
    CHECK_EQ(DecodeFrame(b.data(), b.size(), &v), n <= kMaxNameBytes ? FrameCheck::kOk : FrameCheck::kBadFields);
  }
  // A length shorter than a header.
  std::vector<uint8_t> buf(256, 0);
  StoreLE<uint32_t>(buf.data(), 100);
  FrameView v;
  CHECK_EQ(DecodeFrame(buf.data(), buf.size(), &v), FrameCheck::kBadFields);
}

TEST(LengthPastAvailableNotTruncated) {
  FrameSpec s;
  s.payload = std::string(40, 'z');
  std::vector<uint8_t> buf;
  AppendFrame(&buf, s);
  const uint32_t length = LoadLE<uint32_t>(buf.data());
  FrameView v;
  for (uint64_t avail = 8; avail < length; avail++) CHECK_EQ(DecodeFrame(buf.data(), avail, &v), FrameCheck::kTruncated);
  CHECK_EQ(DecodeFrame(buf.data(), length, &v), FrameCheck::kOk);
  // Fewer than 8 bytes holding a non-zero length word.
  for (uint64_t avail = 4; avail < 8; avail++) CHECK_EQ(DecodeFrame(buf.data(), avail, &v), FrameCheck::kTruncated);
  // A huge length.
  StoreLE<uint32_t>(buf.data(), 0xfffffff8u);
  CHECK_EQ(DecodeFrame(buf.data(), buf.size(), &v), FrameCheck::kTruncated);
}

TEST(ZeroBytesNotEnd) {
  std::vector<uint8_t> zeros(4096, 0);
  FrameView v;
  CHECK_EQ(DecodeFrame(zeros.data(), 0, &v), FrameCheck::kEnd);
  for (uint64_t avail : {uint64_t(4), uint64_t(7), uint64_t(8), uint64_t(167), uint64_t(168), uint64_t(4096)})
    CHECK_EQ(DecodeFrame(zeros.data(), avail, &v), FrameCheck::kEnd);
  // A zero length word followed by a non-zero CRC word is not unwritten space.
  zeros[5] = 1;
  CHECK_EQ(DecodeFrame(zeros.data(), zeros.size(), &v), FrameCheck::kBadFields);
}

// DecodeFrame promises to read only `avail` bytes. Place 1..7 bytes right
// before an inaccessible page: any read past them faults.
TEST(ShortTailReadPastAvail) {
  const long page = ::sysconf(_SC_PAGESIZE);
  uint8_t* m = static_cast<uint8_t*>(::mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  CHECK(m != MAP_FAILED);
  CHECK(::mprotect(m + page, page, PROT_NONE) == 0);
  FrameView v;
  for (uint64_t avail = 1; avail < 8; avail++) {
    uint8_t* p = m + page - avail;
    std::memset(p, 0, avail);
    FrameCheck c = DecodeFrame(p, avail, &v);  // faults if it reads past p + avail
    CHECK_EQ(c, FrameCheck::kEnd);
    p[0] = 0x40;
    c = DecodeFrame(p, avail, &v);
    CHECK_EQ(c, FrameCheck::kTruncated);
  }
  ::munmap(m, 2 * page);
}

}  // namespace
}  // namespace causeway::test
