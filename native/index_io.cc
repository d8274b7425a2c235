// The index's serialized form, for the checkpoint (checkpoint.cc): Save
// writes every column, name and table; Load reads them back.
#include "index.h"

#include <algorithm>
#include <type_traits>

namespace causeway {

namespace {

void PutString(ByteWriter* w, const std::string& s) {
  w->Put<uint16_t>(static_cast<uint16_t>(s.size()));
  w->Bytes(s.data(), s.size());
}

bool GetString(ByteReader* r, std::string* s) {
  uint16_t n;
  if (!r->Get(&n) || n > r->left()) return false;
  s->resize(n);
  return r->Bytes(s->data(), n);
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

bool GetPostings(ByteReader* r, PostingsTable* m, RetireList* retired, uint64_t rows) {
  uint64_t n;
  if (!r->Get(&n)) return false;
  for (uint64_t i = 0; i < n; i++) {
    PostingsTable::Key d;
    uint64_t count;
    if (!r->Bytes(d.data(), 16) || !r->Get(&count) || count > r->left() / sizeof(Row)) return false;
    RowList* l = m->FindOrAdd(d.data(), retired);
    if (l->size() != 0) return false;  // a key twice
    Row prev = 0;
    for (uint64_t j = 0; j < count; j++) {
      Row row;
      if (!r->Get(&row) || row >= rows || (j > 0 && row <= prev)) return false;
      l->push_back(row);
      prev = row;
    }
  }
  return true;
}

}  // namespace

void Index::Save(ByteWriter* w) const {
  const Row n = static_cast<Row>(size_);
  // A column's rows are contiguous within each chunk: written chunk by chunk.
  auto column = [&](const auto& col) {
    using T = std::remove_reference_t<decltype(col[0])>;
    constexpr size_t k = std::remove_reference_t<decltype(col)>::kChunkSize;
    w->Put<uint64_t>(n);
    for (uint64_t r = 0; r < n; r += k) w->Bytes(&col[r], std::min<uint64_t>(k, n - r) * sizeof(T));
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
  PutPostings(w, tag_rows_);
  // Version 4: where each segment's event ids are (IdDirectory), not a table of all of them.
  ids_.Save(w);
}

bool Index::Load(ByteReader* r, int version) {
  // Columns are read into the index's own chunks; each must hold the same number of rows.
  uint64_t n = 0;
  bool first = true;
  auto column = [&](auto& col) {
    uint64_t count;
    if (!r->Get(&count)) return false;
    if (first) {
      if (count >= UINT32_MAX) return false;
      n = count;
      first = false;
    } else if (count != n) {
      return false;
    }
    using T = std::remove_reference_t<decltype(col[0])>;
    constexpr size_t k = std::remove_reference_t<decltype(col)>::kChunkSize;
    if (n > r->left() / sizeof(T)) return false;
    for (uint64_t i = 0; i < n; i += k)
      if (!r->Bytes(&col.EnsureSlot(i), std::min<uint64_t>(k, n - i) * sizeof(T))) return false;
    return true;
  };
  if (!column(sequence_) || !column(location_) || !column(entity_) || !column(scope_) || !column(kind_) ||
      !column(clock_) || !column(timestamp_))
    return false;
  size_ = static_cast<uint32_t>(n);
  uint32_t ne, ns;
  if (!r->Get(&ne)) return false;
  for (uint32_t i = 0; i < ne; i++) {
    std::string name;
    uint32_t clock;
    std::array<uint8_t, 32> head;
    if (!GetString(r, &name) || !r->Get(&clock) || !r->Bytes(head.data(), 32)) return false;
    uint32_t id = InternEntity(name);
    if (id != i) return false;  // names repeat: not a checkpoint we wrote
    entities_[id].clock = clock;
    entities_[id].raised_clock.store(clock, std::memory_order_relaxed);  // may be a raise compaction made
    entities_[id].head = head;
  }
  if (!r->Get(&ns)) return false;
  for (uint32_t i = 0; i < ns; i++) {
    std::string name;
    if (!GetString(r, &name) || InternScope(name) != i) return false;
  }
  uint64_t nidem;
  if (!r->Get(&nidem)) return false;
  for (uint64_t i = 0; i < nidem; i++) {
    Digest d;
    Row row;
    if (!r->Bytes(d.data(), 16) || !r->Get(&row) || row >= n) return false;
    idempotency_[d] = row;
  }
  if (!GetPostings(r, &correlated_, &retired_, n) || !GetPostings(r, &effects_, &retired_, n)) return false;
  // Versions 1 and 2 predate tags: the builds that wrote them wrote no tagged event.
  if (version >= 3 && !GetPostings(r, &tag_rows_, &retired_, n)) return false;
  // Versions 1 to 3 end with an event-id table (v1: 4-byte slots; v2, v3:
  // 8-byte tagged slots) and its count: read past. Ids now come from the
  // segments' index files and frames, put in by the caller (IdDirectory).
  if (version <= 3) {
    const size_t width = version == 1 ? 4 : 8;
    uint64_t slots, count;
    if (!r->Get(&slots) || slots > r->left() / width) return false;
    std::vector<uint8_t> skip(slots * width);
    if (!r->Bytes(skip.data(), skip.size()) || !r->Get(&count) || count != n) return false;
  } else if (!ids_.Load(r, static_cast<Row>(n))) {
    return false;
  }
  // Postings per entity, scope and kind come back from the columns.
  std::vector<RowList*> by_kind(size_t(1) << 16, nullptr);  // saves a table probe per row
  for (Row row = 0; row < n; row++) {
    if (entity_[row] >= ne || scope_[row] >= ns) return false;
    entities_[entity_[row]].rows.push_back(row);
    scopes_[scope_[row]].rows.push_back(row);
    RowList*& kl = by_kind[kind_[row]];
    if (!kl) {
      uint8_t key[16];
      KindKey(kind_[row], key);
      kl = kind_rows_.FindOrAdd(key, &retired_);
    }
    kl->push_back(row);
  }
  retired_.Reclaim();
  Publish();
  return true;
}

}  // namespace causeway
