// The frame extension block (format version 2): CheckExtension on blocks
// built by hand, and DecodeFrame on frames that carry one (or pretend to).

#include <cstring>
#include <string>
#include <vector>

#include "../frame.h"
#include "fixture.h"

namespace causeway::test {
namespace {

// A block as FORMAT.md lays it out; the length word is the block's size
// unless `length` overrides it.
std::string Block(uint16_t version, uint8_t fields, int64_t occurred_us, const std::vector<std::string>& tags,
                  int length = -1) {
  std::string b(kExtensionFixed, '\0');
  b[ext::kFields] = static_cast<char>(fields);
  b[ext::kTagCount] = static_cast<char>(tags.size());
  for (const auto& t : tags) {
    b.push_back(static_cast<char>(t.size()));
    b += t;
  }
  uint8_t* p = reinterpret_cast<uint8_t*>(b.data());
  StoreLE<uint16_t>(p + ext::kLength, static_cast<uint16_t>(length < 0 ? b.size() : size_t(length)));
  StoreLE<uint16_t>(p + ext::kVersion, version);
  StoreLE<int64_t>(p + ext::kOccurredAt, occurred_us);
  return b;
}

bool Check(const std::string& b) { return CheckExtension(U8(b), b.size()); }

TEST(CheckExtensionAcceptsAWellFormedBlock) {
  CHECK(Check(Block(1, 0, 0, {})));
  CHECK(Check(Block(7, kExtOccurredAt, -1234567, {"course:c1", "student:s1"})));
  std::vector<std::string> most;
  // The most tags, each of the longest length, distinct by their last byte.
  for (int i = 0; i < int(kMaxTags); i++) {
    most.push_back(std::string(kMaxTagBytes, 'a'));
    most.back().back() = static_cast<char>('A' + i);
  }
  const std::string big = Block(1, 0, 0, most);
  CHECK_EQ(big.size(), kMaxExtensionBytes);
  CHECK(Check(big));
}

TEST(CheckExtensionRejectsALengthWordThatIsNotTheBlockSize) {
  const std::string good = Block(1, 0, 0, {"a", "bc"});
  CHECK(!Check(Block(1, 0, 0, {"a", "bc"}, int(good.size()) - 1)));
  CHECK(!Check(Block(1, 0, 0, {"a", "bc"}, int(good.size()) + 1)));
  CHECK(!Check(Block(1, 0, 0, {"a", "bc"}, 0)));
  // Shorter than the fixed part.
  CHECK(!CheckExtension(U8(good), kExtensionFixed - 1));
}

TEST(CheckExtensionRejectsTypeVersionZero) { CHECK(!Check(Block(0, 0, 0, {"a"}))); }

TEST(CheckExtensionRejectsUnknownFieldBits) {
  for (int bit = 1; bit < 8; bit++) CHECK(!Check(Block(1, static_cast<uint8_t>(1u << bit), 0, {})));
}

TEST(CheckExtensionRejectsMoreThan32Tags) {
  std::vector<std::string> tags;
  for (int i = 0; i <= int(kMaxTags); i++) tags.push_back("t" + std::to_string(i));
  CHECK(!Check(Block(1, 0, 0, tags)));
  tags.pop_back();
  CHECK(Check(Block(1, 0, 0, tags)));
}

TEST(CheckExtensionRejectsAnEmptyTag) { CHECK(!Check(Block(1, 0, 0, {"a", ""}))); }

TEST(CheckExtensionRejectsATagRunningPastTheBlock) {
  std::string b = Block(1, 0, 0, {"abc"});
  b[ext::kTags] = 4;  // says 4 bytes, 3 follow
  CHECK(!Check(b));
  // A tag count that promises a tag the block has no room for.
  std::string c = Block(1, 0, 0, {"abc"});
  c[ext::kTagCount] = 2;
  CHECK(!Check(c));
}

TEST(CheckExtensionRejectsDuplicateTags) {
  CHECK(!Check(Block(1, 0, 0, {"x", "y", "x"})));
  CHECK(Check(Block(1, 0, 0, {"x", "xx"})));  // a prefix is another tag
}

TEST(ExtensionFrameRoundTripLosesTheBlock) {
  FrameSpec s;
  s.extension = Block(3, kExtOccurredAt, 1700000000123456, {"course:c1", "ünï"});
  std::vector<uint8_t> buf;
  AppendFrame(&buf, s);
  CHECK_EQ(buf.size(), FrameSpan(uint16_t(s.entity.size()), uint16_t(s.scope.size()), uint32_t(s.payload.size()),
                                 uint32_t(s.extension.size())));
  FrameView v;
  CHECK_EQ(DecodeFrame(buf.data(), buf.size(), &v), FrameCheck::kOk);
  CHECK((v.flags & kFlagExtension) != 0);
  CHECK_EQ(std::string(reinterpret_cast<const char*>(v.payload()), v.payload_len), s.payload);
  CHECK_EQ(size_t(v.ext_len), s.extension.size());
  CHECK(std::memcmp(v.extension(), s.extension.data(), v.ext_len) == 0);
  std::vector<std::string> tags;
  ForEachTag(v.extension(), [&](const uint8_t* t, size_t n) { tags.emplace_back(reinterpret_cast<const char*>(t), n); });
  CHECK(tags == (std::vector<std::string>{"course:c1", "ünï"}));
  CHECK_EQ(LoadLE<int64_t>(v.extension() + ext::kOccurredAt), int64_t(1700000000123456));
  // A frame without a block: no flag, no extension, a version-1 frame.
  FrameSpec plain;
  std::vector<uint8_t> b1;
  AppendFrame(&b1, plain);
  FrameView p;
  CHECK_EQ(DecodeFrame(b1.data(), b1.size(), &p), FrameCheck::kOk);
  CHECK_EQ(p.flags & kFlagExtension, 0);
  CHECK(p.extension() == nullptr);
}

TEST(DecodeFrameRejectsAFlaggedFrameWithABadBlock) {
  FrameSpec s;
  s.extension = Block(1, 0, 0, {"a", "a"});  // EncodeFrame does not check; DecodeFrame must
  std::vector<uint8_t> buf;
  AppendFrame(&buf, s);
  FrameView v;
  CHECK_EQ(DecodeFrame(buf.data(), buf.size(), &v), FrameCheck::kBadFields);
  s.extension = Block(0, 0, 0, {"a"});
  buf.clear();
  AppendFrame(&buf, s);
  CHECK_EQ(DecodeFrame(buf.data(), buf.size(), &v), FrameCheck::kBadFields);
}

TEST(DecodeFrameRejectsTrailingBytesWithoutTheFlag) {
  FrameSpec s;
  s.extension = Block(1, 0, 0, {"a"});
  std::vector<uint8_t> buf;
  AppendFrame(&buf, s);
  // Clear the flag and re-seal the CRC: the block is now bytes no field accounts for.
  buf[frame::kFlags] = static_cast<uint8_t>(buf[frame::kFlags] & ~kFlagExtension);
  StoreLE<uint32_t>(buf.data() + frame::kCrc, FrameCrc(buf.data(), LoadLE<uint32_t>(buf.data() + frame::kLength)));
  FrameView v;
  CHECK_EQ(DecodeFrame(buf.data(), buf.size(), &v), FrameCheck::kBadFields);
}

TEST(DecodeFrameRejectsTheFlagWithNoBlockAfterThePayload) {
  FrameSpec s;
  std::vector<uint8_t> buf;
  AppendFrame(&buf, s);
  buf[frame::kFlags] = static_cast<uint8_t>(buf[frame::kFlags] | kFlagExtension);
  StoreLE<uint32_t>(buf.data() + frame::kCrc, FrameCrc(buf.data(), LoadLE<uint32_t>(buf.data() + frame::kLength)));
  FrameView v;
  CHECK_EQ(DecodeFrame(buf.data(), buf.size(), &v), FrameCheck::kBadFields);
}

}  // namespace
}  // namespace causeway::test
