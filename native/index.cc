#include "index.h"

#include <algorithm>

#include "frame.h"
#include "hash.h"

namespace causeway {

Index::~Index() { delete segs_.load(std::memory_order_relaxed); }

uint32_t Index::InternEntity(std::string_view name) {
  std::lock_guard<std::mutex> g(names_mu_);
  auto it = entity_ids_.find(name);
  if (it != entity_ids_.end()) return it->second;
  const uint32_t id = entity_count_.load(std::memory_order_relaxed);
  if (id >= kMaxNames) return kNoId;
  entities_.EnsureSlot(id).name.assign(name);
  entity_ids_.emplace(std::string(name), id);
  // Release: a thread that sees the new count sees the name.
  entity_count_.store(id + 1, std::memory_order_release);
  return id;
}

uint32_t Index::InternScope(std::string_view name) {
  std::lock_guard<std::mutex> g(names_mu_);
  auto it = scope_ids_.find(name);
  if (it != scope_ids_.end()) return it->second;
  const uint32_t id = scope_count_.load(std::memory_order_relaxed);
  if (id >= kMaxNames) return kNoId;
  scopes_.EnsureSlot(id).name.assign(name);
  scope_ids_.emplace(std::string(name), id);
  scope_count_.store(id + 1, std::memory_order_release);  // release: as for entities
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
  sequence_.Clear();
  location_.Clear();
  entity_.Clear();
  scope_.Clear();
  kind_.Clear();
  clock_.Clear();
  timestamp_.Clear();
  size_ = 0;
  visible_.store(0, std::memory_order_relaxed);
  entities_.Clear();
  entity_count_.store(0, std::memory_order_relaxed);
  entity_ids_.clear();
  scopes_.Clear();
  scope_count_.store(0, std::memory_order_relaxed);
  scope_ids_.clear();
  idempotency_.clear();
  correlated_.Clear();
  effects_.Clear();
  tag_cache_.reset();
  delete segs_.exchange(nullptr, std::memory_order_relaxed);
  writer_segs_.clear();
  EndSegment();
  drop_below_.store(0, std::memory_order_relaxed);
  ids_.Clear();
  retired_.Reclaim();
}

void Index::Reclaim() const {
  retired_.Reclaim();
  const_cast<IdDirectory&>(ids_).Reclaim();
  // Callers hold the reader lock and have read nothing under it; the writer
  // reads no column below drop_below_ once it set it.
  const Row below = drop_below_.load(std::memory_order_acquire);
  auto& self = const_cast<Index&>(*this);
  self.sequence_.FreeBelow(below);
  self.location_.FreeBelow(below);
  self.entity_.FreeBelow(below);
  self.scope_.FreeBelow(below);
  self.kind_.FreeBelow(below);
  self.clock_.FreeBelow(below);
  self.timestamp_.FreeBelow(below);
}

void Index::StartSegment(uint32_t slot, Row first) {
  auto seg = std::make_shared<IndexSegment>();
  seg->slot = slot;
  seg->first = first;
  cur_ = seg.get();
  segment_gen_++;
  if (tag_cache_) tag_cache_.reset();  // its lists are the previous segment's
  writer_segs_.push_back(std::move(seg));
  PublishSegments();
}

void Index::PublishSegments() {
  auto* l = new IndexSegmentList();
  l->segs = writer_segs_;
  size_t i = l->segs.size();
  while (i > 0 && !l->segs[i - 1]->in_file()) i--;
  l->mem_from = i < l->segs.size() ? l->segs[i]->first : size_;
  if (i == l->segs.size() && !l->segs.empty()) {
    const IndexSegment& last = *l->segs.back();
    l->mem_from = last.first + last.file_rows();
  }
  // Rows below the first segment in memory are all in files.
  Row low = size_;
  for (const auto& s : l->segs)
    if (!s->in_file()) {
      low = s->first;
      break;
    }
  // Release: a reader that loads the list sees every segment it holds complete.
  const IndexSegmentList* old = segs_.exchange(l, std::memory_order_acq_rel);
  if (old) retired_.Retire(const_cast<IndexSegmentList*>(old));
  if (low > drop_below_.load(std::memory_order_relaxed)) drop_below_.store(low, std::memory_order_release);
}

Row Index::SegmentEnd(const IndexSegmentList& l, size_t i, Row n) const {
  const IndexSegment& s = *l.segs[i];
  Row end = s.in_file() ? s.first + s.file_rows() : (i + 1 < l.segs.size() ? l.segs[i + 1]->first : n);
  return std::min(end, n);
}

void Index::ClearKeepingNames() {
  std::vector<std::string> entities, scopes;
  for (size_t i = 0; i < entity_count(); i++) entities.push_back(entities_[i].name);
  for (size_t i = 0; i < scope_count(); i++) scopes.push_back(scopes_[i].name);
  Clear();
  for (const auto& n : entities) InternEntity(n);
  for (const auto& n : scopes) InternScope(n);
}

Row Index::Add(const FrameView& v, RowLocation loc, uint32_t entity, uint32_t scope, bool publish) {
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
  f.extension = v.extension();
  return Add(f, loc, entity, scope, publish);
}

Row Index::Add(const RowFields& f, RowLocation loc, uint32_t entity, uint32_t scope, bool publish) {
  // Columns first, then postings and tables: everything a reader can reach
  // from row r is stored before Publish makes r visible.
  const Row row = size_;
  if (!cur_ || cur_->slot != loc.segment_slot) StartSegment(loc.segment_slot, row);
  sequence_.EnsureSlot(row) = f.sequence;
  location_.EnsureSlot(row) = loc;
  entity_.EnsureSlot(row) = entity;
  scope_.EnsureSlot(row) = scope;
  kind_.EnsureSlot(row) = f.kind;
  clock_.EnsureSlot(row) = f.clock;
  timestamp_.EnsureSlot(row) = f.timestamp_us;
  size_ = row + 1;
  EntityState& e = entities_[entity];
  if (f.content_hash) {
    e.clock = f.clock;
    std::memcpy(e.head.data(), f.content_hash, 32);
  }
  ListRow(row, entity, scope, f.kind);
  if (f.idempotency) {
    Digest d;
    std::memcpy(d.data(), f.idempotency, 16);
    idempotency_.emplace(d, row);
  }
  if (defer_ids_) ids_.Pend(loc.segment_slot, f.event_id);
  else ids_.Insert(row, loc.segment_slot, f.event_id);
  if (f.correlation_id && std::memcmp(f.correlation_id, f.event_id, 16) != 0)
    correlated_.FindOrAdd(f.correlation_id, &retired_)->push_back(row);
  if (f.causation_id) effects_.FindOrAdd(f.causation_id, &retired_)->push_back(row);
  // A checked block's tags are distinct: each list gets the row once, in order.
  if (f.extension)
    ForEachTag(f.extension, [&](const uint8_t* t, size_t len) {
      TagList(t, len)->push_back(row);
    });
  if (publish) Publish();
  return row;
}

void Index::ListRow(Row r, uint32_t entity, uint32_t scope, uint16_t kind) {
  // Each list is found once per segment and cached with its generation.
  uint8_t key[16];
  auto list_of = [&](auto& state, uint32_t id, PostingsTable& table) {
    if (state.seg_gen != segment_gen_) {
      IndexSegment::IdKey(id, key);
      state.seg_rows = table.FindOrAdd(key, &retired_);
      state.seg_gen = segment_gen_;
    }
    return state.seg_rows;
  };
  list_of(entities_[entity], entity, cur_->entities)->push_back(r);
  list_of(scopes_[scope], scope, cur_->scopes)->push_back(r);
  KindSlot& ks = kind_cache_[kind & (kKindCacheSlots - 1)];
  if (ks.gen != segment_gen_ || ks.kind != kind) {
    IndexSegment::KindKey(kind, key);
    ks = KindSlot{kind, segment_gen_, cur_->kinds.FindOrAdd(key, &retired_)};
  }
  ks.list->push_back(r);
}

RowList* Index::TagList(const uint8_t* tag, size_t len) {
  if (!tag_cache_) tag_cache_.reset(new TagSlot[kTagCacheSlots]);
  // FNV-1a picks the slot; the text compare decides.
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < len; i++) h = (h ^ tag[i]) * 16777619u;
  TagSlot& slot = tag_cache_[h & (kTagCacheSlots - 1)];
  const std::string_view text(reinterpret_cast<const char*>(tag), len);
  if (slot.list && slot.tag == text) return slot.list;
  slot.list = cur_->tags.FindOrAdd(TagKey(tag, len).data(), &retired_);
  slot.tag.assign(text);
  return slot.list;
}

