// Containers the index is built from: one writer (the store's combiner)
// appends without a lock while readers (holding the store's reader lock,
// see store.h) read what has been published. The rules all share:
//  - Nothing a reader can reach ever moves: storage grows by adding chunks
//    or blocks, never by reallocating.
//  - A reader reads only elements below a count it loaded with acquire; the
//    writer stores an element before it publishes a count covering it
//    (release), so the two never touch the same memory at once.
//  - A hash table that must grow is rebuilt beside the old one and swapped
//    in (release); the old one is retired, and freed by Reclaim(), which the
//    store calls only where no reader can hold a pointer into it.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

#include "retire_list.h"

namespace causeway {

using Row = uint32_t;

// An array that grows by whole chunks of 2^kChunkBits elements, found
// through a two-level directory, so an element never moves. Indexes below
// 2^kTotalBits (kMaxSize). The count of valid elements is kept by the owner.
template <typename T, unsigned kChunkBits, unsigned kTotalBits = 32>
class StableArray {
  static constexpr unsigned kMidBits = 8;
  static constexpr unsigned kTopBits = kTotalBits - kMidBits - kChunkBits;
  static constexpr size_t kChunk = size_t(1) << kChunkBits;
  struct Mid {
    std::atomic<T*> chunks[size_t(1) << kMidBits] = {};
  };

 public:
  static constexpr uint64_t kMaxSize = uint64_t(1) << kTotalBits;
  static constexpr size_t kChunkSize = kChunk;  // elements [i, i + kChunkSize) are contiguous when i is a multiple
  StableArray() : top_(new std::atomic<Mid*>[size_t(1) << kTopBits]()) {}
  StableArray(const StableArray&) = delete;
  StableArray& operator=(const StableArray&) = delete;
  ~StableArray() { Clear(); }

  // REQUIRES: i below a count published after element i was stored.
  // Relaxed loads: the acquire of that count already orders the chunk's
  // publication (EnsureSlot, before the element's store) before this read.
  T& operator[](size_t i) const {
    Mid* m = top_[i >> (kChunkBits + kMidBits)].load(std::memory_order_relaxed);
    T* c = m->chunks[(i >> kChunkBits) & ((size_t(1) << kMidBits) - 1)].load(std::memory_order_relaxed);
    return c[i & (kChunk - 1)];
  }

  // Writer only: makes element i (default-constructed) exist. Elements are
  // used in order, so this allocates at most one chunk.
  T& EnsureSlot(size_t i) {
    if ((i >> kChunkBits) == last_index_) return last_chunk_[i & (kChunk - 1)];  // the common case
    std::atomic<Mid*>& mp = top_[i >> (kChunkBits + kMidBits)];
    Mid* m = mp.load(std::memory_order_relaxed);
    if (!m) {
      m = new Mid();
      mp.store(m, std::memory_order_release);  // release: pairs with readers' acquire of the count
    }
    std::atomic<T*>& cp = m->chunks[(i >> kChunkBits) & ((size_t(1) << kMidBits) - 1)];
    T* c = cp.load(std::memory_order_relaxed);
    if (!c) {
      // Plain columns are left unzeroed: every element is stored before a count covers it.
      if constexpr (std::is_trivially_default_constructible_v<T>) c = new T[kChunk];
      else c = new T[kChunk]();
      cp.store(c, std::memory_order_release);
      chunks_++;
    }
    last_index_ = i >> kChunkBits;
    last_chunk_ = c;
    return c[i & (kChunk - 1)];
  }

  // Bytes of chunks allocated (less those FreeBelow freed).
  uint64_t CapacityBytes() const { return (chunks_ - freed_.load(std::memory_order_relaxed)) * kChunk * sizeof(T); }

