// The index's event-id table over damaged frames: a lookup reads (through
// the resolver, which checks the frame) only rows whose hash tag matches, so
// a damaged candidate is Corruption, never a miss; growth reads no frame.

#include <cstring>
#include <vector>

#include "../index.h"
#include "fixture.h"

namespace causeway::test {
namespace {

// Rows' ids live here instead of in frames; `damaged` rows fail their check.
struct FakeFrames {
  std::vector<std::array<uint8_t, 16>> ids;
  std::vector<bool> damaged;
  size_t reads = 0;
  static Status Resolve(void* ctx, Row row, const uint8_t** id) {
    auto* f = static_cast<FakeFrames*>(ctx);
    f->reads++;
    if (f->damaged[row]) return Status::Corruption("row " + std::to_string(row) + " fails its check");
    *id = f->ids[row].data();
    return Status::OK();
  }
};

std::array<uint8_t, 16> IdOf(uint32_t i) {
  std::array<uint8_t, 16> id{};
  uint64_t a = i * 0x9e3779b97f4a7c15ull + 1, b = ~a * 0xbf58476d1ce4e5b9ull;
  std::memcpy(id.data(), &a, 8);
  std::memcpy(id.data() + 8, &b, 8);
  return id;
}

void Fill(Index* ix, FakeFrames* f, uint32_t n) {
  ix->SetIdResolver(&FakeFrames::Resolve, f);
  const uint32_t e = ix->InternEntity("e"), s = ix->InternScope("s");
  for (uint32_t i = 0; i < n; i++) {
    f->ids.push_back(IdOf(i));
    f->damaged.push_back(false);
    Index::RowFields r;
    r.sequence = i;
    r.clock = i + 1;
    r.event_id = f->ids.back().data();
    ix->Add(r, RowLocation{0, 128 + 64 * i}, e, s);
  }
}

TEST(IdTableGrowthReadsFrames) {
  Index ix;
  FakeFrames f;
  Fill(&ix, &f, 5000);  // grows 1024 -> 8192 slots
  CHECK_EQ(f.reads, size_t(0));
  // Every id is found, and each lookup reads only its own row (a 32-bit tag clash aside).
  for (uint32_t i = 0; i < 5000; i++) {
    int64_t row = -2;
    CHECK_OK(ix.FindId(f.ids[i].data(), &row));
    CHECK_EQ(row, int64_t(i));
  }
  CHECK(f.reads <= 5002);
}

TEST(DamagedCandidateAnsweredNotFound) {
  Index ix;
  FakeFrames f;
  Fill(&ix, &f, 3000);
  for (uint32_t bad : {0u, 1234u, 2999u}) f.damaged[bad] = true;
  for (uint32_t i = 0; i < 3000; i++) {
    int64_t row = -2;
    Status st = ix.FindId(f.ids[i].data(), &row);
    if (f.damaged[i]) {
      CHECK_CODE(st, Status::Code::kCorruption);
    } else {
      CHECK_OK(st);
      CHECK_EQ(row, int64_t(i));
    }
  }
  // An id that is not there is a miss without reading a damaged row.
  int64_t row = -2;
  const auto absent = IdOf(999999);
  CHECK_OK(ix.FindId(absent.data(), &row));
  CHECK_EQ(row, int64_t(-1));
  // The correlation lookup passes the damage on.
  std::vector<Row> rows;
  CHECK_CODE(ix.ByCorrelation(f.ids[1234].data(), &rows), Status::Code::kCorruption);
}

}  // namespace
}  // namespace causeway::test
