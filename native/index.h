// The index: one row per event, rows in global-sequence order, numbered
// from 0 across the store's segments. A sealed segment's rows are served by
// its index file once attached (index_segments.h); the others' are held in
// memory: columns per event, and per segment postings by entity (clock
// order), scope, kind and tag. Interned entity and scope names with their
// heads, the event-id directory and the idempotency digests cover the
// whole log. No object per event. Built from the containers of
// concurrent.h, so readers use it while the writer appends.
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

#include "byte_io.h"
#include "concurrent.h"
#include "format.h"
#include "id_directory.h"
#include "index_segments.h"
#include "region_filter.h"
#include "status.h"

namespace causeway {

constexpr uint32_t kNoId = 0xffffffffu;

struct RowLocation {
  uint32_t segment_slot;  // index into the store's segment list
  uint32_t offset;        // frame offset inside that segment
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
  // when that is higher (rows in attached files: their files' last clocks). Reads no frame and walks no more than the rows
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
  // Row r's fields, from its segment's file or the columns (r below size()).
  using Seg = IndexSegment;
  template <typename T, typename Column, typename FromFile>
  T Field(Row r, const Column& col, FromFile from_file) const {
    uint32_t lr;
    const IndexSegment* s = FileOf(r, &lr);
    return s ? from_file(*s, lr) : col[r];
  }
  uint64_t Sequence(Row r) const { return Field<uint64_t>(r, sequence_, [](const Seg& s, uint32_t l) { return s.file->Sequence(l); }); }
  RowLocation Location(Row r) const {
    return Field<RowLocation>(r, location_, [](const Seg& s, uint32_t l) { return RowLocation{s.slot, s.file->FrameOffset(l)}; });
  }
  uint32_t Entity(Row r) const { return Field<uint32_t>(r, entity_, [](const Seg& s, uint32_t l) { return s.entity_of[s.file->Entity(l)]; }); }
  uint32_t Scope(Row r) const { return Field<uint32_t>(r, scope_, [](const Seg& s, uint32_t l) { return s.scope_of[s.file->Scope(l)]; }); }
  uint16_t Kind(Row r) const { return Field<uint16_t>(r, kind_, [](const Seg& s, uint32_t l) { return s.file->Kind(l); }); }
  uint32_t Clock(Row r) const { return Field<uint32_t>(r, clock_, [](const Seg& s, uint32_t l) { return s.file->Clock(l); }); }
  int64_t Timestamp(Row r) const { return Field<int64_t>(r, timestamp_, [](const Seg& s, uint32_t l) { return s.file->Timestamp(l); }); }

  // *row: the row of the event with this 16-byte id, or -1. Only rows whose
  // hash tag matches are read, each through the resolver, which checks its
  // frame: a damaged candidate gives its Corruption, never a miss.
  [[nodiscard]] Status FindId(const uint8_t* id, int64_t* row) const { return ids_.Find(id, visible(), row); }
  // Starts loading the id-table slot a later Add of this id will probe, so
  // its cache miss overlaps the frame's encoding. A hint: no effect on state.
  void PrefetchIdSlot(const uint8_t* id) const { ids_.Prefetch(id); }
  // Writer. A hint too: starts loading the list (a heap object of its
  // segment's table) Add will append this entity's row to.
  void PrefetchEntityRows(uint32_t entity) const {
    const EntityState& e = entities_[entity];
    if (e.seg_gen == segment_gen_ && e.seg_rows) e.seg_rows->Prefetch();
  }
  // Writer only. Row of the event with this idempotency digest, or -1 (EnsureRow before its fields).
  int64_t FindIdempotency(const Digest& d) const;
  // *row: the row whose sequence is `seq`, or -1.
  [[nodiscard]] Status FindSequence(uint64_t seq, int64_t* row) const;

  // A file a loaded checkpoint left to a segment is checked at its first
  // use (EnsureSegment): every method that hands out rows has done so for
  // them, and a row from elsewhere (the idempotency table) goes through
  // EnsureRow before its fields are read. A file that fails is Corruption
  // naming it, for that call and every later one that needs it.
  [[nodiscard]] Status EnsureRow(Row r) const;
  [[nodiscard]] Status EnsureSegment(const IndexSegment& s) const;
  [[nodiscard]] Status MapFileNames(const IndexSegment& s) const;  // s.file's names to the index's ids

