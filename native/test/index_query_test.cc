// Index queries walked backwards and bounded by sequence and clock: the
// pages `query(region, { reverse, after, limit })` and `stream(entity,
// { fromClock, toClock })` ask for, checked against a plain filter of
// every row, on an index built in memory (no store, no frame).

#include <algorithm>
#include <cstring>
#include <vector>

#include "../index.h"
#include "fixture.h"

namespace causeway::test {
namespace {

// 3000 rows over three entities (a:1, a:2 and b, interleaved unevenly) and
// two scopes; sequences start at 10 with a gap, so rows and sequences differ.
struct Built {
  Index index;
  std::vector<uint32_t> entity, scope, clock;
  std::vector<uint64_t> seq;
};

void Build(Built* b) {
  const uint32_t e[3] = {b->index.InternEntity("a:1"), b->index.InternEntity("a:2"), b->index.InternEntity("b")};
  const uint32_t s[2] = {b->index.InternScope("s0"), b->index.InternScope("s1")};
  uint32_t clocks[3] = {0, 0, 0};
  for (uint32_t i = 0; i < 3000; i++) {
    const uint32_t which = i % 7 == 0 ? 2 : i % 3 == 0 ? 1 : 0;
    uint8_t id[16] = {};
    std::memcpy(id, &i, 4);
    id[15] = 0x5a;
    Index::RowFields f;
    f.sequence = 10 + i + (i > 1500 ? 7 : 0);
    f.kind = 0x1001;
    f.clock = ++clocks[which];
    f.event_id = id;
    b->index.Add(f, RowLocation{0, i}, e[which], s[i % 2]);
    b->entity.push_back(e[which]);
    b->scope.push_back(s[i % 2]);
    b->clock.push_back(f.clock);
    b->seq.push_back(f.sequence);
  }
}

// The rows a filter must return, by testing every row; reversed and cut to the limit.
std::vector<Row> Expected(const Built& b, const RegionFilter& f) {
  std::vector<Row> out;
  for (Row r = 0; r < b.seq.size(); r++)
    if (b.index.Matches(r, f) && b.seq[r] >= f.after_sequence && b.seq[r] < f.before_sequence) out.push_back(r);
  if (f.reverse) std::reverse(out.begin(), out.end());
  if (out.size() > f.limit) out.resize(f.limit);
  return out;
}

TEST(ReverseQueryReturnsTheNewestRowsFirstOnEveryPath) {
  Built b;
  Build(&b);
  std::vector<RegionFilter> filters(5);
  filters[1].has_entity = true, filters[1].entity = "a:1", filters[1].exact_entity = true;  // one entity's list
  filters[2].has_entity = true, filters[2].entity = "a";  // two entities merged
  filters[3].has_scope = true, filters[3].scope = "s1";   // a scope's list
  filters[4].has_entity = true, filters[4].entity = "b", filters[4].has_scope = true, filters[4].scope = "s0";
  const uint64_t bounds[][2] = {{0, UINT64_MAX}, {0, 1200}, {900, 1517}, {1516, 1520}, {2000, 100}};
  const uint64_t limits[] = {UINT64_MAX, 0, 1, 20, 1000};
  for (const RegionFilter& base : filters)
    for (bool reverse : {false, true})
      for (const auto& bound : bounds)
        for (uint64_t limit : limits) {
          RegionFilter f = base;
          f.reverse = reverse;
          f.after_sequence = bound[0];
          f.before_sequence = bound[1];
          f.limit = limit;
          CHECK(QueryRows(b.index, f) == Expected(b, f));
        }
}

TEST(ClockRangeOnOneEntityHonoursBothBoundsBothWays) {
  Built b;
  Build(&b);
  const uint32_t ranges[][2] = {{1, 1}, {1, 5}, {100, 180}, {1700, 5000}, {5000, 6000}, {0, 0}};
  for (const char* entity : {"a:1", "b"})
    for (bool reverse : {false, true})
      for (const auto& range : ranges)
        for (uint64_t after : {uint64_t(0), uint64_t(1500)}) {
          RegionFilter f;
          f.has_entity = true, f.entity = entity, f.exact_entity = true;
          f.has_clock = true, f.clock_from = range[0], f.clock_to = range[1];
          f.reverse = reverse;
          f.after_sequence = after;
          f.limit = 50;
          CHECK(QueryRows(b.index, f) == Expected(b, f));
        }
}

TEST(PublishedClockIsTheNewestPublishedRowsOrTheRaisedOne) {
  Built b;
  Build(&b);
  const uint32_t a1 = b.index.FindEntity("a:1");
  uint32_t newest = 0;
  for (Row r = 0; r < b.seq.size(); r++)
    if (b.entity[r] == a1) newest = b.clock[r];
  CHECK_EQ(b.index.PublishedClock(a1), newest);
  // A row added but not yet published does not count.
  uint8_t id[16] = {9, 9, 9};
  Index::RowFields f;
  f.sequence = 99999;
  f.kind = 0x1001;
  f.clock = newest + 1;
  f.event_id = id;
  b.index.Add(f, RowLocation{0, 0}, a1, 0, /*publish=*/false);
  CHECK_EQ(b.index.PublishedClock(a1), newest);
  b.index.Publish();
  CHECK_EQ(b.index.PublishedClock(a1), newest + 1);
  // An entity whose events compaction dropped keeps the clock it was raised to.
  const uint32_t gone = b.index.InternEntity("gone");
  CHECK_EQ(b.index.PublishedClock(gone), uint32_t(0));
  const uint8_t head[32] = {};
  b.index.RaiseEntity(gone, 42, head);
  CHECK_EQ(b.index.PublishedClock(gone), uint32_t(42));
}

}  // namespace
}  // namespace causeway::test
