// CRC32C (both the dispatched and the portable code) and the BLAKE3 wrapper.

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "../crc32c.h"
#include "../hash.h"
#include "fixture.h"

namespace causeway::test {
namespace {

// ===========================================================================
// CRC32C

TEST(Crc32cKnownVectorsMismatch) {
  const std::string digits = "123456789";
  CHECK_EQ(crc32c::Value(U8(digits), digits.size()), 0xE3069283u);
  CHECK_EQ(crc32c::ExtendPortable(0, U8(digits), digits.size()), 0xE3069283u);
  uint8_t zeros[32] = {};
  CHECK_EQ(crc32c::Value(zeros, 32), 0x8A9136AAu);
  CHECK_EQ(crc32c::ExtendPortable(0, zeros, 32), 0x8A9136AAu);
  uint8_t ones[32];
  std::memset(ones, 0xff, sizeof ones);
  CHECK_EQ(crc32c::Value(ones, 32), 0x62A8AB43u);  // RFC 3720 B.4
  uint8_t inc[32];
  for (int i = 0; i < 32; i++) inc[i] = static_cast<uint8_t>(i);
  CHECK_EQ(crc32c::Value(inc, 32), 0x46DD794Eu);  // RFC 3720 B.4
  CHECK_EQ(crc32c::Value(nullptr, 0), 0u);
  const char* impl = crc32c::Implementation();
  CHECK(impl != nullptr);
  std::printf("    crc32c implementation: %s\n", impl);
}

TEST(Crc32cExtendIsNotIncremental) {
  const std::string s = "hello, crc32c, split anywhere";
  const uint32_t whole = crc32c::Value(U8(s), s.size());
  for (size_t cut = 0; cut <= s.size(); cut++) {
    uint32_t c = crc32c::Extend(0, U8(s), cut);
    c = crc32c::Extend(c, U8(s) + cut, s.size() - cut);
    CHECK_EQ(c, whole);
    uint32_t p = crc32c::ExtendPortable(0, U8(s), cut);
    p = crc32c::ExtendPortable(p, U8(s) + cut, s.size() - cut);
    CHECK_EQ(p, whole);
  }
}

TEST(Crc32cDispatchedDiffersFromPortable) {
  std::mt19937_64 rng(42);
  std::vector<uint8_t> buf(300 + 16);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  for (size_t offset = 0; offset < 8; offset++) {
    for (size_t len = 0; len <= 300; len++) {
      const uint8_t* p = buf.data() + offset;
      CHECK_EQ(crc32c::Extend(0, p, len), crc32c::ExtendPortable(0, p, len));
      const uint32_t seed = static_cast<uint32_t>(rng());
      CHECK_EQ(crc32c::Extend(seed, p, len), crc32c::ExtendPortable(seed, p, len));
    }
  }
  // Fresh random contents, every length, odd offsets into a heap block.
  for (int round = 0; round < 20; round++) {
    for (auto& b : buf) b = static_cast<uint8_t>(rng());
    const size_t offset = 1 + rng() % 15;
    const size_t len = rng() % (buf.size() - offset + 1);
    CHECK_EQ(crc32c::Value(buf.data() + offset, len), crc32c::ExtendPortable(0, buf.data() + offset, len));
  }
}

TEST(Crc32cMaskDoesNotRoundTrip) {
  std::mt19937 rng(7);
  const uint32_t specials[] = {0u, 1u, 0xffffffffu, 0x80000000u, 0xa282ead8u, 0xE3069283u};
  for (uint32_t v : specials) {
    CHECK_EQ(crc32c::Unmask(crc32c::Mask(v)), v);
    CHECK(crc32c::Mask(v) != v);
  }
  for (int i = 0; i < 100000; i++) {
    const uint32_t v = rng();
    CHECK_EQ(crc32c::Unmask(crc32c::Mask(v)), v);
    CHECK_EQ(crc32c::Mask(crc32c::Unmask(v)), v);
  }
  // Masking a CRC and taking the CRC of the masked value do not agree by accident.
  const std::string s = "foo";
  const uint32_t c = crc32c::Value(U8(s), s.size());
  CHECK(crc32c::Mask(c) != c);
  CHECK(crc32c::Mask(crc32c::Mask(c)) != crc32c::Mask(c));
}

// ===========================================================================
// BLAKE3

TEST(Blake3KnownVectorsMismatch) {
  uint8_t out[32];
  Blake3(nullptr, 0, out);
  CHECK_EQ(Hex(out, 32), std::string("af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"));
  Blake3(U8(std::string("abc")), 3, out);
  CHECK_EQ(Hex(out, 32), std::string("6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"));
}

TEST(Blake3PrefixIsNotAPrefixOfTheHash) {
  // The 16-byte idempotency digest is the first 16 bytes of the 32-byte hash.
  std::string big(5000, 'x');  // more than one 1 KiB chunk: the SIMD paths
  for (size_t i = 0; i < big.size(); i++) big[i] = static_cast<char>(i * 131);
  for (size_t n : {size_t(0), size_t(1), size_t(64), size_t(1024), size_t(1025), big.size()}) {
    uint8_t full[32], prefix[16], longer[64];
    Blake3(U8(big), n, full);
    Blake3Prefix(U8(big), n, prefix, 16);
    Blake3Prefix(U8(big), n, longer, 64);
    CHECK(std::memcmp(full, prefix, 16) == 0);
    CHECK(std::memcmp(full, longer, 32) == 0);
  }
  uint8_t a[32], b[32];
  Blake3(U8(big), 1024, a);
  Blake3(U8(big), 1023, b);
  CHECK(std::memcmp(a, b, 32) != 0);
}

}  // namespace
}  // namespace causeway::test
