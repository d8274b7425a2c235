// The event-id directory: which row holds an event id. One part per
// segment, in row order: an in-memory hash table while the segment is open
// (and until its index file is ready), then the segment's index file
// (index_part.h), whose sorted ids answer for it and whose table is freed.
// So the memory it holds grows with the active segment, not the log.
//
// Threads: one writer (the store's combiner) inserts, attaches and clears;
// readers (under the store's reader lock) find, concurrently. The list of
// parts is immutable once published and replaced whole (release); replaced
// lists and tables wait in a RetireList until Reclaim (see concurrent.h).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "concurrent.h"
#include "status.h"
#include "warm_ahead.h"

namespace causeway {
class ByteReader;
class ByteWriter;
}

namespace causeway {

class IndexPart;

class IdDirectory {
 public:
  // Sets *id to the 16-byte event id of `row`, read from its frame after
  // checking it: Corruption when the frame fails.
  using Resolver = Status (*)(void* ctx, Row row, const uint8_t** id);

  IdDirectory() = default;
  ~IdDirectory();
  IdDirectory(const IdDirectory&) = delete;
  IdDirectory& operator=(const IdDirectory&) = delete;

  void SetResolver(Resolver fn, void* ctx) {
    resolve_ = fn;
    resolve_ctx_ = ctx;
  }

  // Writer. Row `row` (rows arrive in ascending order) of segment `slot`
  // holds `id`; a slot not seen before starts a part of its own.
  void Insert(Row row, uint32_t slot, const uint8_t* id) { InsertTag(row, slot, Tag(id)); }
  // The same with the id's 32-bit tag (Tag) in place of the id.
  void InsertTag(Row row, uint32_t slot, uint32_t tag);
  static uint32_t Tag(const uint8_t* id) { return static_cast<uint32_t>(Hash(id) >> 32); }

  // Loading (id_directory_io.cc), writer only. An open loads rows with their
  // ids deferred: each row's tag is kept aside per segment (Pend), or the
  // checkpoint says an index file covered the segment (loaded_files). The
  // open then gives each segment, in order, its file (AddFile) or its
  // pending tags (InsertPending), never reading a frame for either.
  void Pend(uint32_t slot, const uint8_t* id) { PendTag(slot, Tag(id)); }
  void PendTag(uint32_t slot, uint32_t tag);
  // Inserts segment `slot`'s pending tags as rows [first, end); false (and
  // nothing inserted) when it has not exactly that many.
  bool InsertPending(uint32_t slot, Row first, Row end);
  void DropPending();
  struct CoveredSlot {
    uint32_t slot = 0;
    Row base = 0, rows = 0;
    bool has_range = false;  // version 5: the file's smallest and largest id, so it is not read to skip it
    std::array<uint8_t, 16> min{}, max{};
  };
  // Segments the loaded checkpoint says an index file covered: the open
  // must attach each one's file, or refuse the checkpoint.
  const std::vector<CoveredSlot>& loaded_files() const { return loaded_files_; }
  // The checkpoint's part: per segment, its file's rows, or its rows' tags.
  void Save(ByteWriter* w) const;
  [[nodiscard]] bool Load(ByteReader* r, Row n, bool with_ranges);
  // A hint: starts loading the slot an Insert of this id will probe.
  void Prefetch(const uint8_t* id) const;

  // Readers. *row: the row below n holding `id`, or -1. Every candidate is
  // read through the resolver, which checks its frame: a damaged candidate
  // gives its Corruption, never a miss.
  [[nodiscard]] Status Find(const uint8_t* id, Row n, int64_t* row) const;