  // Frees the chunks wholly below element n, which no reader or writer will
  // read again (the owner no longer serves them from here). Callers are
  // serialised among themselves; the writer may append meanwhile (it only
  // touches the chunk of its next element, above n).
  void FreeBelow(size_t n) {
    for (; (next_free_ + 1) * kChunk <= n; next_free_++) {
      Mid* m = top_[next_free_ >> kMidBits].load(std::memory_order_relaxed);
      if (!m) continue;
      std::atomic<T*>& cp = m->chunks[next_free_ & ((size_t(1) << kMidBits) - 1)];
      T* c = cp.exchange(nullptr, std::memory_order_relaxed);
      if (!c) continue;
      delete[] c;
      freed_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
    }
  }

  // REQUIRES: no reader and no writer.
  void Clear() {
    for (size_t t = 0; t < (size_t(1) << kTopBits); t++) {
      Mid* m = top_[t].load(std::memory_order_relaxed);
      if (!m) continue;
      for (auto& c : m->chunks) delete[] c.load(std::memory_order_relaxed);
      delete m;
      top_[t].store(nullptr, std::memory_order_relaxed);
    }
    chunks_ = 0;
    freed_.store(0, std::memory_order_relaxed);
    next_free_ = 0;
    last_index_ = SIZE_MAX;
    last_chunk_ = nullptr;
  }

 private:
  std::unique_ptr<std::atomic<Mid*>[]> top_;
  uint64_t chunks_ = 0;  // writer only
  std::atomic<uint64_t> freed_{0};
  size_t next_free_ = 0;  // FreeBelow's: the lowest chunk it has not yet freed
  // Writer only: the chunk EnsureSlot used last, which holds the next slot but once per chunk.
  size_t last_index_ = SIZE_MAX;
  T* last_chunk_ = nullptr;
};

// A posting list: rows in ascending order, appended by the writer into
// linked blocks of doubling size. Readers walk the blocks up to the size
// they loaded; the writer fills slots past it.
class RowList {
  struct Block {
    std::atomic<Block*> next{nullptr};
    uint32_t cap = 0;
    Row rows[1];  // really `cap` rows
  };

 public:
  RowList() = default;
  RowList(const RowList&) = delete;
  RowList& operator=(const RowList&) = delete;
  ~RowList() { Clear(); }

  // Acquire: every row below the returned size is stored and its block linked.
  uint32_t size() const { return size_.load(std::memory_order_acquire); }

  // Writer only: a hint that starts loading where push_back writes next.
  void Prefetch() const {
    if (tail_) __builtin_prefetch(&tail_->rows[tail_used_ < tail_->cap ? tail_used_ : 0], 1);
  }

