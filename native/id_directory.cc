#include "id_directory.h"

#include <algorithm>
#include <cstring>

#include "index_part.h"

namespace causeway {

IdDirectory::~IdDirectory() { delete list_.load(std::memory_order_relaxed); }

namespace {
// An id's first 8 bytes as a big-endian number: ordered as the ids are.
uint64_t Prefix(const uint8_t* id) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | id[i];
  return v;
}
}  // namespace

IdDirectory::FileIds::FileIds(std::shared_ptr<const IndexPart> p) : part(std::move(p)) {
  std::memcpy(min.data(), part->IdAt(0), 16);
  std::memcpy(max.data(), part->IdAt(part->rows() - 1), 16);
}

uint64_t IdDirectory::Hash(const uint8_t* id) {
  uint64_t a, b;
  std::memcpy(&a, id, 8);
  std::memcpy(&b, id + 8, 8);
  uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15ull)) * 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 31);
}

void IdDirectory::Place(Table* t, uint64_t entry) {
  size_t i = Home(static_cast<uint32_t>(entry >> 32)) & t->mask;
  while (t->slots[i].load(std::memory_order_relaxed)) i = (i + 1) & t->mask;
  // Relaxed: readers use the row only once the index publishes it (release).
  t->slots[i].store(entry, std::memory_order_relaxed);
  t->count++;
}

void IdDirectory::Swap(List* next) {
  const List* old = list_.load(std::memory_order_relaxed);
  // Release: a reader that loads the new list sees its parts and tables whole.
  list_.store(next, std::memory_order_release);
  if (old) retired_.Retire(const_cast<List*>(old));
}

void IdDirectory::InsertTag(Row row, uint32_t slot, uint32_t tag) {
  if (slot != last_slot_ || !last_) {
    // A new segment: a part of its own, with a small table.
    const List* cur = list_.load(std::memory_order_relaxed);
    auto* next = new List(cur ? *cur : List{});
    Part p;
    p.slot = slot;
    p.base = row;
    p.table = std::make_shared<Table>(1024);
    last_ = p.table.get();
    last_slot_ = slot;
    next->parts.push_back(std::move(p));
    Swap(next);
  } else if ((last_->count + 1) * 4 > (last_->mask + 1) * 3) {
    Reserve(1);
  }
  Place(last_, (uint64_t{tag} << 32) | (uint64_t{row} + 1));
}

void IdDirectory::Reserve(size_t events) {
  if (!last_) return;  // the first Insert of a segment makes its table
  size_t want = last_->mask + 1;
  while (want * 3 < (last_->count + events) * 4) want *= 2;
  if (want == last_->mask + 1) return;
  // Keep the load under 3/4: a bigger table beside the old, swapped in whole.
  auto bigger = std::make_shared<Table>(want);
  for (size_t i = 0; i <= last_->mask; i++)
    if (const uint64_t e = last_->slots[i].load(std::memory_order_relaxed)) Place(bigger.get(), e);
  auto* next = new List(*list_.load(std::memory_order_relaxed));
  next->parts.back().table = bigger;
  last_ = bigger.get();
  Swap(next);
}

void IdDirectory::Prefetch(const uint8_t* id) const {
#if defined(__GNUC__) || defined(__clang__)
  if (last_) __builtin_prefetch(&last_->slots[Home(Tag(id)) & last_->mask], 1);
#else
  (void)id;
#endif
}

Status IdDirectory::FindInTable(const Table* t, const uint8_t* id, Row n, int64_t* row) const {
  const uint32_t tag = Tag(id);
  for (size_t i = Home(tag) & t->mask;; i = (i + 1) & t->mask) {
    const uint64_t e = t->slots[i].load(std::memory_order_relaxed);
    if (!e) return Status::OK();  // every candidate compared was checked first
    if (static_cast<uint32_t>(e >> 32) != tag) continue;  // another id: its frame is not read
    const Row r = static_cast<Row>(e) - 1;
    if (r >= n) continue;  // not yet published: its frame may still be written
    const uint8_t* have = nullptr;
    CW_RETURN_IF_ERROR(resolve_(resolve_ctx_, r, &have));
    if (std::memcmp(have, id, 16) == 0) {
      *row = r;
      return Status::OK();
    }
  }
}

