#include "id_directory.h"

#include <cstring>

#include "index_part.h"

namespace causeway {

IdDirectory::~IdDirectory() { delete list_.load(std::memory_order_relaxed); }

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
  // Writer only: the list's copy of the part is the one readers see, and
  // they bound rows by the index's published count, not by this.
  const_cast<List*>(list_.load(std::memory_order_relaxed))->parts.back().rows++;
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
  if (std::memcmp(id, p.min.data(), 16) < 0 || std::memcmp(id, p.max.data(), 16) > 0) return Status::OK();
  const int64_t local = p.file->FindId(id);
  if (local < 0 || p.base + static_cast<Row>(local) >= n) return Status::OK();
  // The file says where; the frame, checked, says what: never an id unread.
  const Row r = p.base + static_cast<Row>(local);
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
  if (p.file || p.base != base || p.rows != part->rows() || part->rows() == 0) return false;
  auto* next = new List(*cur);
  Part& q = next->parts[at];
  q.table.reset();
  std::memcpy(q.min.data(), part->IdAt(0), 16);
  std::memcpy(q.max.data(), part->IdAt(part->rows() - 1), 16);
  q.file = std::move(part);
  if (slot == last_slot_) {
    // The newest part is now a file: the next row starts a new one, even in this slot.
    last_ = nullptr;
    last_slot_ = UINT32_MAX;
  }
  Swap(next);
  return true;
}

bool IdDirectory::AddFile(uint32_t slot, Row base, std::shared_ptr<const IndexPart> part) {
  const List* cur = list_.load(std::memory_order_relaxed);
  if (!part || part->rows() == 0) return false;
  if (cur && !cur->parts.empty() && cur->parts.back().base + cur->parts.back().rows > base) return false;
  auto* next = new List(cur ? *cur : List{});
  Part p;
  p.slot = slot;
  p.base = base;
  p.rows = part->rows();
  std::memcpy(p.min.data(), part->IdAt(0), 16);
  std::memcpy(p.max.data(), part->IdAt(part->rows() - 1), 16);
  p.file = std::move(part);
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
    for (const Part& p : l->parts) n += p.file ? p.file->bytes() : 0;
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
  for (const Part& p : l->parts)
    if (p.table) b += (p.table->mask + 1) * 8;
  return b;
}

}  // namespace causeway