  // Writer only.
  void push_back(Row r) {
    if (!tail_ || tail_used_ == tail_->cap) {
      const uint32_t cap = tail_ ? tail_->cap * 2 : 4;
      void* mem = std::malloc(sizeof(Block) + (cap - 1) * sizeof(Row));
      if (!mem) throw std::bad_alloc();
      Block* b = new (mem) Block();
      b->cap = cap;
      // Release (both): a reader that follows the link sees cap initialised.
      if (tail_) tail_->next.store(b, std::memory_order_release);
      else head_.store(b, std::memory_order_release);
      tail_ = b;
      tail_used_ = 0;
      bytes_ += sizeof(Block) + (cap - 1) * sizeof(Row);
    }
    tail_->rows[tail_used_++] = r;
    // Release: a reader that loads this size sees the row.
    size_.store(size_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }

  // Reads rows in order, from the first whose key(row) >= `from` (key must
  // grow with the row), until `visit` returns false or `n` rows are passed.
  template <typename Key, typename Visit>
  void ForEachFrom(uint32_t n, uint64_t from, Key key, Visit visit) const {
    uint32_t seen = 0;
    for (const Block* b = head_.load(std::memory_order_acquire); b && seen < n;
         b = b->next.load(std::memory_order_acquire)) {
      const uint32_t k = std::min(b->cap, n - seen);
      seen += k;
      if (from > 0 && key(b->rows[k - 1]) < from) continue;  // the whole block is before `from`
      uint32_t i = 0;
      if (from > 0) {
        uint32_t lo = 0, hi = k;
        while (lo < hi) {
          const uint32_t mid = (lo + hi) / 2;
          if (key(b->rows[mid]) < from) lo = mid + 1;
          else hi = mid;
        }
        i = lo;
        from = 0;  // later blocks hold later rows
      }
      for (; i < k; i++)
        if (!visit(b->rows[i])) return;
    }
  }
  // Reads rows newest first: skips the last of the first `n` rows for which
  // above(row) holds (above must go from false to true as rows grow), then
  // visits the rest backwards until `visit` returns false. Blocks double in
  // size, so a list of 2^32 rows has under 32: their addresses fit on the
  // stack, and the walk never passes a row it does not visit but to seek.
  template <typename Above, typename Visit>
  void ForEachBack(uint32_t n, Above above, Visit visit) const {
    const Block* blocks[40];
    uint32_t used[40];
    int count = 0;
    uint32_t seen = 0;
    for (const Block* b = head_.load(std::memory_order_acquire); b && seen < n && count < 40;
         b = b->next.load(std::memory_order_acquire)) {
      used[count] = std::min(b->cap, n - seen);
      seen += used[count];
      blocks[count++] = b;
    }
    bool seeking = true;
    for (int k = count - 1; k >= 0; k--) {
      const Block* b = blocks[k];
      uint32_t i = used[k];  // one past the next row to visit
      if (seeking) {
        if (above(b->rows[0])) continue;  // the whole block is past the bound
        uint32_t lo = 0, hi = i;  // the first row above the bound, by bisection
        while (lo < hi) {
          const uint32_t mid = (lo + hi) / 2;
          if (above(b->rows[mid])) hi = mid;
          else lo = mid + 1;
        }
        i = lo;
        seeking = false;  // earlier blocks hold earlier rows
      }
      while (i > 0)
        if (!visit(b->rows[--i])) return;
    }
  }
  template <typename Visit>
  void ForEach(uint32_t n, Visit visit) const {
    ForEachFrom(n, 0, [](Row) { return uint64_t(0); }, visit);
  }
  void AppendTo(std::vector<Row>* out) const {
    ForEach(size(), [&](Row r) {
      out->push_back(r);
      return true;
    });
  }

  uint64_t CapacityBytes() const { return sizeof(RowList) + bytes_; }

  // REQUIRES: no reader and no writer.
  void Clear() {
    Block* b = head_.load(std::memory_order_relaxed);
    while (b) {
      Block* next = b->next.load(std::memory_order_relaxed);
      b->~Block();
      std::free(b);
      b = next;
    }
    head_.store(nullptr, std::memory_order_relaxed);
    tail_ = nullptr;
    tail_used_ = 0;
    bytes_ = 0;
    size_.store(0, std::memory_order_relaxed);
  }

 private:
  std::atomic<Block*> head_{nullptr};
  std::atomic<uint32_t> size_{0};
  Block* tail_ = nullptr;  // writer only
  uint32_t tail_used_ = 0;  // writer only
  uint64_t bytes_ = 0;      // writer only
};

// Open-addressing map from a 16-byte digest to a posting list, with
// concurrent readers. A slot is claimed by storing its key, then publishing
// its list (release); readers test the list (acquire) before the key.
class PostingsTable {
 public:
  using Key = std::array<uint8_t, 16>;

  PostingsTable() = default;
  PostingsTable(const PostingsTable&) = delete;
  PostingsTable& operator=(const PostingsTable&) = delete;
  ~PostingsTable() { Clear(); }

  // Readers and the writer. Null when absent.
  const RowList* Find(const uint8_t* key) const {
    const Table* t = table_.load(std::memory_order_acquire);
    return t ? Probe(t, key) : nullptr;
  }