Status IdDirectory::FindInFile(const Part& p, const uint8_t* id, Row n, int64_t* row) const {
  const FileIds& f = *p.file;
  if (std::memcmp(id, f.min.data(), 16) < 0 || std::memcmp(id, f.max.data(), 16) > 0) return Status::OK();
  const IndexPart& part = *f.part;
  CW_RETURN_IF_ERROR(part.EnsureChecked());  // a part loaded with its range only is checked at its first lookup
  const std::vector<uint64_t>* fence = f.fence.load(std::memory_order_acquire);
  if (!fence) {
    auto* made = new std::vector<uint64_t>();
    made->reserve(part.rows() / kFenceStep + 1);
    for (uint32_t i = 0; i < part.rows(); i += kFenceStep) made->push_back(Prefix(part.IdAt(i)));
    const std::vector<uint64_t>* expected = nullptr;
    // acq_rel: a reader that loads it sees it filled; on a lost race, acquire the winner's.
    if (f.fence.compare_exchange_strong(expected, made, std::memory_order_acq_rel, std::memory_order_acquire)) {
      fence = made;
    } else {
      delete made;
      fence = expected;
    }
  }
  // Every id with this prefix lies from the fence entry before the first
  // one >= it up to the first one > it (prefixes repeat across entries).
  const uint64_t key = Prefix(id);
  const size_t lo = std::lower_bound(fence->begin(), fence->end(), key) - fence->begin();
  const size_t hi = std::upper_bound(fence->begin(), fence->end(), key) - fence->begin();
  uint32_t a = lo == 0 ? 0 : static_cast<uint32_t>((lo - 1) * kFenceStep);
  uint32_t b = static_cast<uint32_t>(std::min<uint64_t>(uint64_t(hi) * kFenceStep, part.rows()));
  while (a < b) {
    const uint32_t mid = a + (b - a) / 2;
    if (std::memcmp(part.IdAt(mid), id, 16) < 0) a = mid + 1;
    else b = mid;
  }
  if (a >= part.rows() || std::memcmp(part.IdAt(a), id, 16) != 0) return Status::OK();
  const Row r = p.base + part.IdRow(a);
  if (r >= n) return Status::OK();
  // The file says where; the frame, checked, says what: never an id unread.
  const uint8_t* have = nullptr;
  CW_RETURN_IF_ERROR(resolve_(resolve_ctx_, r, &have));
  if (std::memcmp(have, id, 16) != 0)
    return Status::Corruption("index file for segment slot " + std::to_string(p.slot) + " names row " +
                              std::to_string(r) + " for an event id its frame does not hold");
  *row = r;
  return Status::OK();
}

Status IdDirectory::Find(const uint8_t* id, Row n, int64_t* row) const {
  *row = -1;
  // Acquire, after the caller loaded n: the list is the one rows below n were put in, or a later one.
  const List* l = list_.load(std::memory_order_acquire);
  if (!l) return Status::OK();
  // Newest first: most lookups are of recent events.
  for (size_t i = l->parts.size(); i-- > 0;) {
    const Part& p = l->parts[i];
    if (p.base >= n) continue;
    CW_RETURN_IF_ERROR(p.file ? FindInFile(p, id, n, row) : FindInTable(p.table.get(), id, n, row));
    if (*row >= 0) return Status::OK();
  }
  return Status::OK();
}

