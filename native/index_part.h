// The index of one sealed segment as a file of its own ("<id>.cwidx" beside
// "<id>.cwseg"): immutable, memory-mapped, checked (two CRCs, the segment's
// identity, every section's structure) before any lookup, and rebuilt from
// the segment when missing or damaged. native/FORMAT.md, "Segment index file
// (`.cwidx`)", is the byte layout with a worked example.
//
// Rows are the segment's committed frames in log order, numbered from 0
// ("local rows"); entities and scopes get local ids in ascending byte order
// of their names. Every lookup is const on the mapping and allocates nothing.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "platform.h"
#include "segment.h"
#include "status.h"

namespace causeway {

// Which segment (and which incarnation of it) a part describes.
struct PartIdentity {
  uint64_t segment_id = 0;
  int64_t created_us = 0;  // the segment header's created-at
  uint64_t end = 0;        // where the segment's frames end (its sealed frontier's end)
  bool operator==(const PartIdentity&) const = default;
};

// A list of local rows, ascending, pointing into the mapping.
struct RowSpan {
  const uint32_t* rows = nullptr;
  uint32_t n = 0;
  const uint32_t* begin() const { return rows; }
  const uint32_t* end() const { return rows + n; }
};

namespace idxpart {
constexpr char kMagic[8] = {'C', 'W', 'I', 'D', 'X', 'v', '0', '1'};
constexpr size_t kHeaderSize = 256;
// Header fields.
constexpr size_t kHeaderCrc = 8;   // u32: masked CRC32C of bytes [12, 256)
constexpr size_t kBodyCrc = 12;    // u32: masked CRC32C of bytes [256, length)
constexpr size_t kLength = 16;     // u64: the file's length
constexpr size_t kSegmentId = 24;  // u64
constexpr size_t kCreatedUs = 32;  // i64
constexpr size_t kSegmentEnd = 40; // u64
constexpr size_t kFirstSeq = 48;   // u64 (0 when there are no rows)
constexpr size_t kLastSeq = 56;    // u64 (0 when there are no rows)
constexpr size_t kRows = 64;       // u32
constexpr size_t kSectionCount = 68;  // u32: kSections
constexpr size_t kTable = 72;      // kSections entries of kEntrySize bytes
constexpr size_t kEntrySize = 16;  // u64 offset, u32 byte length, u32 entry count
enum Section : uint32_t { kColumns, kEntities, kScopes, kKinds, kTags, kIds, kCorrelated, kEffects, kIdempotency, kSections };
static_assert(kTable + kSections * kEntrySize <= kHeaderSize, "the section table fits the header");
inline constexpr uint64_t Align8(uint64_t n) { return (n + 7) & ~uint64_t(7); }
}  // namespace idxpart

// "<dir>/0000000000000001.cwidx" for segment file "0000000000000001.cwseg".
std::string IndexPartFileName(const std::string& segment_file_name);

// "<dir>/<IndexPartFileName(segment_file_name)>".
inline std::string IndexPartPath(const std::string& dir, const std::string& segment_file_name) {
  return dir + "/" + IndexPartFileName(segment_file_name);
}
// True for a part's file name ("<16 hex digits>.cwidx"), with its segment's id.
bool ParseIndexPartName(const std::string& name, uint64_t* segment_id);
// The identity a sealed segment's part must carry.
inline PartIdentity PartIdentityOf(const Segment& seg) {
  return PartIdentity{seg.id(), seg.created_us(), seg.frontier().end};
}

// Lays out the part of `seg`'s committed frames [header, end), each scanned
// with its CRC checked (ScanFrames). Frames that do not check up to `end`
// exactly are Corruption, and nothing is built.
Status BuildIndexPart(const Segment& seg, uint64_t end, std::string* out);
// Writes `bytes` as "<dir>/<IndexPartFileName(segment_file_name)>" through
// a ".tmp" name and a rename, with `file_mode` (less the umask). Not synced:
// the file is a cache; a torn one fails its CRC and is rebuilt.
Status WriteIndexPart(const std::string& dir, const std::string& segment_file_name, const std::string& bytes,
                      uint32_t file_mode = platform::kPrivateFileMode);

class IndexPart {
 public:
  IndexPart(const IndexPart&) = delete;
  IndexPart& operator=(const IndexPart&) = delete;
  ~IndexPart();

  // Maps `path` read-only and checks it whole before returning it: NotFound
  // when the file is missing, Corruption (naming the file and the check)
  // for anything else wrong, including a part of another segment or of an
  // earlier incarnation of this one (`expect`). With `header_only`, only
  // the header (its CRC, the length, the identity, the section table) is
  // checked now: the rest by EnsureChecked, which must pass before any
  // accessor below but rows(), the sequences, bytes() and SectionCount().
  static Status Open(const std::string& path, const PartIdentity& expect, std::unique_ptr<IndexPart>* out,
                     bool header_only = false);
  // Checks the body once (its CRC and every section's structure); every
  // caller after the first gets the same answer. Thread-safe.
  [[nodiscard]] Status EnsureChecked() const;
  bool checked() const { return state_.load(std::memory_order_acquire) == 1; }  // acquire: as EnsureChecked
  // The entry count the header's section table gives section s (idxpart::Section).
  uint32_t SectionCount(uint32_t s) const;

  const PartIdentity& identity() const { return id_; }
  uint32_t rows() const { return rows_; }
  uint64_t first_sequence() const { return first_seq_; }
  uint64_t last_sequence() const { return last_seq_; }
  uint64_t bytes() const { return size_; }

