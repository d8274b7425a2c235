#include "index.h"

#include <algorithm>

namespace causeway {

uint32_t Index::InternEntity(std::string_view name) {
  auto it = entity_ids_.find(name);
  if (it != entity_ids_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(entities_.size());
  entities_.emplace_back();
  entities_.back().name.assign(name);
  entity_ids_.emplace(std::string(name), id);
  return id;
}

uint32_t Index::InternScope(std::string_view name) {
  auto it = scope_ids_.find(name);
  if (it != scope_ids_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(scope_names_.size());
  scope_names_.emplace_back(name);
  scope_rows_.emplace_back();
  scope_ids_.emplace(std::string(name), id);
  return id;
}

uint32_t Index::FindEntity(std::string_view name) const {
  auto it = entity_ids_.find(name);
  return it == entity_ids_.end() ? kNoId : it->second;
}

uint32_t Index::FindScope(std::string_view name) const {
  auto it = scope_ids_.find(name);
  return it == scope_ids_.end() ? kNoId : it->second;
}

void Index::Clear() {
  sequence_.clear();
  location_.clear();
  entity_.clear();
  scope_.clear();
  kind_.clear();
  clock_.clear();
  timestamp_.clear();
  entities_.clear();
  entity_ids_.clear();
  scope_names_.clear();
  scope_ids_.clear();
  scope_rows_.clear();
  kind_rows_.clear();
  idempotency_.clear();
  correlated_.clear();
  effects_.clear();
  id_slots_.clear();
  id_count_ = 0;
}

void Index::ClearKeepingNames() {
  std::vector<std::string> entities, scopes;
  for (const EntityState& e : entities_) entities.push_back(e.name);
  scopes.swap(scope_names_);
  Clear();
  for (const auto& n : entities) InternEntity(n);
  for (const auto& n : scopes) InternScope(n);
}

void Index::Reserve(size_t events) {
  sequence_.reserve(events);
  location_.reserve(events);
  entity_.reserve(events);
  scope_.reserve(events);
  kind_.reserve(events);
  clock_.reserve(events);
  timestamp_.reserve(events);
}

Row Index::Add(const FrameView& v, RowLocation loc, uint32_t entity, uint32_t scope) {
  RowFields f;
  f.sequence = v.sequence;
  f.kind = v.kind;
  f.flags = v.flags;
  f.clock = v.clock;
  f.timestamp_us = v.timestamp_us;
  f.event_id = v.event_id();
  f.correlation_id = v.correlation_id();
  f.causation_id = (v.flags & kFlagHasCausation) ? v.causation_id() : nullptr;
  f.idempotency = (v.flags & kFlagIdempotent) ? v.idempotency() : nullptr;
  f.content_hash = v.content_hash();
  return Add(f, loc, entity, scope);
}

Row Index::Add(const RowFields& f, RowLocation loc, uint32_t entity, uint32_t scope) {
  const Row row = static_cast<Row>(sequence_.size());
  sequence_.push_back(f.sequence);
  location_.push_back(loc);
  entity_.push_back(entity);
  scope_.push_back(scope);
  kind_.push_back(f.kind);
  clock_.push_back(f.clock);
  timestamp_.push_back(f.timestamp_us);
  EntityState& e = entities_[entity];
  if (f.content_hash) {
    e.clock = f.clock;
    std::memcpy(e.head.data(), f.content_hash, 32);
  }
  e.rows.push_back(row);
  scope_rows_[scope].push_back(row);
  kind_rows_[f.kind].push_back(row);
  if (f.idempotency) {
    Digest d;
    std::memcpy(d.data(), f.idempotency, 16);
    idempotency_.emplace(d, row);
  }
  IdInsert(row, f.event_id);
  if (f.correlation_id && std::memcmp(f.correlation_id, f.event_id, 16) != 0) {
    Digest d;
    std::memcpy(d.data(), f.correlation_id, 16);
    correlated_[d].push_back(row);
  }
  if (f.causation_id) {
    Digest d;
    std::memcpy(d.data(), f.causation_id, 16);
    effects_[d].push_back(row);
  }
  return row;
}

void Index::ReserveIds(size_t events) {
  size_t want = 1024;
  while (want * 3 < (events + id_count_) * 4) want *= 2;
  if (want <= id_slots_.size()) return;
  if (id_count_ == 0) {
    id_slots_.assign(want, 0);
    return;
  }
  while (id_slots_.size() < want) IdGrow();
}

std::vector<Row> Index::ByCorrelation(const uint8_t* id) const {
  std::vector<Row> out;
  int64_t root = FindId(id);
  Digest d;
  std::memcpy(d.data(), id, 16);
  auto it = correlated_.find(d);
  if (root >= 0) out.push_back(static_cast<Row>(root));
  if (it != correlated_.end()) out.insert(out.end(), it->second.begin(), it->second.end());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Row> Index::ByCausation(const uint8_t* id) const {
  Digest d;
  std::memcpy(d.data(), id, 16);
  auto it = effects_.find(d);
  return it == effects_.end() ? std::vector<Row>() : it->second;
}

bool Index::Matches(Row r, const RegionFilter& f) const {
  if (f.has_entity) {
    if (f.exact_entity ? entities_[entity_[r]].name != f.entity : !MatchesEntity(entity_[r], f)) return false;
  }
  if (f.has_scope && scope_names_[scope_[r]] != f.scope) return false;
  if (f.kind_mode == RegionFilter::Kind::kExact && kind_[r] != f.kind) return false;
  if (f.kind_mode == RegionFilter::Kind::kCategory && (kind_[r] >> 12) != f.kind) return false;
  if (f.has_clock && (clock_[r] < f.clock_from || clock_[r] > f.clock_to)) return false;
  if (f.has_time && (timestamp_[r] < f.time_from_us || timestamp_[r] > f.time_to_us)) return false;
  return true;
}

uint64_t Index::IdHash(const uint8_t* id) {
  uint64_t a, b;
  std::memcpy(&a, id, 8);
  std::memcpy(&b, id + 8, 8);
  uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15ull)) * 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 31);
}

void Index::IdGrow() {
  id_slots_.assign(id_slots_.empty() ? 1024 : id_slots_.size() * 2, 0);
  const size_t mask = id_slots_.size() - 1;
  // Every row is in the table (rows [0, id_count_)), and the ids live only
  // in the frames: re-hash them in row order, so the log is read front to
  // back instead of in the old table's random order.
  for (size_t r = 0; r < id_count_; r++) {
    size_t i = IdHash(resolve_id_(resolve_ctx_, static_cast<Row>(r))) & mask;
    while (id_slots_[i]) i = (i + 1) & mask;
    id_slots_[i] = static_cast<uint32_t>(r + 1);
  }
}

void Index::IdInsert(Row row, const uint8_t* id) {
  // Keep the load under 3/4 so probes stay short.
  if ((id_count_ + 1) * 4 > id_slots_.size() * 3) IdGrow();
  const size_t mask = id_slots_.size() - 1;
  size_t i = IdHash(id) & mask;
  while (id_slots_[i]) i = (i + 1) & mask;
  id_slots_[i] = row + 1;
  id_count_++;
}

int64_t Index::FindId(const uint8_t* id) const {
  if (id_slots_.empty()) return -1;
  const size_t mask = id_slots_.size() - 1;
  for (size_t i = IdHash(id) & mask; id_slots_[i]; i = (i + 1) & mask) {
    Row r = id_slots_[i] - 1;
    const uint8_t* have = resolve_id_(resolve_ctx_, r);
    if (have && std::memcmp(have, id, 16) == 0) return r;
  }
  return -1;
}

int64_t Index::FindIdempotency(const Digest& d) const {
  auto it = idempotency_.find(d);
  return it == idempotency_.end() ? -1 : static_cast<int64_t>(it->second);
}

int64_t Index::FindSequence(uint64_t seq) const {
  auto it = std::lower_bound(sequence_.begin(), sequence_.end(), seq);
  if (it == sequence_.end() || *it != seq) return -1;
  return it - sequence_.begin();
}

bool Index::MatchesEntity(uint32_t entity, const RegionFilter& f) const {
  const std::string& n = entities_[entity].name;
  if (n.size() < f.entity.size() || n.compare(0, f.entity.size(), f.entity) != 0) return false;
  return n.size() == f.entity.size() || n[f.entity.size()] == ':';
}

std::vector<Row> Index::Query(const RegionFilter& f) const {
  std::vector<Row> out;
  // Candidate rows: the shortest posting list any part of the filter names.
  const std::vector<Row>* candidates = nullptr;
  std::vector<Row> merged;
  uint32_t scope_id = kNoId;
  if (f.has_scope) {
    scope_id = FindScope(f.scope);
    if (scope_id == kNoId) return out;
    candidates = &scope_rows_[scope_id];
  }
  if (f.kind_mode == RegionFilter::Kind::kExact) {
    auto it = kind_rows_.find(f.kind);
    if (it == kind_rows_.end()) return out;
    if (!candidates || it->second.size() < candidates->size()) candidates = &it->second;
  }
  std::vector<uint8_t> entity_match;
  if (f.has_entity && f.exact_entity) {
    uint32_t e = FindEntity(f.entity);
    if (e == kNoId) return out;
    entity_match.assign(entities_.size(), 0);
    entity_match[e] = 1;
    if (!candidates || entities_[e].rows.size() < candidates->size()) candidates = &entities_[e].rows;
  } else if (f.has_entity) {
    entity_match.assign(entities_.size(), 0);
    size_t total = 0;
    std::vector<uint32_t> matched;
    for (uint32_t e = 0; e < entities_.size(); e++) {
      if (MatchesEntity(e, f)) {
        entity_match[e] = 1;
        matched.push_back(e);
        total += entities_[e].rows.size();
      }
    }
    if (matched.empty()) return out;
    if (!candidates || total < candidates->size()) {
      if (matched.size() == 1) {
        candidates = &entities_[matched[0]].rows;
      } else {
        merged.reserve(total);
        for (uint32_t e : matched) merged.insert(merged.end(), entities_[e].rows.begin(), entities_[e].rows.end());
        std::sort(merged.begin(), merged.end());
        candidates = &merged;
      }
    }
  }
  auto keep = [&](Row r) {
    if (sequence_[r] < f.after_sequence) return false;
    if (f.has_entity && !entity_match[entity_[r]]) return false;
    if (f.has_scope && scope_[r] != scope_id) return false;
    if (f.kind_mode == RegionFilter::Kind::kExact && kind_[r] != f.kind) return false;
    if (f.kind_mode == RegionFilter::Kind::kCategory && (kind_[r] >> 12) != f.kind) return false;
    if (f.has_clock && (clock_[r] < f.clock_from || clock_[r] > f.clock_to)) return false;
    if (f.has_time && (timestamp_[r] < f.time_from_us || timestamp_[r] > f.time_to_us)) return false;
    return true;
  };
  if (candidates) {
    auto it = candidates->begin();
    if (f.after_sequence > 0)
      it = std::lower_bound(candidates->begin(), candidates->end(), f.after_sequence,
                            [&](Row r, uint64_t s) { return sequence_[r] < s; });
    for (; it != candidates->end() && out.size() < f.limit; ++it)
      if (keep(*it)) out.push_back(*it);
  } else {
    Row start = static_cast<Row>(std::lower_bound(sequence_.begin(), sequence_.end(), f.after_sequence) -
                                 sequence_.begin());
    for (Row r = start; r < sequence_.size() && out.size() < f.limit; r++)
      if (keep(r)) out.push_back(r);
  }
  return out;
}

namespace {

template <typename T>
void PutVector(ByteWriter* w, const std::vector<T>& v) {
  w->Put<uint64_t>(v.size());
  w->Bytes(v.data(), v.size() * sizeof(T));
}

template <typename T>
bool GetVector(ByteReader* r, std::vector<T>* v) {
  uint64_t n;
  if (!r->Get(&n) || n > r->left() / sizeof(T)) return false;
  v->resize(n);
  return r->Bytes(v->data(), n * sizeof(T));
}

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

template <typename Map>
void PutPostings(ByteWriter* w, const Map& m) {
  w->Put<uint64_t>(m.size());
  for (const auto& [k, rows] : m) {
    w->Bytes(k.data(), 16);
    PutVector(w, rows);
  }
}

template <typename Map>
bool GetPostings(ByteReader* r, Map* m) {
  uint64_t n;
  if (!r->Get(&n)) return false;
  for (uint64_t i = 0; i < n; i++) {
    Index::Digest d;
    std::vector<Row> rows;
    if (!r->Bytes(d.data(), 16) || !GetVector(r, &rows)) return false;
    (*m)[d] = std::move(rows);
  }
  return true;
}

}  // namespace

void Index::Save(ByteWriter* w) const {
  PutVector(w, sequence_);
  PutVector(w, location_);
  PutVector(w, entity_);
  PutVector(w, scope_);
  PutVector(w, kind_);
  PutVector(w, clock_);
  PutVector(w, timestamp_);
  w->Put<uint32_t>(static_cast<uint32_t>(entities_.size()));
  for (const EntityState& e : entities_) {
    PutString(w, e.name);
    w->Put(e.clock);
    w->Bytes(e.head.data(), 32);
  }
  w->Put<uint32_t>(static_cast<uint32_t>(scope_names_.size()));
  for (const std::string& s : scope_names_) PutString(w, s);
  w->Put<uint64_t>(idempotency_.size());
  for (const auto& [d, row] : idempotency_) {
    w->Bytes(d.data(), 16);
    w->Put(row);
  }
  PutPostings(w, correlated_);
  PutPostings(w, effects_);
  PutVector(w, id_slots_);
  w->Put<uint64_t>(id_count_);
}

bool Index::Load(ByteReader* r) {
  if (!GetVector(r, &sequence_) || !GetVector(r, &location_) || !GetVector(r, &entity_) || !GetVector(r, &scope_) ||
      !GetVector(r, &kind_) || !GetVector(r, &clock_) || !GetVector(r, &timestamp_))
    return false;
  const size_t n = sequence_.size();
  if (location_.size() != n || entity_.size() != n || scope_.size() != n || kind_.size() != n ||
      clock_.size() != n || timestamp_.size() != n)
    return false;
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
  if (!GetPostings(r, &correlated_) || !GetPostings(r, &effects_)) return false;
  if (!GetVector(r, &id_slots_) || !r->Get(&id_count_)) return false;
  if (id_count_ != n || (!id_slots_.empty() && (id_slots_.size() & (id_slots_.size() - 1)) != 0)) return false;
  // Postings per entity, scope and kind come back from the columns.
  for (Row row = 0; row < n; row++) {
    if (entity_[row] >= ne || scope_[row] >= ns) return false;
    entities_[entity_[row]].rows.push_back(row);
    scope_rows_[scope_[row]].push_back(row);
    kind_rows_[kind_[row]].push_back(row);
  }
  return true;
}

uint64_t Index::MemoryBytes() const {
  uint64_t b = sequence_.capacity() * sizeof(uint64_t) + location_.capacity() * sizeof(RowLocation) +
               entity_.capacity() * 4 + scope_.capacity() * 4 + kind_.capacity() * 2 + clock_.capacity() * 4 +
               timestamp_.capacity() * 8 + id_slots_.capacity() * 4;
  for (const auto& e : entities_) b += sizeof(EntityState) + e.name.capacity() + e.rows.capacity() * sizeof(Row) + 32;
  for (const auto& s : scope_rows_) b += sizeof(s) + s.capacity() * sizeof(Row);
  for (const auto& [k, v] : kind_rows_) b += 32 + v.capacity() * sizeof(Row);
  b += idempotency_.size() * 48;
  for (const auto& [k, v] : correlated_) b += 48 + v.capacity() * sizeof(Row);
  for (const auto& [k, v] : effects_) b += 48 + v.capacity() * sizeof(Row);
  return b;
}

}  // namespace causeway