bool IdDirectory::Attach(uint32_t slot, Row base, std::shared_ptr<const IndexPart> part) {
  const List* cur = list_.load(std::memory_order_relaxed);
  if (!cur || !part) return false;
  size_t at = cur->parts.size();
  for (size_t i = 0; i < cur->parts.size(); i++)
    if (cur->parts[i].slot == slot) at = i;
  if (at == cur->parts.size()) return false;
  const Part& p = cur->parts[at];
  if (p.file || p.base != base || p.Rows() != part->rows() || part->rows() == 0) return false;
  auto* next = new List(*cur);
  Part& q = next->parts[at];
  q.table.reset();
  q.rows = part->rows();
  q.file = std::make_shared<const FileIds>(std::move(part));
  if (slot == last_slot_) {
    // The newest part is now a file: the next row starts a new one, even in this slot.
    last_ = nullptr;
    last_slot_ = UINT32_MAX;
  }
  Swap(next);
  return true;
}

bool IdDirectory::ReplaceFile(uint32_t slot, std::shared_ptr<const IndexPart> part) {
  const List* cur = list_.load(std::memory_order_relaxed);
  if (!cur || !part || !part->checked()) return false;
  for (size_t i = 0; i < cur->parts.size(); i++) {
    const Part& p = cur->parts[i];
    if (p.slot != slot) continue;
    if (!p.file || p.rows != part->rows()) return false;
    auto* next = new List(*cur);
    next->parts[i].file = std::make_shared<const FileIds>(std::move(part));
    Swap(next);
    return true;
  }
  return false;
}

bool IdDirectory::AddFile(uint32_t slot, Row base, std::shared_ptr<const IndexPart> part) {
  const List* cur = list_.load(std::memory_order_relaxed);
  if (!part || part->rows() == 0) return false;
  if (cur && !cur->parts.empty() && cur->parts.back().base + cur->parts.back().Rows() > base) return false;
  auto loaded = std::find_if(loaded_files_.begin(), loaded_files_.end(), [&](const CoveredSlot& c) { return c.slot == slot; });
  const bool ranged = loaded != loaded_files_.end() && loaded->has_range && loaded->base == base && loaded->rows == part->rows();
  if (!ranged && !part->EnsureChecked().ok()) return false;
  auto* next = new List(cur ? *cur : List{});
  Part p;
  p.slot = slot;
  p.base = base;
  p.rows = part->rows();
  p.file = ranged ? std::make_shared<const FileIds>(std::move(part), loaded->min, loaded->max)
                  : std::make_shared<const FileIds>(std::move(part));
  next->parts.push_back(std::move(p));
  // The next row inserted starts a part of its own.
  last_ = nullptr;
  last_slot_ = UINT32_MAX;
  Swap(next);
  return true;
}

bool IdDirectory::Attached(uint32_t slot) const {
  const List* l = list_.load(std::memory_order_acquire);
  if (l)
    for (const Part& p : l->parts)
      if (p.slot == slot) return p.file != nullptr;
  return false;
}

size_t IdDirectory::attached_parts() const {
  const List* l = list_.load(std::memory_order_acquire);
  size_t n = 0;
  if (l)
    for (const Part& p : l->parts) n += p.file != nullptr;
  return n;
}

uint64_t IdDirectory::attached_bytes() const {
  const List* l = list_.load(std::memory_order_acquire);
  uint64_t n = 0;
  if (l)
    for (const Part& p : l->parts) n += p.file ? p.file->part->bytes() : 0;
  return n;
}

void IdDirectory::Clear() {
  delete list_.exchange(nullptr, std::memory_order_relaxed);
  DropPending();
  last_ = nullptr;
  last_slot_ = UINT32_MAX;
  retired_.Reclaim();
}

uint64_t IdDirectory::MemoryBytes() const {
  const List* l = list_.load(std::memory_order_relaxed);
  if (!l) return 0;
  uint64_t b = sizeof(List) + l->parts.capacity() * sizeof(Part);
  for (const Part& p : l->parts) {
    if (p.table) b += (p.table->mask + 1) * 8;
    if (p.file) {
      const std::vector<uint64_t>* f = p.file->fence.load(std::memory_order_acquire);
      b += sizeof(FileIds) + (f ? f->capacity() * 8 : 0);
    }
  }
  return b;
}

}  // namespace causeway