  // Columns, by local row (< rows()).
  uint64_t Sequence(uint32_t r) const { return seq_[r]; }
  int64_t Timestamp(uint32_t r) const { return ts_[r]; }
  uint32_t FrameOffset(uint32_t r) const { return off_[r]; }
  uint32_t Entity(uint32_t r) const { return ent_[r]; }
  uint32_t Scope(uint32_t r) const { return scope_[r]; }
  uint32_t Clock(uint32_t r) const { return clock_[r]; }
  uint16_t Kind(uint32_t r) const { return kind_[r]; }

  uint32_t entity_count() const { return entities_.count; }
  std::string_view EntityName(uint32_t e) const { return entities_.Name(e); }
  int64_t FindEntity(std::string_view name) const { return entities_.Find(name); }  // -1 when absent
  // The first entity whose name is not below `name` in byte order (entity_count() when none).
  uint32_t EntityLowerBound(std::string_view name) const { return entities_.LowerBound(name); }
  uint32_t EntityLastClock(uint32_t e) const { return entities_.clock[e]; }
  const uint8_t* EntityHead(uint32_t e) const { return entities_.head + 32 * size_t(e); }  // 32 bytes
  RowSpan EntityRows(uint32_t e) const { return entities_.postings.List(e); }

  uint32_t scope_count() const { return scopes_.count; }
  std::string_view ScopeName(uint32_t s) const { return scopes_.Name(s); }
  int64_t FindScope(std::string_view name) const { return scopes_.Find(name); }
  RowSpan ScopeRows(uint32_t s) const { return scopes_.postings.List(s); }

  uint32_t kind_count() const { return kind_count_; }
  uint16_t KindAt(uint32_t i) const { return kinds_[i]; }
  RowSpan KindRows(uint16_t kind) const;
  uint32_t tag_count() const { return tag_count_; }
  RowSpan TagRows(const uint8_t* key16) const;  // key: Index::TagKey of the tag text

  int64_t FindId(const uint8_t* id16) const;  // local row, or -1
  const uint8_t* IdAt(uint32_t i) const { return ids_.keys + 16 * size_t(i); }  // the i-th smallest id (i < rows())
  uint32_t IdRow(uint32_t i) const { return ids_.rows[i]; }                      // its local row
  // The sorted (key, local row) pairs of the correlated, effects and idempotency sections, by position.
  enum class PairSection { kCorrelated, kEffects, kIdempotency };
  uint32_t pair_count(PairSection s) const { return PairsOf(s).n; }
  const uint8_t* PairKey(PairSection s, uint32_t i) const { return PairsOf(s).keys + 16 * size_t(i); }
  uint32_t PairRow(PairSection s, uint32_t i) const { return PairsOf(s).rows[i]; }
  RowSpan Correlated(const uint8_t* id16) const;
  RowSpan Effects(const uint8_t* id16) const;
  int64_t FindIdempotency(const uint8_t* digest16) const;  // local row, or -1

 private:
  IndexPart() = default;
  Status CheckHeader(const PartIdentity& expect);  // the header and section table
  Status CheckBody();                              // everything else Open promises, on the mapping

  struct Csr {  // list i is rows[start[i], start[i + 1])
    const uint32_t* start = nullptr;
    const uint32_t* rows = nullptr;
    RowSpan List(uint32_t i) const { return RowSpan{rows + start[i], start[i + 1] - start[i]}; }
  };
  struct Names {
    uint32_t count = 0;
    const uint32_t* name_off = nullptr;  // [count + 1] into bytes
    const char* bytes = nullptr;
    const uint32_t* clock = nullptr;  // entities only
    const uint8_t* head = nullptr;    // entities only, 32 bytes each
    Csr postings;
    std::string_view Name(uint32_t i) const { return {bytes + name_off[i], size_t(name_off[i + 1] - name_off[i])}; }
    int64_t Find(std::string_view name) const;
    uint32_t LowerBound(std::string_view name) const;
  };
  struct Pairs {  // n 16-byte keys, sorted (then by row), and their rows
    uint32_t n = 0;
    const uint8_t* keys = nullptr;
    const uint32_t* rows = nullptr;
    RowSpan Equal(const uint8_t* key16) const;
  };
  // Section checks (index_part.cc); each sets its view only when it passes.
  Status Section(uint32_t s, uint64_t* off, uint64_t* len, uint32_t* count) const;
  Status CheckColumns();
  Status CheckNames(uint32_t s, bool heads, Names* out);
  Status CheckCsr(const uint8_t* p, uint64_t len, uint64_t* at, uint32_t lists, uint64_t expect_total, Csr* out,
                  const char* what) const;
  Status CheckPairs(uint32_t s, Pairs* out);
  Status Bad(const std::string& what) const;
  const Pairs& PairsOf(PairSection s) const {
    return s == PairSection::kCorrelated ? correlated_ : s == PairSection::kEffects ? effects_ : idempotency_;
  }

  std::string path_;
  // 0: the body is unchecked; 1: checked, views set; 2: it failed (check_error_).
  mutable std::atomic<int> state_{0};
  mutable std::mutex check_mu_;
  std::string check_error_;
  uint8_t* map_ = nullptr;
  uint64_t size_ = 0;
  PartIdentity id_;
  uint32_t rows_ = 0;
  uint64_t first_seq_ = 0, last_seq_ = 0;
  const uint64_t* seq_ = nullptr;
  const int64_t* ts_ = nullptr;
  const uint32_t *off_ = nullptr, *ent_ = nullptr, *scope_ = nullptr, *clock_ = nullptr;
  const uint16_t* kind_ = nullptr;
  Names entities_, scopes_;
  uint32_t kind_count_ = 0;
  const uint16_t* kinds_ = nullptr;
  Csr kind_rows_;
  uint32_t tag_count_ = 0;
  const uint8_t* tag_keys_ = nullptr;
  Csr tag_rows_;
  Pairs ids_, correlated_, effects_, idempotency_;
};

}  // namespace causeway
