// The index's segments (index_segments.h): a sealed segment's rows move
// from memory to its index file while appends go on. These tests catch a
// writer that still reaches into a segment's retired lists (run them under
// AddressSanitizer: test/native.test.ts does in test:full).
#include <string>
#include <vector>

#include "fixture.h"

namespace causeway::test {
namespace {

TEST(AppendRightAfterASmallSegmentSealsTouchesNoRetiredList) {
  TempDir d;
  StoreOptions o = Options(d.Sub("db"));
  o.segment_max_bytes = 4096;  // a few frames a segment: its index file is attached in the append that seals it
  std::unique_ptr<Store> s;
  CHECK_OK(Store::Open(o, &s));
  std::vector<uint32_t> clocks(9, 0);
  for (int i = 0; i < 300; i++) {
    Put p;
    p.entity = "acct:" + std::to_string(i % 9);
    p.kind = static_cast<uint16_t>(1 + i % 3);
    p.payload = std::string(60, 'x');
    Receipt r;
    CHECK_OK(Append(s.get(), p, &r));
    CHECK_EQ(r.clock, ++clocks[i % 9]);
    // A read takes the reader lock, which frees what the attached files retired.
    if (i % 7 == 0) {
      std::vector<Ev> all;
      CHECK_OK(ReadAll(s.get(), &all));
      CHECK_EQ(all.size(), size_t(i + 1));
    }
  }
  StoreStats st;
  CHECK_OK(s->Stats(&st));
  CHECK(st.index_files > 10);
  std::vector<Ev> all;
  CHECK_OK(ReadAll(s.get(), &all));
  CHECK_EQ(all.size(), size_t(300));
  for (size_t i = 0; i < all.size(); i++) CHECK_EQ(all[i].sequence, uint64_t(i));
}

}  // namespace
}  // namespace causeway::test
