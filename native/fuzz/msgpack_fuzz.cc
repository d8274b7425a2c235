// libFuzzer target: the MessagePack field walker behind aggregations
// (msgpack_field.h) on raw bytes. Payloads are CRC-checked on disk but any
// client may have written them, so a length running past the end, a deep
// nesting or a map count far beyond the bytes must make the field absent,
// never a read past the input or a stack overflow. The first input byte
// picks one of a few paths; the rest is the payload. Invariants beyond
// "no crash, no UB":
//  - the walk is a pure function of the bytes (two calls agree);
//  - a number found is decided by the bytes of the value alone: bytes
//    appended after the input never change it (the walker reads nothing
//    past the end of the top-level map it walks).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../msgpack_field.h"
#include "check.h"

using namespace causeway;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const std::vector<std::vector<std::string>> kPaths = {
      {"a"}, {"a", "b"}, {"qty"}, {"x", "y", "z"}, {""}, {"a", "a", "a", "a", "a", "a", "a", "a"},
  };
  const auto& path = kPaths[data[0] % kPaths.size()];
  // A private copy, exactly the payload's size, so ASan sees any read past the end.
  std::vector<uint8_t> buf(data + 1, data + size);
  double first = 0, second = 0;
  const bool a = MsgpackNumberAt(buf.data(), buf.size(), path, &first);
  const bool b = MsgpackNumberAt(buf.data(), buf.size(), path, &second);
  CHECK(a == b);
  if (a) CHECK((std::isnan(first) && std::isnan(second)) || std::memcmp(&first, &second, sizeof first) == 0);
  if (a) {
    std::vector<uint8_t> longer(buf);
    longer.insert(longer.end(), {0xdf, 0xff, 0xff, 0xff, 0xff, 0xc1});
    double third = 0;
    CHECK(MsgpackNumberAt(longer.data(), longer.size(), path, &third));
    CHECK((std::isnan(first) && std::isnan(third)) || std::memcmp(&first, &third, sizeof first) == 0);
  }
  return 0;
}