  // *out: rows matching the filter, in global-sequence order (newest first with reverse).
  [[nodiscard]] Status Query(const RegionFilter& f, std::vector<Row>* out) const;
  // True when row r matches every part of f (entity by name; after_sequence ignored).
  bool Matches(Row r, const RegionFilter& f) const;

  // *out: rows whose correlation id is `id` (the root, whose own id it is, included), in order.
  [[nodiscard]] Status ByCorrelation(const uint8_t* id, std::vector<Row>* out) const;
  // *out: rows whose causation id is `id`: the direct effects of that event, in order.
  [[nodiscard]] Status ByCausation(const uint8_t* id, std::vector<Row>* out) const;

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
  // Writer. The rows of segment `slot`: [*first, *end) (rows ascend with slots).
  void SlotRows(uint32_t slot, Row* first, Row* end) const;

  // Writer (index_attach.cc). From now on `part` serves segment `slot`,
  // whose rows are in memory: its rows' columns and postings are retired
  // (freed by Reclaim). False, and nothing changes, unless the file
  // describes exactly those rows (count, sequences, kinds, clocks, frame
  // offsets, one index entity and scope per name of the file).
  bool AttachFile(uint32_t slot, const std::shared_ptr<const IndexPart>& part);
  // Whether segment `slot`'s rows are served by its file.
  bool SlotInFile(uint32_t slot) const;
  // Open only: the segments a loaded checkpoint left to their files, and
  // the attaching of each one's file; false when the file's names are not
  // the checkpoint's or its rows are not the count it recorded.
  std::vector<uint32_t> AwaitingSlots() const;
  // Open only, in row order: segment `slot`'s rows come from `part` alone
  // (its frames never read): its names are interned, entity clocks and
  // heads raised to its own, its idempotency, correlation and causation
  // pairs added. False, and nothing changes, when it cannot follow.
  [[nodiscard]] bool AddFileSegment(uint32_t slot, const std::shared_ptr<const IndexPart>& part);
  // The file may be opened header-only: its body and names are checked at first use.
  [[nodiscard]] bool SetLoadedFile(uint32_t slot, const std::shared_ptr<const IndexPart>& part);
  // Writer. The frame offset of segment `slot`'s last row (0: it has none).
  uint32_t SlotLastOffset(uint32_t slot) const;
  // Writer, holding the reader lock (names are looked up). `part`, built
  // again from segment `slot`'s frames and checked whole, replaces the file
  // that serves the segment (one that failed its check, or not yet checked).
  // False, and nothing changes, unless it has the same rows and names.
  bool ReplaceFile(uint32_t slot, const std::shared_ptr<const IndexPart>& part);
  // Segments whose file failed a check since the last call (a writer rebuilds them).
  std::vector<uint32_t> TakeFailedSlots() const;
  bool has_failed() const { return has_failed_.load(std::memory_order_relaxed); }  // relaxed: a hint; Take locks
  // Readers. Segments served by a file whose body has been checked (an open from the checkpoint checks none yet).
  size_t checked_files() const;
  std::vector<std::pair<uint32_t, std::shared_ptr<const IndexPart>>> UncheckedFiles() const;  // writer: (slot, file)

  uint64_t MemoryBytes() const;  // bytes of heap the index holds (columns, postings, tables), for stats

  // Frees what growth and attached files replaced (tables, segments, column chunks). REQUIRES: the
  // reader lock held, by a thread that has not yet read through the index under it.
  void Reclaim() const;

