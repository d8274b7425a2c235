// The index's serialized form, for the checkpoint (checkpoint.cc): Save
// writes the rows in memory, the names and the tables; Load (index_load.cc)
// reads them back.
#include "index.h"

#include <algorithm>
#include <functional>
#include <type_traits>

namespace causeway {

namespace {

void PutString(ByteWriter* w, const std::string& s) {
  w->Put<uint16_t>(static_cast<uint16_t>(s.size()));
  w->Bytes(s.data(), s.size());
}

void PutPostings(ByteWriter* w, const PostingsTable& m) {
  w->Put<uint64_t>(m.size());
  m.ForEach([&](const PostingsTable::Key& k, const RowList& rows) {
    w->Bytes(k.data(), 16);
    const uint32_t n = rows.size();
    w->Put<uint64_t>(n);
    rows.ForEach(n, [&](Row r) {
      w->Put(r);
      return true;
    });
  });
}

}  // namespace

// Reads postings: each key's rows, ascending, in [lo, hi); `list_of` gives
// the list a row goes to (null: not a checkpoint we wrote). index_load.cc.
bool GetPostingsInto(ByteReader* r, Row lo, Row hi, const std::function<RowList*(const PostingsTable::Key&, Row, bool)>& list_of) {
  uint64_t n;
  if (!r->Get(&n)) return false;
  for (uint64_t i = 0; i < n; i++) {
    PostingsTable::Key d;
    uint64_t count;
    if (!r->Bytes(d.data(), 16) || !r->Get(&count) || count > r->left() / sizeof(Row)) return false;
    Row prev = 0;
    for (uint64_t j = 0; j < count; j++) {
      Row row;
      if (!r->Get(&row) || row < lo || row >= hi || (j > 0 && row <= prev)) return false;
      RowList* l = list_of(d, row, j == 0);
      if (!l) return false;
      l->push_back(row);
      prev = row;
    }
  }
  return true;
}

// Version 6: the segments first (slot, rows, whether its file holds them,
// and for a file its last frame offset), then the
// columns of the rows in memory only, names, tables, each in-memory
// segment's tag postings, and the id directory.
void Index::Save(ByteWriter* w) const {
  w->Put<uint32_t>(static_cast<uint32_t>(writer_segs_.size()));
  std::vector<std::pair<Row, Row>> mem;  // rows [first, end) of each segment in memory
  for (size_t i = 0; i < writer_segs_.size(); i++) {
    const IndexSegment& s = *writer_segs_[i];
    const Row end = s.in_file() ? s.first + s.file_rows() : (i + 1 < writer_segs_.size() ? writer_segs_[i + 1]->first : size_);
    w->Put<uint32_t>(s.slot);
    w->Put<uint32_t>(end - s.first);
    w->Put<uint8_t>(s.in_file() ? 1 : 0);
    if (!s.in_file()) {
      mem.emplace_back(s.first, end);
      continue;
    }
    // What an open needs to use the file before reading it: its last frame.
    // Its names are looked up when it is first used (EnsureSegment).
    w->Put<uint32_t>(s.last_offset);
  }
  uint64_t n = 0;
  for (const auto& [a, b] : mem) n += b - a;
  // A column's rows are contiguous within each chunk: written chunk by chunk.
  auto column = [&](const auto& col) {
    using T = std::remove_reference_t<decltype(col[0])>;
    constexpr size_t k = std::remove_reference_t<decltype(col)>::kChunkSize;
    w->Put<uint64_t>(n);
    for (const auto& [a, b] : mem)
      for (uint64_t r = a; r < b;) {
        const uint64_t run = std::min<uint64_t>(b - r, k - r % k);
        w->Bytes(&col[r], run * sizeof(T));
        r += run;
      }
  };
  column(sequence_);
  column(location_);
  column(entity_);
  column(scope_);
  column(kind_);
  column(clock_);
  column(timestamp_);
  w->Put<uint32_t>(static_cast<uint32_t>(entity_count()));
  for (size_t i = 0; i < entity_count(); i++) {
    const EntityState& e = entities_[i];
    PutString(w, e.name);
    w->Put(e.clock);
    w->Bytes(e.head.data(), 32);
  }
  w->Put<uint32_t>(static_cast<uint32_t>(scope_count()));
  for (size_t i = 0; i < scope_count(); i++) PutString(w, scopes_[i].name);
  w->Put<uint64_t>(idempotency_.size());
  for (const auto& [d, row] : idempotency_) {
    w->Bytes(d.data(), 16);
    w->Put(row);
  }
  PutPostings(w, correlated_);
  PutPostings(w, effects_);
  for (const auto& s : writer_segs_)
    if (!s->in_file()) PutPostings(w, s->tags);
  ids_.Save(w);
}

}  // namespace causeway