std::array<uint8_t, 16> Index::TagKey(const uint8_t* tag, size_t len) {
  std::array<uint8_t, 16> key;
  Blake3Prefix(tag, len, key.data(), 16);
  return key;
}

Status Index::ByCorrelation(const uint8_t* id, std::vector<Row>* out) const {
  out->clear();
  const Row n = visible();
  int64_t root = -1;
  CW_RETURN_IF_ERROR(FindId(id, &root));
  if (root >= 0) out->push_back(static_cast<Row>(root));
  if (const RowList* l = correlated_.Find(id))
    l->ForEach(l->size(), [&](Row r) {
      if (r >= n) return false;  // rows ascend: the rest are unpublished too
      out->push_back(r);
      return true;
    });
  std::sort(out->begin(), out->end());
  for (Row r : *out) CW_RETURN_IF_ERROR(EnsureRow(r));
  return Status::OK();
}

Status Index::ByCausation(const uint8_t* id, std::vector<Row>* out) const {
  out->clear();
  const Row n = visible();
  if (const RowList* l = effects_.Find(id))
    l->ForEach(l->size(), [&](Row r) {
      if (r >= n) return false;
      out->push_back(r);
      return true;
    });
  for (Row r : *out) CW_RETURN_IF_ERROR(EnsureRow(r));
  return Status::OK();
}

