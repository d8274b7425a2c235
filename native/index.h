// The in-memory index, rebuilt on open: columns per event (one row per
// event, rows in global-sequence order), interned entity and scope names,
// postings per entity (clock order), scope and kind, an event-id table and
// the idempotency digests. No object per event. Built from the containers
// of concurrent.h, so readers use it while the writer appends.
#pragma once

#include <array>
#include <atomic>
#include <cstring>
#include <memory>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "concurrent.h"
#include "format.h"
#include "id_directory.h"
#include "status.h"

namespace causeway {

// Little-endian serialisation helpers for the checkpoint.
class ByteWriter {
 public:
  explicit ByteWriter(std::string* out) : out_(out) {}
  template <typename T>
  void Put(T v) {
    Bytes(&v, sizeof v);
  }
  void Bytes(const void* p, size_t n);

 private:
  std::string* out_;
};

class ByteReader {
 public:
  ByteReader(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
  template <typename T>
  [[nodiscard]] bool Get(T* v) {
    return Bytes(v, sizeof *v);
  }
  [[nodiscard]] bool Bytes(void* p, size_t n);
  bool done() const { return p_ == end_; }
  size_t left() const { return static_cast<size_t>(end_ - p_); }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

constexpr uint32_t kNoId = 0xffffffffu;

struct RowLocation {
  uint32_t segment_slot;  // index into the store's segment list
  uint32_t offset;        // frame offset inside that segment
};

// A region filter: every set part must match (they are ANDed).
struct RegionFilter {
  bool has_entity = false;
  std::string entity;  // matches the entity itself and "entity:..."
  bool exact_entity = false;  // match the entity itself only
  bool has_scope = false;
  std::string scope;
  enum class Kind { kAny, kExact, kCategory } kind_mode = Kind::kAny;
  uint16_t kind = 0;  // kExact: the kind; kCategory: the category (0..15)
  bool has_clock = false;
  uint32_t clock_from = 0, clock_to = 0;  // inclusive
  bool has_time = false;
  int64_t time_from_us = 0, time_to_us = 0;  // inclusive
  uint64_t after_sequence = 0;  // only rows with sequence >= this
  uint64_t before_sequence = UINT64_MAX;  // only rows with sequence < this
  uint64_t limit = UINT64_MAX;
  // Newest first: the walk starts at the end of the candidate rows (before
  // before_sequence) and goes back, so a limit reads only the rows it returns.
  bool reverse = false;
  std::vector<uint16_t> kinds;                // any one of these kinds (empty: any kind)
  std::vector<std::array<uint8_t, 16>> tags;  // every one of these tags (keys from Index::TagKey)
  // Event time (an extension's occurred-at, else the record timestamp), inclusive.
  bool has_occurred = false;
  int64_t occurred_from_us = 0, occurred_to_us = 0;
  // A DCB query: when set, a row matches if it matches any one item, and
  // only the bounds above (sequences, limit, reverse) apply to the whole;
  // the other parts of this filter are ignored. Items have no any_of.
  std::vector<RegionFilter> any_of;
};

class Index {
 public:
  using Digest = std::array<uint8_t, 16>;
  // Digests are BLAKE3 output or random ids: their first 8 bytes are hash enough.
  struct DigestHash {
    size_t operator()(const Digest& d) const {
      uint64_t a;
      std::memcpy(&a, d.data(), 8);
      return static_cast<size_t>(a);
    }
  };
  // Sets *id to the 16-byte event id of `row`, read from its frame (the index
  // keeps no id column), after checking that frame: Corruption when it fails.
  using IdResolver = Status (*)(void* ctx, Row row, const uint8_t** id);
  // Sets *v to row's frame, checked; for filters on what only the frame holds (event time).
  using FrameResolver = Status (*)(void* ctx, Row row, FrameView* v);
  // Most entities (and, separately, scopes) one index can name.
  static constexpr uint64_t kMaxNames = uint64_t(1) << 28;

  Index() = default;
  ~Index();
  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;

  // Back to empty (keeps the id resolver). REQUIRES: no reader, no writer.
  void Clear();
  // Empty of events, but every entity and scope keeps its id: ids are handed
  // to the TypeScript layer, which caches them, so a rebuild must not renumber.
  void ClearKeepingNames();

  void SetIdResolver(IdResolver fn, void* ctx) { ids_.SetResolver(fn, ctx); }
  void SetFrameResolver(FrameResolver fn, void* ctx) {
    resolve_frame_ = fn;
    frame_ctx_ = ctx;
  }
  // The 16-byte posting key of a tag: the first bytes of BLAKE3 of its UTF-8.
  static std::array<uint8_t, 16> TagKey(const uint8_t* tag, size_t len);
  // Rows carrying this tag, published or not (null: none).
  const RowList* TagRows(const std::array<uint8_t, 16>& key) const { return tag_rows_.Find(key.data()); }

  // Threads: one writer at a time calls Add, Publish and RaiseEntity
  // (the store's combiner, or a thread holding both the combiner
  // role and the reader lock); InternEntity/InternScope run under the reader
  // lock and may overlap the writer. Readers, under the reader lock, see the
  // rows published so far and may overlap the writer too. Everything else
  // (Clear, Load, Save, MemoryBytes) needs the writer role and the lock.

  // kNoId when kMaxNames names exist already.
  uint32_t InternEntity(std::string_view name);
  uint32_t InternScope(std::string_view name);
  uint32_t FindEntity(std::string_view name) const;  // kNoId when unknown
  uint32_t FindScope(std::string_view name) const;
  const std::string& EntityName(uint32_t id) const { return entities_[id].name; }
  const std::string& ScopeName(uint32_t id) const { return scopes_[id].name; }
  // Acquire: names below the count are complete.
  size_t entity_count() const { return entity_count_.load(std::memory_order_acquire); }
  size_t scope_count() const { return scope_count_.load(std::memory_order_acquire); }

  // Writer only. The entity's newest clock (0 when it has no event) and content hash (zeros then).
  uint32_t EntityClock(uint32_t entity) const { return entities_[entity].clock; }
  const uint8_t* EntityHead(uint32_t entity) const { return entities_[entity].head.data(); }
  // Moves an entity's clock and head forward to an event compaction dropped.
  void RaiseEntity(uint32_t entity, uint32_t clock, const uint8_t* head) {
    entities_[entity].clock = clock;
    // Relaxed: readers use the number alone and reach nothing through it.
    entities_[entity].raised_clock.store(clock, std::memory_order_relaxed);
    std::memcpy(entities_[entity].head.data(), head, 32);
  }
  // Readers. The entity's clock as readers see it (0 when it has no event):
  // its newest published row's clock, or the clock compaction raised it to
  // when that is higher. Reads no frame and walks no more than the rows
  // appended but not yet published.
  uint32_t PublishedClock(uint32_t entity) const;

  // The fields of one event the index keeps (from a frame or a segment footer).
  struct RowFields {
    uint64_t sequence = 0;
    uint16_t kind = 0;
    uint8_t flags = 0;
    uint32_t clock = 0;
    int64_t timestamp_us = 0;
    const uint8_t* event_id = nullptr;
    const uint8_t* correlation_id = nullptr;  // null or equal to event_id: a root event
    const uint8_t* causation_id = nullptr;    // null: none
    const uint8_t* idempotency = nullptr;     // null: none
    const uint8_t* content_hash = nullptr;    // null: leave the entity's head as it is
    const uint8_t* extension = nullptr;       // a checked extension block (tags are indexed), or null
  };
  // Adds one committed event; rows must arrive in global-sequence order.
  // Readers see it once published: at once, or with `publish` false (items
  // of a batch but the last) only with a later Publish.
  Row Add(const FrameView& v, RowLocation loc, uint32_t entity, uint32_t scope, bool publish = true);
  Row Add(const RowFields& f, RowLocation loc, uint32_t entity, uint32_t scope, bool publish = true);
  // Makes every row added so far visible to readers.
  void Publish() { visible_.store(size_, std::memory_order_release); }

  // Rows added (the writer's view; readers see visible()).
  size_t size() const { return size_; }
  // Rows readers may read. Acquire: pairs with Publish, so those rows'
  // columns, postings and table entries are all in place.
  Row visible() const { return visible_.load(std::memory_order_acquire); }
  uint64_t Sequence(Row r) const { return sequence_[r]; }
  RowLocation Location(Row r) const { return location_[r]; }
  uint32_t Entity(Row r) const { return entity_[r]; }
  uint32_t Scope(Row r) const { return scope_[r]; }
  uint16_t Kind(Row r) const { return kind_[r]; }
  uint32_t Clock(Row r) const { return clock_[r]; }
  int64_t Timestamp(Row r) const { return timestamp_[r]; }

  // *row: the row of the event with this 16-byte id, or -1. Only rows whose
  // hash tag matches are read, each through the resolver, which checks its
  // frame: a damaged candidate gives its Corruption, never a miss.
  [[nodiscard]] Status FindId(const uint8_t* id, int64_t* row) const { return ids_.Find(id, visible(), row); }
  // Starts loading the id-table slot a later Add of this id will probe, so
  // its cache miss overlaps the frame's encoding. A hint: no effect on state.
  void PrefetchIdSlot(const uint8_t* id) const { ids_.Prefetch(id); }
  // Writer only. Row of the event appended with this idempotency digest, or -1.
  int64_t FindIdempotency(const Digest& d) const;
  // Row whose sequence is `seq`, or -1.
  int64_t FindSequence(uint64_t seq) const;

  // Rows matching the filter, in global-sequence order (newest first with reverse).
  std::vector<Row> Query(const RegionFilter& f) const;
  // True when row r matches every part of f (entity by name; after_sequence ignored).
  bool Matches(Row r, const RegionFilter& f) const;

  // *out: rows whose correlation id is `id` (the root, whose own id it is, included), in order.
  [[nodiscard]] Status ByCorrelation(const uint8_t* id, std::vector<Row>* out) const;
  // Rows whose causation id is `id`: the direct effects of that event, in order.
  std::vector<Row> ByCausation(const uint8_t* id) const;

  // Writes / reads every column, name, head and table; postings are rebuilt
  // from the columns on load. Load REQUIRES an empty index and leaves the
  // event ids pending (IdDirectory's loading steps): the caller places them
  // before any lookup. Versions 1 to 3 have a table of all ids, read past:
  // the caller then takes every id from its frame (InsertIds or PendIds).
  void Save(ByteWriter* w) const;
  [[nodiscard]] bool Load(ByteReader* r, int version);

  // While deferred (an open loading rows), Add keeps each event id's tag
  // aside (IdDirectory::Pend); the open then gives each segment its index
  // file or its pending tags.
  void DeferIds(bool defer) { defer_ids_ = defer; }
  // Rows [from, to) pending (PendIds: an old checkpoint's rows) or inserted
  // (InsertIds: one segment's) by their ids read from frames; id_of checks
  // the frame, and its first failure is returned. Open only.
  template <typename IdOf>
  [[nodiscard]] Status PendIds(Row from, Row to, IdOf id_of) {
    return IdsFromFrames(from, to, id_of, [this](Row r, const uint8_t* id) { ids_.Pend(location_[r].segment_slot, id); });
  }
  template <typename IdOf>
  [[nodiscard]] Status InsertIds(Row from, Row to, IdOf id_of) {
    return IdsFromFrames(from, to, id_of, [this](Row r, const uint8_t* id) { ids_.Insert(r, location_[r].segment_slot, id); });
  }
  // The directory of event ids, for the store to hand it index files.
  IdDirectory& ids() { return ids_; }
  const IdDirectory& ids() const { return ids_; }
  // The rows of segment `slot`: [*first, *end) (rows ascend with slots).
  void SlotRows(uint32_t slot, Row* first, Row* end) const;

  // Bytes of heap the index holds (columns, postings, tables), for stats.
  uint64_t MemoryBytes() const;

  // Frees the tables that growth replaced. REQUIRES: the reader lock held,
  // by a thread that has not yet read through the index under it (readers
  // are serialised by that lock, so none can hold a replaced table).
  void Reclaim() const {
    retired_.Reclaim();
    const_cast<IdDirectory&>(ids_).Reclaim();
  }

 private:
  struct EntityState {
    std::string name;
    uint32_t clock = 0;  // writer only, like head
    // The clock RaiseEntity (or a checkpoint's Load) set, for readers: the
    // writer's `clock` may run ahead of the published rows, this never does.
    std::atomic<uint32_t> raised_clock{0};
    std::array<uint8_t, 32> head{};
    RowList rows;
  };
  struct ScopeState {
    std::string name;
    RowList rows;
  };
  struct SvHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  static void KindKey(uint16_t kind, uint8_t* key) {
    std::memset(key, 0, 16);
    key[0] = static_cast<uint8_t>(kind);
    key[1] = static_cast<uint8_t>(kind >> 8);
  }
  template <typename IdOf, typename Put>
  Status IdsFromFrames(Row from, Row to, IdOf id_of, Put put) {
    for (Row r = from; r < to; r++) {
      const uint8_t* id = nullptr;
      Status st = id_of(r, &id);
      if (!st.ok()) return st;
      put(r, id);
    }
    return Status::OK();
  }
  bool MatchesEntity(uint32_t entity, const RegionFilter& f) const;
  struct Candidates;
  // Picks the shortest posting list the filter names (false: nothing can match).
  bool PickCandidates(const RegionFilter& f, Candidates* c) const;
  void QueryForward(const RegionFilter& f, const Candidates& c, Row n, std::vector<Row>* out) const;
  void QueryReverse(const RegionFilter& f, const Candidates& c, Row n, std::vector<Row>* out) const;
  bool Keep(Row r, const RegionFilter& f, const Candidates& c) const;
  // The parts of a filter only tags and the frame can answer (c: the list
  // the candidates came from, whose own tag needs no check).
  bool KeepExtended(Row r, const RegionFilter& f, const RowList* from) const;
  void QueryUpTo(const RegionFilter& f, Row n, std::vector<Row>* out) const;
  bool MergeKinds(const RegionFilter& f, Candidates* c) const;
  void QueryAnyOf(const RegionFilter& f, Row n, std::vector<Row>* out) const;
  // The first of rows [0, n) whose sequence is >= seq (n when none).
  Row FirstRowFrom(uint64_t seq, Row n) const;

  // Columns, one entry per row; rows [0, size_) written, [0, visible_) published.
  StableArray<uint64_t, 14> sequence_;
  StableArray<RowLocation, 14> location_;
  StableArray<uint32_t, 14> entity_;
  StableArray<uint32_t, 14> scope_;
  StableArray<uint16_t, 14> kind_;
  StableArray<uint32_t, 14> clock_;
  StableArray<int64_t, 14> timestamp_;
  uint32_t size_ = 0;  // writer only
  std::atomic<uint32_t> visible_{0};

  StableArray<EntityState, 10, 28> entities_;
  std::atomic<uint32_t> entity_count_{0};
  std::unordered_map<std::string, uint32_t, SvHash, std::equal_to<>> entity_ids_;  // under the reader lock
  StableArray<ScopeState, 10, 28> scopes_;
  std::atomic<uint32_t> scope_count_{0};
  std::unordered_map<std::string, uint32_t, SvHash, std::equal_to<>> scope_ids_;  // under the reader lock
  PostingsTable kind_rows_;  // keyed by KindKey
  std::unordered_map<Digest, Row, DigestHash> idempotency_;  // writer only
  // Postings only for events that name another event: a root event (its
  // correlation is its own id) costs nothing here.
  PostingsTable correlated_;
  PostingsTable effects_;
  PostingsTable tag_rows_;  // keyed by TagKey
  // Writer only: the lists of recently added tags by their text, so an
  // append whose tags were seen lately hashes no BLAKE3 key and probes no
  // table (most appends reuse a few tags). Direct-mapped and bounded; lists
  // never move, so an entry stays valid until Clear empties both.
  struct TagSlot {
    std::string tag;
    RowList* list = nullptr;
  };
  static constexpr size_t kTagCacheSlots = 4096;
  std::unique_ptr<TagSlot[]> tag_cache_;
  RowList* TagList(const uint8_t* tag, size_t len);

  IdDirectory ids_;
  bool defer_ids_ = false;  // writer only
  mutable RetireList retired_;  // tables replaced by growth, until Reclaim (freeing is not a change readers see)
  FrameResolver resolve_frame_ = nullptr;
  void* frame_ctx_ = nullptr;
};

}  // namespace causeway
