// The index's tag postings (format version 2): rows added with an extension
// block are found by filters naming tags (every tag of a filter, any item of
// a DCB any_of), through a checkpoint's Save and Load, and not after
// ClearKeepingNames. An index built in memory: no store, no frame.

#include <algorithm>
#include <array>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "../index.h"
#include "fixture.h"

namespace causeway::test {
namespace {

std::string Block(const std::vector<std::string>& tags) {
  std::string b(kExtensionFixed, '\0');
  b[ext::kTagCount] = static_cast<char>(tags.size());
  for (const auto& t : tags) {
    b.push_back(static_cast<char>(t.size()));
    b += t;
  }
  uint8_t* p = reinterpret_cast<uint8_t*>(b.data());
  StoreLE<uint16_t>(p + ext::kLength, static_cast<uint16_t>(b.size()));
  StoreLE<uint16_t>(p + ext::kVersion, 1);
  return b;
}

std::array<uint8_t, 16> Key(const std::string& tag) { return Index::TagKey(U8(tag), tag.size()); }

// Row i's tags: course:c(i%3), and student:s(i%2) on even rows; every
// fifth row has no block at all.
std::vector<std::string> TagsOf(uint32_t i) {
  if (i % 5 == 4) return {};
  std::vector<std::string> t{"course:c" + std::to_string(i % 3)};
  if (i % 2 == 0) t.push_back("student:s" + std::to_string(i / 2 % 2));
  return t;
}

void Build(Index* index, uint32_t rows) {
  const uint32_t e = index->InternEntity("enrol");
  const uint32_t s = index->InternScope("uni");
  for (uint32_t i = 0; i < rows; i++) {
    uint8_t id[16] = {};
    std::memcpy(id, &i, 4);
    id[15] = 0x7b;
    const std::vector<std::string> tags = TagsOf(i);
    const std::string block = tags.empty() ? std::string() : Block(tags);
    Index::RowFields f;
    f.sequence = i;
    f.kind = 0x1001;
    f.clock = i + 1;
    f.event_id = id;
    f.extension = block.empty() ? nullptr : U8(block);
    index->Add(f, RowLocation{0, i}, e, s);
  }
}

// Rows whose tags include every one of `all`, by testing each row.
std::vector<Row> Having(uint32_t rows, const std::vector<std::string>& all) {
  std::vector<Row> out;
  for (uint32_t i = 0; i < rows; i++) {
    const auto t = TagsOf(i);
    bool ok = true;
    for (const auto& want : all) ok = ok && std::find(t.begin(), t.end(), want) != t.end();
    if (ok) out.push_back(i);
  }
  return out;
}

RegionFilter WithTags(const std::vector<std::string>& tags) {
  RegionFilter f;
  for (const auto& t : tags) f.tags.push_back(Key(t));
  return f;
}

constexpr uint32_t kRows = 600;

TEST(TagFilterReturnsOnlyRowsCarryingEveryTag) {
  Index index;
  Build(&index, kRows);
  CHECK(QueryRows(index, WithTags({"course:c1"})) == Having(kRows, {"course:c1"}));
  const auto both = Having(kRows, {"course:c1", "student:s0"});
  CHECK(!both.empty());
  CHECK(QueryRows(index, WithTags({"course:c1", "student:s0"})) == both);
  CHECK(QueryRows(index, WithTags({"student:s0", "course:c1"})) == both);  // either list may drive the walk
  RegionFilter rev = WithTags({"course:c1", "student:s0"});
  rev.reverse = true;
  rev.limit = 3;
  CHECK(QueryRows(index, rev) == (std::vector<Row>{both.rbegin(), both.rbegin() + 3}));
  CHECK(QueryRows(index, WithTags({"course:c9"})).empty());
  CHECK(QueryRows(index, WithTags({"course:c1", "course:c9"})).empty());
}

TEST(AnyOfTagItemsReturnsTheUnionInOrder) {
  Index index;
  Build(&index, kRows);
  RegionFilter f;
  f.any_of.push_back(WithTags({"course:c2"}));
  f.any_of.push_back(WithTags({"student:s1", "course:c0"}));
  std::vector<Row> want;
  const auto a = Having(kRows, {"course:c2"}), b = Having(kRows, {"student:s1", "course:c0"});
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(want));
  CHECK(QueryRows(index, f) == want);
  for (Row r : want) CHECK(index.Matches(r, f));
}

TEST(TagPostingsSurviveACheckpointSaveAndLoad) {
  Index index;
  Build(&index, kRows);
  std::string bytes;
  ByteWriter w(&bytes);
  index.Save(&w);
  Index loaded;
  ByteReader r(U8(bytes), bytes.size());
  CHECK(loaded.Load(&r, 5));
  CHECK(r.done());
  CHECK(QueryRows(loaded, WithTags({"course:c1", "student:s0"})) == Having(kRows, {"course:c1", "student:s0"}));
  CHECK(QueryRows(loaded, WithTags({"course:c0"})) == Having(kRows, {"course:c0"}));
}

TEST(ClearKeepingNamesDropsTheTagPostings) {
  Index index;
  Build(&index, kRows);
  index.ClearKeepingNames();
  CHECK(QueryRows(index, WithTags({"course:c1"})).empty());
  // Rebuilt from fewer rows: only those, no stale row from before.
  Build(&index, 10);
  CHECK(QueryRows(index, WithTags({"course:c1"})) == Having(10, {"course:c1"}));
}

}  // namespace
}  // namespace causeway::test