int64_t Index::FindIdempotency(const Digest& d) const {
  auto it = idempotency_.find(d);
  return it == idempotency_.end() ? -1 : static_cast<int64_t>(it->second);
}

void Index::SlotRows(uint32_t slot, Row* first, Row* end) const {
  *first = *end = static_cast<Row>(size_);
  for (size_t i = 0; i < writer_segs_.size(); i++) {
    const IndexSegment& s = *writer_segs_[i];
    if (s.slot < slot) continue;
    *first = s.first;
    if (s.slot == slot)
      *end = s.in_file() ? s.first + s.file_rows() : (i + 1 < writer_segs_.size() ? writer_segs_[i + 1]->first : size_);
    else *end = s.first;
    return;
  }
}

Status Index::FindSequence(uint64_t seq, int64_t* row) const {
  const Row n = visible();
  Row r;
  CW_RETURN_IF_ERROR(FirstRowFrom(seq, n, &r));
  *row = r == n || Sequence(r) != seq ? -1 : static_cast<int64_t>(r);
  return Status::OK();
}

Status Index::FirstRowFrom(uint64_t seq, Row n, Row* out) const {
  // The segment (by its last sequence: a file's header has it), then the
  // row: a bisection over the segment's rows, reading one column.
  Row lo = 0, hi = n;
  if (const IndexSegmentList* l = Segments()) {
    for (size_t i = 0; i < l->segs.size(); i++) {
      const IndexSegment& s = *l->segs[i];
      const Row first = s.first, end = SegmentEnd(*l, i, n);
      if (first >= n) break;
      const uint64_t last = s.file ? s.file->last_sequence() : end > first ? sequence_[end - 1] : 0;
      if (end > first && last >= seq) {
        CW_RETURN_IF_ERROR(EnsureSegment(s));
        lo = first;
        hi = end;
        break;
      }
      lo = hi = end;
    }
  }
  while (lo < hi) {
    const Row mid = lo + (hi - lo) / 2;
    if (Sequence(mid) < seq) lo = mid + 1;
    else hi = mid;
  }
  *out = lo;
  return Status::OK();
}

uint32_t Index::SlotLastOffset(uint32_t slot) const {
  Row first, end;
  SlotRows(slot, &first, &end);
  if (first == end) return 0;
  for (const auto& s : writer_segs_)
    if (s->slot == slot && s->in_file()) return s->last_offset;
  return location_[end - 1].offset;
}

uint64_t Index::MemoryBytes() const {
  uint64_t b = sequence_.CapacityBytes() + location_.CapacityBytes() + entity_.CapacityBytes() +
               scope_.CapacityBytes() + kind_.CapacityBytes() + clock_.CapacityBytes() + timestamp_.CapacityBytes();
  b += ids_.MemoryBytes();
  b += entities_.CapacityBytes() + scopes_.CapacityBytes();
  for (size_t i = 0; i < entity_count(); i++) b += entities_[i].name.capacity();
  for (const auto& s : writer_segs_)
    b += sizeof(IndexSegment) + 4 * (s->entity_of.capacity() + s->scope_of.capacity()) + s->entities.CapacityBytes() +
         s->scopes.CapacityBytes() + s->kinds.CapacityBytes() + s->tags.CapacityBytes();
  b += correlated_.CapacityBytes() + effects_.CapacityBytes();
  b += idempotency_.size() * 48;
  return b;
}

}  // namespace causeway
