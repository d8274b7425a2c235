// The postings table (concurrent.h): an open-addressing table keyed by 16
// bytes. Entity, scope and kind keys are small integers handed out in
// order; these tests catch a hash that leaves such keys in long runs,
// which linear probing then walks on every lookup of a key that is not
// there yet (each entity's first append in a segment).
#include <algorithm>
#include <cstdint>
#include <vector>

#include "../index_segments.h"
#include "fixture.h"

namespace causeway::test {
namespace {

TEST(SequentialEntityIdsMakeLookupsWalkLongProbeRuns) {
  PostingsTable t;
  RetireList retired;
  uint8_t key[16];
  // A segment that has seen entities 0..9,999, in the order they were interned.
  for (uint32_t id = 0; id < 10000; id++) {
    IndexSegment::IdKey(id, key);
    t.FindOrAdd(key, &retired);
  }
  // Later entities' first appends in this segment: each looks itself up first.
  size_t total = 0, longest = 0;
  for (uint32_t id = 16384; id < 17384; id++) {
    IndexSegment::IdKey(id, key);
    const size_t n = t.ProbeLength(key);
    total += n;
    longest = std::max(longest, n);
  }
  CHECK(total / 1000 < 8);  // about 2 for a well-spread hash; thousands when ids are their own slots
  CHECK(longest < 100);
  // Present keys are found, each once.
  for (uint32_t id = 0; id < 10000; id += 997) {
    IndexSegment::IdKey(id, key);
    CHECK(t.Find(key) != nullptr);
  }
  CHECK_EQ(t.size(), size_t(10000));
}

TEST(KindKeysFillingTheTableBreakFindOrAddOrGrowth) {
  PostingsTable t;
  RetireList retired;
  uint8_t key[16];
  std::vector<RowList*> lists;
  for (uint32_t k = 0; k < 65536; k++) {
    IndexSegment::KindKey(static_cast<uint16_t>(k), key);
    lists.push_back(t.FindOrAdd(key, &retired));
  }
  for (uint32_t k = 0; k < 65536; k += 4099) {
    IndexSegment::KindKey(static_cast<uint16_t>(k), key);
    CHECK(t.FindOrAdd(key, &retired) == lists[k]);
  }
  CHECK_EQ(t.size(), size_t(65536));
}

}  // namespace
}  // namespace causeway::test