  // Writer. From now on the index file `part` answers for segment `slot`,
  // whose rows are [base, base + part rows): its in-memory table is retired.
  // False (nothing changes) when the slot has no in-memory part with
  // exactly those rows.
  bool Attach(uint32_t slot, Row base, std::shared_ptr<const IndexPart> part);
  // Writer, loading in row order: segment `slot`, rows [base, base + part
  // rows), is answered by `part` from the start (its ids never inserted).
  // False (nothing changes) when a part already covers rows past base. The
  // part may be checked later (IndexPart::EnsureChecked, before its first
  // lookup) when the loaded checkpoint gave its id range; else it must be
  // checked now.
  bool AddFile(uint32_t slot, Row base, std::shared_ptr<const IndexPart> part);
  // Writer. `part` (checked) answers for segment `slot` in place of the
  // file that did: false unless a file did, with as many rows.
  bool ReplaceFile(uint32_t slot, std::shared_ptr<const IndexPart> part);
  // Whether segment `slot` is answered by an index file.
  bool Attached(uint32_t slot) const;
  // Parts answered by index files, and rows they cover.
  size_t attached_parts() const;
  uint64_t attached_bytes() const;

  // Writer, with no reader: back to empty.
  void Clear();
  // Bytes of heap held (tables and the part list).
  uint64_t MemoryBytes() const;
  // REQUIRES: as Index::Reclaim.
  void Reclaim() { retired_.Reclaim(); }

 private:
  // Open addressing of (tag << 32) | (row + 1), 0 = empty. The tag is 32
  // bits of the id's hash and picks the home slot, so growth re-hashes
  // without reading a frame, and a probe reads only frames whose tag matches.
  struct Table {
    explicit Table(size_t n) : mask(n - 1), slots(ResidentArray<std::atomic<uint64_t>>::New(n)) {}
    size_t mask;
    size_t count = 0;  // writer only
    ResidentArray<std::atomic<uint64_t>>::Ptr slots;  // zeroed
  };
  // A sealed segment's ids, sorted in its index file. A lookup bisects a
  // fence of every kFenceStep-th id's first 8 bytes (made on first use, 8
  // bytes per 256 ids) and then one page of the file's ids, so it touches
  // about one page of the mapping, not one per step of a bisection.
  static constexpr uint32_t kFenceStep = 256;
  struct FileIds {
    explicit FileIds(std::shared_ptr<const IndexPart> p);  // REQUIRES: p checked
    FileIds(std::shared_ptr<const IndexPart> p, const std::array<uint8_t, 16>& lo, const std::array<uint8_t, 16>& hi)
        : part(std::move(p)), min(lo), max(hi) {}
    ~FileIds() { delete fence.load(std::memory_order_relaxed); }
    std::shared_ptr<const IndexPart> part;
    std::array<uint8_t, 16> min{}, max{};  // its smallest and largest id
    // Readers may race to make it: the first to publish (acq_rel) wins, the others' copies are dropped.
    mutable std::atomic<const std::vector<uint64_t>*> fence{nullptr};
  };
  struct Part {
    uint32_t slot = 0;
    Row base = 0;  // the segment's first row
    Row rows = 0;  // a file's rows; an in-memory part's are its table's count (writer only)
    Row Rows() const { return file ? rows : static_cast<Row>(table->count); }
    std::shared_ptr<Table> table;  // in memory (freed with the last list that holds it)
    std::shared_ptr<const FileIds> file;   // or the index file's ids
  };
  struct List {
    std::vector<Part> parts;
  };
  static uint64_t Hash(const uint8_t* id);
  static uint64_t Home(uint32_t tag) {
    uint64_t h = tag * 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 29);
  }
  static void Place(Table* t, uint64_t entry);
  // Writer: room for `events` more ids in the newest part's table.
  void Reserve(size_t events);
  // Publishes `next` in place of the current list (release) and retires the old one.
  void Swap(List* next);
  Status FindInTable(const Table* t, const uint8_t* id, Row n, int64_t* row) const;
  Status FindInFile(const Part& p, const uint8_t* id, Row n, int64_t* row) const;

  std::atomic<const List*> list_{nullptr};
  // Writer only: the newest part's table (also in the list), for Insert's common case.
  Table* last_ = nullptr;
  uint32_t last_slot_ = UINT32_MAX;
  mutable RetireList retired_;
  Resolver resolve_ = nullptr;
  void* resolve_ctx_ = nullptr;
  std::vector<std::vector<uint32_t>> pending_;  // loading: by slot, the tags of its rows in order
  std::vector<CoveredSlot> loaded_files_;       // loading: from the checkpoint
};

}  // namespace causeway
