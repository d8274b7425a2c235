// Handing a sealed segment's rows from memory to its index file: the file
// must describe exactly the rows the index holds (so a stale or foreign
// file that passed its own checks still cannot change an answer), and its
// entity and scope numbers are mapped to the index's from those rows.
#include <algorithm>
#include <cstring>

#include "index.h"

namespace causeway {

namespace {

// Fills `of` (local id -> index id) from pairs seen row by row; false when
// one local id would map to two index ids, or a local id is never used.
template <typename LocalOf, typename IndexOf>
bool MapIds(uint32_t count, Row rows, LocalOf local_of, IndexOf index_of, std::vector<uint32_t>* of) {
  of->assign(count, kNoId);
  for (Row r = 0; r < rows; r++) {
    const uint32_t l = local_of(r);
    if (l >= count) return false;
    uint32_t& g = (*of)[l];
    if (g == kNoId) g = index_of(r);
    else if (g != index_of(r)) return false;
  }
  return std::find(of->begin(), of->end(), kNoId) == of->end();
}

}  // namespace

bool Index::AttachFile(uint32_t slot, const std::shared_ptr<const IndexPart>& part) {
  size_t i = 0;
  while (i < writer_segs_.size() && writer_segs_[i]->slot != slot) i++;
  if (!part || i == writer_segs_.size() || writer_segs_[i]->in_file()) return false;
  const IndexSegment& mem = *writer_segs_[i];
  const Row first = mem.first;
  const Row end = i + 1 < writer_segs_.size() ? writer_segs_[i + 1]->first : static_cast<Row>(size_);
  if (part->rows() != end - first || end == first) return false;
  for (Row r = 0; r < end - first; r++) {
    const Row g = first + r;
    if (part->Sequence(r) != sequence_[g] || part->Kind(r) != kind_[g] || part->Clock(r) != clock_[g] ||
        part->Timestamp(r) != timestamp_[g] || part->FrameOffset(r) != location_[g].offset)
      return false;
  }
  auto seg = std::make_shared<IndexSegment>();
  seg->slot = slot;
  seg->first = first;
  if (!MapIds(part->entity_count(), end - first, [&](Row r) { return part->Entity(r); },
              [&](Row r) { return entity_[first + r]; }, &seg->entity_of) ||
      !MapIds(part->scope_count(), end - first, [&](Row r) { return part->Scope(r); },
              [&](Row r) { return scope_[first + r]; }, &seg->scope_of))
    return false;
  for (uint32_t e = 0; e < part->entity_count(); e++) {
    if (EntityName(seg->entity_of[e]) != part->EntityName(e)) return false;
    std::atomic<uint32_t>& c = entities_[seg->entity_of[e]].filed_clock;
    // Relaxed: PublishSegments' release publishes it with the file.
    if (c.load(std::memory_order_relaxed) < part->EntityLastClock(e))
      c.store(part->EntityLastClock(e), std::memory_order_relaxed);
  }
  for (uint32_t s = 0; s < part->scope_count(); s++)
    if (ScopeName(seg->scope_of[s]) != part->ScopeName(s)) return false;
  seg->file = part;
  seg->last_offset = location_[end - 1].offset;
  if (cur_ == writer_segs_[i].get()) EndSegment();  // rows after it start a segment of their own
  writer_segs_[i] = std::move(seg);
  PublishSegments();
  return true;
}

bool Index::SlotInFile(uint32_t slot) const {
  // Newest first: callers ask about recent segments.
  for (size_t i = writer_segs_.size(); i > 0; i--)
    if (writer_segs_[i - 1]->slot == slot) return writer_segs_[i - 1]->file != nullptr;
  return false;
}

std::vector<uint32_t> Index::AwaitingSlots() const {
  std::vector<uint32_t> out;
  for (const auto& s : writer_segs_)
    if (s->awaiting) out.push_back(s->slot);
  return out;
}

bool Index::SetLoadedFile(uint32_t slot, const std::shared_ptr<const IndexPart>& part) {
  for (auto& s : writer_segs_) {
    if (s->slot != slot || !s->awaiting) continue;
    // A version-5 checkpoint gave the names' mapping: the header says how
    // many names the file has. The names themselves are compared (or, v6,
    // looked up) at first use.
    if (!part || part->rows() != s->awaiting_rows ||
        (!s->map_names && (s->entity_of.size() != part->SectionCount(idxpart::kEntities) ||
                           s->scope_of.size() != part->SectionCount(idxpart::kScopes))))
      return false;
    s->file = part;
    s->awaiting = false;
    s->ready.store(0, std::memory_order_relaxed);  // published with the list below
    PublishSegments();
    return true;
  }
  return false;
}

Status Index::EnsureSegment(const IndexSegment& s) const {
  // Acquire: pairs with the release below (a reader sees the check's views).
  if (!s.file || s.ready.load(std::memory_order_acquire) == 1) return Status::OK();
  std::lock_guard<std::mutex> g(s.ready_mu);
  const int state = s.ready.load(std::memory_order_relaxed);
  if (state == 2) return Status::Corruption(s.ready_error);
  if (state == 1) return Status::OK();
  Status st = s.file->EnsureChecked();
  // v6: the names looked up (found means they match); v5: the checkpoint's ids compared.
  if (st.ok() && s.map_names) st = MapFileNames(s);
  // Names of ids below the count never change: read beside the interning of new ones.
  for (uint32_t e = 0; st.ok() && !s.map_names && e < s.entity_of.size(); e++)
    if (s.entity_of[e] >= entity_count() || EntityName(s.entity_of[e]) != s.file->EntityName(e))
      st = Status::Corruption("index file of segment " + std::to_string(s.file->identity().segment_id) +
                              ": its entity names are not the checkpoint's");
  for (uint32_t c = 0; st.ok() && !s.map_names && c < s.scope_of.size(); c++)
    if (s.scope_of[c] >= scope_count() || ScopeName(s.scope_of[c]) != s.file->ScopeName(c))
      st = Status::Corruption("index file of segment " + std::to_string(s.file->identity().segment_id) +
                              ": its scope names are not the checkpoint's");
  if (!st.ok()) {
    s.ready_error = st.message() + " (a cache: a writer rebuilds it from its segment; `causeway verify` names it)";
    s.ready.store(2, std::memory_order_relaxed);
    std::lock_guard<std::mutex> f(failed_mu_);
    failed_slots_.push_back(s.slot);
    has_failed_.store(true, std::memory_order_relaxed);
    return Status::Corruption(s.ready_error);
  }
  s.ready.store(1, std::memory_order_release);
  return Status::OK();
}

Status Index::MapFileNames(const IndexSegment& s) const {
  // Interning (the writer, or a reader following one) may run beside this: names_mu_.
  std::lock_guard<std::mutex> g(names_mu_);
  const IndexPart& f = *s.file;
  s.entity_of.resize(f.entity_count());
  for (uint32_t e = 0; e < f.entity_count(); e++)
    if ((s.entity_of[e] = FindEntity(f.EntityName(e))) == kNoId)
      return Status::Corruption("index file of segment " + std::to_string(f.identity().segment_id) +
                                ": it names an entity the index does not know");
  s.scope_of.resize(f.scope_count());
  for (uint32_t c = 0; c < f.scope_count(); c++)
    if ((s.scope_of[c] = FindScope(f.ScopeName(c))) == kNoId)
      return Status::Corruption("index file of segment " + std::to_string(f.identity().segment_id) +
                                ": it names a scope the index does not know");
  return Status::OK();
}

size_t Index::checked_files() const {
  size_t n = 0;
  if (const IndexSegmentList* l = Segments())
    for (const auto& s : l->segs) n += s->file && s->file->checked();
  return n;
}

std::vector<uint32_t> Index::TakeFailedSlots() const {
  std::lock_guard<std::mutex> f(failed_mu_);
  std::vector<uint32_t> out;
  out.swap(failed_slots_);
  has_failed_.store(false, std::memory_order_relaxed);
  return out;
}

std::vector<std::pair<uint32_t, std::shared_ptr<const IndexPart>>> Index::UncheckedFiles() const {
  std::vector<std::pair<uint32_t, std::shared_ptr<const IndexPart>>> out;
  for (const auto& s : writer_segs_)
    if (s->file && s->ready.load(std::memory_order_acquire) == 0) out.emplace_back(s->slot, s->file);
  return out;
}

bool Index::ReplaceFile(uint32_t slot, const std::shared_ptr<const IndexPart>& part) {
  size_t i = 0;
  while (i < writer_segs_.size() && writer_segs_[i]->slot != slot) i++;
  if (!part || i == writer_segs_.size() || !writer_segs_[i]->file) return false;
  const IndexSegment& old = *writer_segs_[i];
  if (part->rows() != old.file->rows() || part->first_sequence() != old.file->first_sequence() ||
      part->last_sequence() != old.file->last_sequence())
    return false;
  auto seg = std::make_shared<IndexSegment>();
  seg->slot = slot;
  seg->first = old.first;
  seg->file = part;
  if (!MapFileNames(*seg).ok()) return false;
  seg->last_offset = part->FrameOffset(part->rows() - 1);
  writer_segs_[i] = std::move(seg);
  PublishSegments();
  return true;
}

Status Index::EnsureRow(Row r) const {
  const IndexSegmentList* l = Segments();
  if (!l || l->segs.empty() || r >= l->mem_from) return Status::OK();
  return EnsureSegment(*l->Of(r));
}

bool Index::AddFileSegment(uint32_t slot, const std::shared_ptr<const IndexPart>& part) {
  if (!part || part->rows() == 0 || uint64_t(size_) + part->rows() >= UINT32_MAX) return false;
  if (!writer_segs_.empty() && writer_segs_.back()->slot >= slot) return false;
  auto seg = std::make_shared<IndexSegment>();
  seg->slot = slot;
  seg->first = static_cast<Row>(size_);
  seg->entity_of.resize(part->entity_count());
  seg->scope_of.resize(part->scope_count());
  for (uint32_t c = 0; c < part->scope_count(); c++)
    if ((seg->scope_of[c] = InternScope(part->ScopeName(c))) == kNoId) return false;
  for (uint32_t e = 0; e < part->entity_count(); e++)
    if ((seg->entity_of[e] = InternEntity(part->EntityName(e))) == kNoId) return false;
  // Nothing below fails: the segment is added whole.
  for (uint32_t e = 0; e < part->entity_count(); e++) {
    EntityState& es = entities_[seg->entity_of[e]];
    const uint32_t clock = part->EntityLastClock(e);
    if (clock >= es.clock) {
      es.clock = clock;
      std::memcpy(es.head.data(), part->EntityHead(e), 32);
    }
    if (es.filed_clock.load(std::memory_order_relaxed) < clock) es.filed_clock.store(clock, std::memory_order_relaxed);
  }
  using S = IndexPart::PairSection;
  for (uint32_t i = 0; i < part->pair_count(S::kIdempotency); i++) {
    Digest d;
    std::memcpy(d.data(), part->PairKey(S::kIdempotency, i), 16);
    idempotency_.emplace(d, seg->first + part->PairRow(S::kIdempotency, i));
  }
  // Pairs sort by key, then row: each key's rows arrive ascending, after earlier segments'.
  for (uint32_t i = 0; i < part->pair_count(S::kCorrelated); i++)
    correlated_.FindOrAdd(part->PairKey(S::kCorrelated, i), &retired_)->push_back(seg->first + part->PairRow(S::kCorrelated, i));
  for (uint32_t i = 0; i < part->pair_count(S::kEffects); i++)
    effects_.FindOrAdd(part->PairKey(S::kEffects, i), &retired_)->push_back(seg->first + part->PairRow(S::kEffects, i));
  seg->file = part;
  seg->last_offset = part->FrameOffset(part->rows() - 1);
  size_ += part->rows();
  writer_segs_.push_back(std::move(seg));
  EndSegment();  // rows after it start a segment of their own
  PublishSegments();
  Publish();
  return true;
}

uint32_t Index::PublishedClock(uint32_t entity) const {
  const Row n = visible();
  const IndexSegmentList* l = Segments();  // first: the filed clock below is at least its files'
  const EntityState& e = entities_[entity];
  uint32_t clock = std::max(e.raised_clock.load(std::memory_order_relaxed), e.filed_clock.load(std::memory_order_relaxed));
  if (!l) return clock;
  uint8_t key[16];
  IndexSegment::IdKey(entity, key);
  // The newest published row in memory: rows past n are appended but not yet visible.
  for (size_t i = l->segs.size(); i > 0; i--) {
    const IndexSegment& s = *l->segs[i - 1];
    if (s.in_file() || s.first >= n) continue;
    const RowList* rows = s.entities.Find(key);
    if (!rows) continue;
    bool found = false;
    rows->ForEachBack(rows->size(), [&](Row r) { return r >= n; }, [&](Row r) {
      clock = std::max(clock, clock_[r]);
      found = true;
      return false;
    });
    if (found) break;
  }
  return clock;
}

}  // namespace causeway