 private:
  struct EntityState {
    std::string name;
    uint32_t clock = 0;  // writer only, like head
    // The clock RaiseEntity (or a checkpoint's Load) set, for readers: the
    // writer's `clock` may run ahead of the published rows, this never does.
    std::atomic<uint32_t> raised_clock{0};
    // Its newest clock in an attached file (stored before the list that has the file is published).
    std::atomic<uint32_t> filed_clock{0};
    std::array<uint8_t, 32> head{};
    // Writer only: its list in the segment being appended to (valid while seg_gen is segment_gen_).
    RowList* seg_rows = nullptr;
    uint32_t seg_gen = 0;
  };
  struct ScopeState {
    std::string name;
    RowList* seg_rows = nullptr;  // as for entities
    uint32_t seg_gen = 0;
  };
  struct SvHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  // Row r's segment and row in it when its file serves it; null when the columns hold it.
  const IndexSegment* FileOf(Row r, uint32_t* local) const {
    // Acquire: pairs with PublishSegments, so each segment's fields are complete.
    const IndexSegmentList* l = segs_.load(std::memory_order_acquire);
    if (!l || r >= l->mem_from) return nullptr;
    const IndexSegment* s = l->Of(r);
    if (!s->file) return nullptr;
    *local = r - s->first;
    return s;
  }
  const IndexSegmentList* Segments() const { return segs_.load(std::memory_order_acquire); }  // acquire: as FileOf
  // Writer. Segment `slot` starts at row `first` (in memory).
  void StartSegment(uint32_t slot, Row first);
  // Writer. No segment takes rows now: the next Add starts one. The per-
  // entity, per-scope and per-kind list caches are invalid from here on
  // (the lists may be retired and freed: a new generation).
  void EndSegment() {
    cur_ = nullptr;
    segment_gen_++;
    tag_cache_.reset();
  }
  // Writer. Publishes writer_segs_ as the list readers see; the old list is retired.
  void PublishSegments();
  // The end of segment i of list l, bounded by n rows.
  Row SegmentEnd(const IndexSegmentList& l, size_t i, Row n) const;
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
  // Queries (index_query.cc): a plan for the whole filter, then each
  // segment's candidates (the shortest list the filter names there).
  struct Plan;
  struct Candidates;
  bool MakePlan(const RegionFilter& f, Row n, Plan* p) const;
  bool PickFile(const Plan& p, Candidates* c) const;
  bool PickMemory(const Plan& p, Candidates* c) const;
  bool Keep(Row r, const Plan& p, const Candidates& c) const;
  // Walks one segment's candidates; false when the walk must end there.
  bool WalkForward(const Plan& p, const Candidates& c, std::vector<Row>* out) const;
  bool WalkReverse(const Plan& p, const Candidates& c, std::vector<Row>* out) const;
  Status QueryUpTo(const RegionFilter& f, Row n, std::vector<Row>* out) const;
  Status QueryAnyOf(const RegionFilter& f, Row n, std::vector<Row>* out) const;
  bool RowHasTag(const IndexSegment& s, Row r, const uint8_t* key) const;  // row r (of segment s) has the tag
  // The event time filter (an extension's occurred-at, else timestamp_us) on row r's frame.
  bool OccurredWithin(Row r, const RegionFilter& f, int64_t timestamp_us) const;
  // Writer: row r joins the current segment's lists of its entity, scope and kind.
  void ListRow(Row r, uint32_t entity, uint32_t scope, uint16_t kind);
  Status FirstRowFrom(uint64_t seq, Row n, Row* first) const;  // first of rows [0, n) with sequence >= seq (n: none)

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
  mutable std::mutex names_mu_;  // interning, and MapFileNames (which may not hold the reader lock)
  std::unordered_map<Digest, Row, DigestHash> idempotency_;  // writer only
  // Postings only for events that name another event: a root event (its
  // correlation is its own id) costs nothing here.
  PostingsTable correlated_;
  PostingsTable effects_;
  // The segments, as readers see them (null: none yet), and the writer's copy.
  std::atomic<const IndexSegmentList*> segs_{nullptr};
  std::vector<std::shared_ptr<IndexSegment>> writer_segs_;
  IndexSegment* cur_ = nullptr;  // writer only: the segment rows are added to
  uint32_t segment_gen_ = 0;     // writer only: counts StartSegment calls
  // Writer only: the current segment's lists of recent kinds (valid while gen is segment_gen_).
  struct KindSlot {
    uint16_t kind = 0;
    uint32_t gen = 0;
    RowList* list = nullptr;
  };
  static constexpr size_t kKindCacheSlots = 64;
  std::array<KindSlot, kKindCacheSlots> kind_cache_{};
  // Rows below this are no longer read from the columns: Reclaim frees their chunks.
  std::atomic<Row> drop_below_{0};
  // Segments whose file failed EnsureSegment, for the writer to rebuild.
  mutable std::mutex failed_mu_;
  mutable std::vector<uint32_t> failed_slots_;
  mutable std::atomic<bool> has_failed_{false};
  // Writer only: the lists of recently added tags by their text, so an
  // append whose tags were seen lately hashes no BLAKE3 key and probes no
  // table (most appends reuse a few tags). Direct-mapped and bounded; lists
  // never move, so an entry stays valid until the segment changes.
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