  // Writer only: the list for `key`, created empty when absent. A grown
  // table replaces the old one, which goes to `retired`.
  RowList* FindOrAdd(const uint8_t* key, RetireList* retired) {
    Table* t = table_.load(std::memory_order_relaxed);
    if (t) {
      if (RowList* l = Probe(t, key)) return l;
    }
    if (!t || (count_ + 1) * 4 > (t->mask + 1) * 3) {
      Table* bigger = new Table(t ? (t->mask + 1) * 2 : 64);
      if (t)
        for (size_t i = 0; i <= t->mask; i++)
          if (RowList* l = t->slots[i].list.load(std::memory_order_relaxed)) Insert(bigger, t->slots[i].key.data(), l);
      // Release: readers that load the new table see its filled slots.
      table_.store(bigger, std::memory_order_release);
      if (t) retired->Retire(t);
      t = bigger;
    }
    lists_.emplace_back(new RowList());
    RowList* l = lists_.back().get();
    Insert(t, key, l);
    count_++;
    return l;
  }

  size_t size() const { return count_; }
  // How many slots a lookup of `key` reads (a test of the hash's spread).
  size_t ProbeLength(const uint8_t* key) const {
    const Table* t = table_.load(std::memory_order_acquire);
    size_t n = 0;
    if (t) Probe(t, key, &n);
    return n;
  }
  // Every key with its list, in no order. Writer, or with no writer.
  template <typename Visit>
  void ForEach(Visit visit) const {
    const Table* t = table_.load(std::memory_order_acquire);
    if (!t) return;
    for (size_t i = 0; i <= t->mask; i++)
      if (const RowList* l = t->slots[i].list.load(std::memory_order_acquire)) visit(t->slots[i].key, *l);
  }
  uint64_t CapacityBytes() const {
    const Table* t = table_.load(std::memory_order_relaxed);
    uint64_t b = t ? (t->mask + 1) * sizeof(Slot) : 0;
    for (const auto& l : lists_) b += l->CapacityBytes();
    return b;
  }
  // REQUIRES: no reader and no writer.
  void Clear() {
    delete table_.exchange(nullptr, std::memory_order_relaxed);
    lists_.clear();
    count_ = 0;
  }

 private:
  struct Slot {
    Key key{};
    std::atomic<RowList*> list{nullptr};
  };
  struct Table {
    explicit Table(size_t n) : mask(n - 1), slots(new Slot[n]) {}
    size_t mask;
    std::unique_ptr<Slot[]> slots;
  };
  static size_t Hash(const uint8_t* key) {
    // Mixed, not taken as is: entity, scope and kind keys are small
    // integers (IdKey, KindKey) handed out in order, and linear probing
    // over slots they fill in runs walks whole clusters (a store of 32,000
    // entities spent a third of its appends probing after each segment
    // roll). The splitmix64 finalizer over both halves spreads them.
    uint64_t a, b;
    std::memcpy(&a, key, 8);
    std::memcpy(&b, key + 8, 8);
    uint64_t x = a ^ (b * 0x9e3779b97f4a7c15ULL);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return static_cast<size_t>(x ^ (x >> 31));
  }
  // `probes`, when given, counts the slots read (ProbeLength).
  static RowList* Probe(const Table* t, const uint8_t* key, size_t* probes = nullptr) {
    for (size_t i = Hash(key) & t->mask;; i = (i + 1) & t->mask) {
      if (probes) ++*probes;
      // Acquire: pairs with Insert's release, so the key below is complete.
      RowList* l = t->slots[i].list.load(std::memory_order_acquire);
      if (!l) return nullptr;
      if (std::memcmp(t->slots[i].key.data(), key, 16) == 0) return l;
    }
  }
  static void Insert(Table* t, const uint8_t* key, RowList* l) {
    size_t i = Hash(key) & t->mask;
    while (t->slots[i].list.load(std::memory_order_relaxed)) i = (i + 1) & t->mask;
    std::memcpy(t->slots[i].key.data(), key, 16);
    // Release: a reader that sees the list sees the key.
    t->slots[i].list.store(l, std::memory_order_release);
  }

  std::atomic<Table*> table_{nullptr};
  std::vector<std::unique_ptr<RowList>> lists_;  // writer only: owns every list
  size_t count_ = 0;                             // writer only
};

}  // namespace causeway
