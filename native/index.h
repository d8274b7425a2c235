// The in-memory index, rebuilt on open: columns per event (one row per
// event, rows in global-sequence order), interned entity and scope names,
// postings per entity (clock order), scope and kind, an event-id table and
// the idempotency digests. No object per event.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "format.h"

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

using Row = uint32_t;
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
  uint64_t limit = UINT64_MAX;
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
  // Returns the 16-byte event id of `row`, reading the frame (the index keeps no id column).
  using IdResolver = const uint8_t* (*)(void* ctx, Row row);

  Index() = default;
  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;

  // Back to empty (keeps the id resolver).
  void Clear();
  // Empty of events, but every entity and scope keeps its id: ids are handed
  // to the TypeScript layer, which caches them, so a rebuild must not renumber.
  void ClearKeepingNames();

  void SetIdResolver(IdResolver fn, void* ctx) {
    resolve_id_ = fn;
    resolve_ctx_ = ctx;
  }

  uint32_t InternEntity(std::string_view name);
  uint32_t InternScope(std::string_view name);
  uint32_t FindEntity(std::string_view name) const;  // kNoId when unknown
  uint32_t FindScope(std::string_view name) const;
  const std::string& EntityName(uint32_t id) const { return entities_[id].name; }
  const std::string& ScopeName(uint32_t id) const { return scope_names_[id]; }
  size_t entity_count() const { return entities_.size(); }
  size_t scope_count() const { return scope_names_.size(); }

  // The entity's newest clock (0 when it has no event) and content hash (zeros then).
  uint32_t EntityClock(uint32_t entity) const { return entities_[entity].clock; }
  const uint8_t* EntityHead(uint32_t entity) const { return entities_[entity].head.data(); }
  const std::vector<Row>& EntityRows(uint32_t entity) const { return entities_[entity].rows; }
  // Moves an entity's clock and head forward to an event compaction dropped.
  void RaiseEntity(uint32_t entity, uint32_t clock, const uint8_t* head) {
    entities_[entity].clock = clock;
    std::memcpy(entities_[entity].head.data(), head, 32);
  }

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
  };
  // Adds one committed event; rows must arrive in global-sequence order.
  Row Add(const FrameView& v, RowLocation loc, uint32_t entity, uint32_t scope);
  Row Add(const RowFields& f, RowLocation loc, uint32_t entity, uint32_t scope);
  // Sizes the event-id table for `events` rows, so loading them never rehashes.
  void ReserveIds(size_t events);

  size_t size() const { return sequence_.size(); }
  uint64_t Sequence(Row r) const { return sequence_[r]; }
  RowLocation Location(Row r) const { return location_[r]; }
  uint32_t Entity(Row r) const { return entity_[r]; }
  uint32_t Scope(Row r) const { return scope_[r]; }
  uint16_t Kind(Row r) const { return kind_[r]; }
  uint32_t Clock(Row r) const { return clock_[r]; }
  int64_t Timestamp(Row r) const { return timestamp_[r]; }

  // Row of the event with this 16-byte id, or -1.
  int64_t FindId(const uint8_t* id) const;
  // Starts loading the id-table slot a later Add of this id will probe, so
  // its cache miss overlaps the frame's encoding. A hint: no effect on state.
  void PrefetchIdSlot(const uint8_t* id) const {
#if defined(__GNUC__) || defined(__clang__)
    if (!id_slots_.empty()) __builtin_prefetch(&id_slots_[IdHash(id) & (id_slots_.size() - 1)], 1);
#else
    (void)id;
#endif
  }
  // Row of the event appended with this idempotency digest, or -1.
  int64_t FindIdempotency(const Digest& d) const;
  // Row whose sequence is `seq`, or -1.
  int64_t FindSequence(uint64_t seq) const;

  // Rows matching the filter, in global-sequence order.
  std::vector<Row> Query(const RegionFilter& f) const;
  // True when row r matches every part of f (entity by name; after_sequence ignored).
  bool Matches(Row r, const RegionFilter& f) const;

  // Rows whose correlation id is `id` (the root, whose own id it is, included), in order.
  std::vector<Row> ByCorrelation(const uint8_t* id) const;
  // Rows whose causation id is `id`: the direct effects of that event, in order.
  std::vector<Row> ByCausation(const uint8_t* id) const;

  // Writes / reads every column, name, head and table; postings are rebuilt
  // from the columns on load. Load REQUIRES an empty index.
  void Save(ByteWriter* w) const;
  [[nodiscard]] bool Load(ByteReader* r);

  // Bytes of heap the index holds (columns, postings, tables), for stats.
  uint64_t MemoryBytes() const;
  void Reserve(size_t events);

 private:
  struct EntityState {
    std::string name;
    uint32_t clock = 0;
    std::array<uint8_t, 32> head{};
    std::vector<Row> rows;
  };
  struct SvHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  void IdInsert(Row row, const uint8_t* id);
  void IdGrow();
  static uint64_t IdHash(const uint8_t* id);
  bool MatchesEntity(uint32_t entity, const RegionFilter& f) const;

  // Columns, one entry per row.
  std::vector<uint64_t> sequence_;
  std::vector<RowLocation> location_;
  std::vector<uint32_t> entity_;
  std::vector<uint32_t> scope_;
  std::vector<uint16_t> kind_;
  std::vector<uint32_t> clock_;
  std::vector<int64_t> timestamp_;

  std::vector<EntityState> entities_;
  std::unordered_map<std::string, uint32_t, SvHash, std::equal_to<>> entity_ids_;
  std::vector<std::string> scope_names_;
  std::unordered_map<std::string, uint32_t, SvHash, std::equal_to<>> scope_ids_;
  std::vector<std::vector<Row>> scope_rows_;
  std::unordered_map<uint16_t, std::vector<Row>> kind_rows_;
  std::unordered_map<Digest, Row, DigestHash> idempotency_;
  // Postings only for events that name another event: a root event (its
  // correlation is its own id) costs nothing here.
  std::unordered_map<Digest, std::vector<Row>, DigestHash> correlated_;
  std::unordered_map<Digest, std::vector<Row>, DigestHash> effects_;

  // Open-addressing table of row + 1 (0 = empty), keyed by a hash of the event id.
  std::vector<uint32_t> id_slots_;
  size_t id_count_ = 0;
  IdResolver resolve_id_ = nullptr;
  void* resolve_ctx_ = nullptr;
};

}  // namespace causeway
