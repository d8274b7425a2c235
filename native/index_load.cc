// Loading the index from a checkpoint (index_io.cc writes it). Version 5
// holds only the rows of segments without an index file; a segment whose
// file held its rows comes back awaiting that file, which the open
// attaches (SetLoadedFile) before any read. Versions 1 to 4 hold every row.
#include <algorithm>
#include <functional>
#include <type_traits>

#include "index.h"

namespace causeway {

namespace {

bool GetName(ByteReader* r, std::string* s) {
  uint16_t n;
  if (!r->Get(&n) || n > r->left()) return false;
  s->resize(n);
  return r->Bytes(s->data(), n);
}

}  // namespace

bool GetPostingsInto(ByteReader* r, Row lo, Row hi, const std::function<RowList*(const PostingsTable::Key&, Row, bool)>& list_of);

bool Index::Load(ByteReader* r, int version) {
  struct Rec {
    uint32_t slot;
    Row first, rows;
    bool file;
    uint32_t last_offset = 0;
    std::vector<uint32_t> entity_of, scope_of;
  };
  std::vector<Rec> recs;
  uint64_t total = 0;
  if (version >= 5) {
    uint32_t count;
    if (!r->Get(&count) || count > r->left() / 9) return false;
    for (uint32_t i = 0; i < count; i++) {
      Rec c{};
      uint8_t file;
      if (!r->Get(&c.slot) || !r->Get(&c.rows) || !r->Get(&file) || file > 1) return false;
      if (i > 0 && c.slot <= recs.back().slot) return false;
      c.file = file == 1;
      auto ids = [&](std::vector<uint32_t>* v) {
        uint32_t k;
        if (!r->Get(&k) || k > r->left() / 4) return false;
        v->resize(k);
        return k == 0 || r->Bytes(v->data(), 4 * size_t(k));
      };
      // Version 5 also gave the index's ids of a file's names; 6 looks them up at first use.
      if (c.file && (!r->Get(&c.last_offset) || (version == 5 && (!ids(&c.entity_of) || !ids(&c.scope_of)))))
        return false;
      c.first = static_cast<Row>(total);
      total += c.rows;
      if (total >= UINT32_MAX || (c.file && c.rows == 0)) return false;
      recs.push_back(c);
    }
  }
  // The rows in memory: v5, those of its segments without a file; before, all.
  std::vector<std::pair<Row, Row>> mem;
  for (const Rec& c : recs)
    if (!c.file && c.rows > 0) mem.emplace_back(c.first, c.first + c.rows);
  uint64_t n = 0;
  bool first = true;
  auto column = [&](auto& col) {
    uint64_t count;
    if (!r->Get(&count)) return false;
    if (first) {
      if (count >= UINT32_MAX) return false;
      if (version < 5) {
        total = count;
        if (count > 0) mem.emplace_back(0, static_cast<Row>(count));
      }
      n = count;
      first = false;
    } else if (count != n) {
      return false;
    }
    using T = std::remove_reference_t<decltype(col[0])>;
    constexpr size_t k = std::remove_reference_t<decltype(col)>::kChunkSize;
    if (n > r->left() / sizeof(T)) return false;
    uint64_t held = 0;
    for (const auto& [a, b] : mem)
      for (uint64_t i = a; i < b;) {
        const uint64_t run = std::min<uint64_t>(b - i, k - i % k);
        if (!r->Bytes(&col.EnsureSlot(i), run * sizeof(T))) return false;
        i += run;
        held += run;
      }
    return held == n;
  };
  if (!column(sequence_) || !column(location_) || !column(entity_) || !column(scope_) || !column(kind_) ||
      !column(clock_) || !column(timestamp_))
    return false;
  size_ = static_cast<uint32_t>(total);
  if (version < 5) {
    // The segments come from the rows' locations.
    for (Row row = 0; row < n; row++) {
      const uint32_t slot = location_[row].segment_slot;
      if (!recs.empty() && slot == recs.back().slot) {
        recs.back().rows++;
        continue;
      }
      if (!recs.empty() && slot < recs.back().slot) return false;
      recs.push_back(Rec{slot, row, 1, false, 0, {}, {}});
    }
  }
  for (const Rec& c : recs) {
    auto seg = std::make_shared<IndexSegment>();
    seg->slot = c.slot;
    seg->first = c.first;
    seg->awaiting = c.file;
    seg->awaiting_rows = c.file ? c.rows : 0;
    seg->last_offset = c.last_offset;
    seg->entity_of = c.entity_of;
    seg->scope_of = c.scope_of;
    seg->map_names = c.file && version >= 6;
    if (!c.file)
      for (Row row = c.first; row < c.first + c.rows; row++)
        if (location_[row].segment_slot != c.slot) return false;
    writer_segs_.push_back(std::move(seg));
  }
  uint32_t ne, ns;
  if (!r->Get(&ne)) return false;
  for (uint32_t i = 0; i < ne; i++) {
    std::string name;
    uint32_t clock;
    std::array<uint8_t, 32> head;
    if (!GetName(r, &name) || !r->Get(&clock) || !r->Bytes(head.data(), 32)) return false;
    uint32_t id = InternEntity(name);
    if (id != i) return false;  // names repeat: not a checkpoint we wrote
    entities_[id].clock = clock;
    entities_[id].raised_clock.store(clock, std::memory_order_relaxed);  // may be a raise compaction made
    entities_[id].head = head;
  }
  if (!r->Get(&ns)) return false;
  for (uint32_t i = 0; i < ns; i++) {
    std::string name;
    if (!GetName(r, &name) || InternScope(name) != i) return false;
  }
  for (const auto& s : writer_segs_) {
    for (uint32_t e : s->entity_of)
      if (e >= ne) return false;
    for (uint32_t c : s->scope_of)
      if (c >= ns) return false;
  }
  uint64_t nidem;
  if (!r->Get(&nidem)) return false;
  for (uint64_t i = 0; i < nidem; i++) {
    Digest d;
    Row row;
    if (!r->Bytes(d.data(), 16) || !r->Get(&row) || row >= size_) return false;
    idempotency_[d] = row;
  }
  auto table = [&](PostingsTable* m) {
    return GetPostingsInto(r, 0, size_, [&](const PostingsTable::Key& d, Row, bool first) -> RowList* {
      RowList* l = m->FindOrAdd(d.data(), &retired_);
      return first && l->size() != 0 ? nullptr : l;  // a key twice
    });
  };
  if (!table(&correlated_) || !table(&effects_)) return false;
  // Tags: v5, each segment in memory its own; v3 and v4, one table split by
  // segment; v1 and v2 predate tags (the builds that wrote them wrote none).
  if (version >= 5) {
    for (auto& s : writer_segs_) {
      if (s->awaiting) continue;
      const Rec& c = *std::find_if(recs.begin(), recs.end(), [&](const Rec& x) { return x.slot == s->slot; });
      if (!GetPostingsInto(r, c.first, c.first + c.rows, [&](const PostingsTable::Key& d, Row, bool first) -> RowList* {
            RowList* l = s->tags.FindOrAdd(d.data(), &retired_);
            return first && l->size() != 0 ? nullptr : l;
          }))
        return false;
    }
  } else if (version >= 3) {
    size_t at = 0;
    if (!GetPostingsInto(r, 0, size_, [&](const PostingsTable::Key& d, Row row, bool first) -> RowList* {
          if (first) at = 0;
          while (at + 1 < writer_segs_.size() && writer_segs_[at + 1]->first <= row) at++;
          return writer_segs_[at]->tags.FindOrAdd(d.data(), &retired_);
        }))
      return false;
  }
  // Versions 1 to 3 end with an event-id table (v1: 4-byte slots; v2, v3:
  // 8-byte tagged slots) and its count: read past. Ids now come from the
  // segments' index files and frames, put in by the caller (IdDirectory).
  if (version <= 3) {
    const size_t width = version == 1 ? 4 : 8;
    uint64_t slots, count;
    if (!r->Get(&slots) || slots > r->left() / width) return false;
    std::vector<uint8_t> skip(slots * width);
    if (!r->Bytes(skip.data(), skip.size()) || !r->Get(&count) || count != n) return false;
  } else if (!ids_.Load(r, static_cast<Row>(size_), version >= 5)) {
    return false;
  }
  // Postings per entity, scope and kind come back from the columns.
  for (size_t i = 0; i < writer_segs_.size(); i++) {
    IndexSegment& s = *writer_segs_[i];
    if (s.awaiting) continue;
    EndSegment();  // a new generation: no list cached from another segment
    cur_ = &s;
    const Row end = i + 1 < writer_segs_.size() ? writer_segs_[i + 1]->first : size_;
    for (Row row = s.first; row < end; row++) {
      if (entity_[row] >= ne || scope_[row] >= ns) return false;
      ListRow(row, entity_[row], scope_[row], kind_[row]);
    }
  }
  // Rows added after the load continue the last segment when it is in memory.
  if (writer_segs_.empty() || writer_segs_.back()->awaiting) EndSegment();
  PublishSegments();
  retired_.Reclaim();
  Publish();
  return true;
}

}  // namespace causeway
