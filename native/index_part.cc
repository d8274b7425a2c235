// Opening and checking a segment's index part, and its lookups. Nothing in
// the mapping is used before Check has passed; after it, every offset,
// count and row number read from the file is known to be in bounds.
#include "index_part.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "crc32c.h"

namespace causeway {

using namespace idxpart;

IndexPart::~IndexPart() { platform::Unmap(map_, size_); }

Status IndexPart::Bad(const std::string& what) const { return Status::Corruption("index part " + path_ + ": " + what); }

Status IndexPart::Open(const std::string& path, const PartIdentity& expect, std::unique_ptr<IndexPart>* out,
                       bool header_only) {
  std::unique_ptr<IndexPart> p(new IndexPart());
  p->path_ = path;
  platform::File f = platform::kNoFile;
  int rc = platform::OpenFile(path, platform::OpenMode::kRead, &f);
  if (rc == ENOENT) return Status::NotFound("index part " + path + " does not exist");
  if (rc != 0) return Status::FromErrno("open " + path, rc);
  uint64_t size = 0;
  if ((rc = platform::FileSize(f, &size)) != 0) {
    platform::CloseFile(f);
    return Status::FromErrno("stat " + path, rc);
  }
  if (size < kHeaderSize) {
    platform::CloseFile(f);
    return p->Bad("file shorter than its header (" + std::to_string(size) + " bytes)");
  }
  rc = platform::MapFile(f, size, false, &p->map_);
  platform::CloseFile(f);  // the read-only mapping outlives the descriptor
  if (rc != 0) {
    p->map_ = nullptr;
    return Status::FromErrno("map " + path, rc);
  }
  p->size_ = size;
  CW_RETURN_IF_ERROR(p->CheckHeader(expect));
  if (!header_only) CW_RETURN_IF_ERROR(p->EnsureChecked());
  *out = std::move(p);
  return Status::OK();
}

Status IndexPart::EnsureChecked() const {
  // Acquire: pairs with the release below, so a checked part's views are complete.
  if (state_.load(std::memory_order_acquire) == 1) return Status::OK();
  std::lock_guard<std::mutex> g(check_mu_);
  const int state = state_.load(std::memory_order_relaxed);
  if (state == 2) return Status::Corruption(check_error_);
  if (state == 1) return Status::OK();
  IndexPart* self = const_cast<IndexPart*>(this);  // the views are set once, here, before any use
  Status st = self->CheckBody();
  if (!st.ok()) {
    self->check_error_ = st.message();
    state_.store(2, std::memory_order_relaxed);
    return st;
  }
  // The check read every page; lookups touch few. Drop them from this
  // process's page tables (they stay in the page cache): what stays
  // resident then follows the lookups, not the file's size.
  platform::ReleaseMapped(map_, size_);
  state_.store(1, std::memory_order_release);
  return Status::OK();
}

Status IndexPart::CheckHeader(const PartIdentity& expect) {
  const uint8_t* h = map_;
  if (std::memcmp(h, kMagic, 8) != 0) return Bad("bad magic");
  if (LoadLE<uint32_t>(h + kHeaderCrc) != crc32c::Mask(crc32c::Value(h + 12, kHeaderSize - 12)))
    return Bad("header checksum mismatch");
  if (LoadLE<uint64_t>(h + kLength) != size_)
    return Bad("length field " + std::to_string(LoadLE<uint64_t>(h + kLength)) + " is not the file's size " +
               std::to_string(size_));
  id_ = PartIdentity{LoadLE<uint64_t>(h + kSegmentId), LoadLE<int64_t>(h + kCreatedUs), LoadLE<uint64_t>(h + kSegmentEnd)};
  if (!(id_ == expect))
    return Bad("describes segment " + std::to_string(id_.segment_id) + " created at " + std::to_string(id_.created_us) +
               " ending at " + std::to_string(id_.end) + ", not segment " + std::to_string(expect.segment_id) +
               " created at " + std::to_string(expect.created_us) + " ending at " + std::to_string(expect.end));
  if (LoadLE<uint32_t>(h + kSectionCount) != kSections) return Bad("section count is not " + std::to_string(kSections));
  rows_ = LoadLE<uint32_t>(h + kRows);
  first_seq_ = LoadLE<uint64_t>(h + kFirstSeq);
  last_seq_ = LoadLE<uint64_t>(h + kLastSeq);
  for (uint32_t s = 0; s < kSections; s++) {
    uint64_t off, len;
    uint32_t count;
    CW_RETURN_IF_ERROR(Section(s, &off, &len, &count));
  }
  return Status::OK();
}

uint32_t IndexPart::SectionCount(uint32_t s) const { return LoadLE<uint32_t>(map_ + kTable + s * kEntrySize + 12); }

Status IndexPart::CheckBody() {
  const uint8_t* h = map_;
  if (LoadLE<uint32_t>(h + kBodyCrc) != crc32c::Mask(crc32c::Value(h + kHeaderSize, size_ - kHeaderSize)))
    return Bad("body checksum mismatch");
  CW_RETURN_IF_ERROR(CheckColumns());
  CW_RETURN_IF_ERROR(CheckNames(kEntities, true, &entities_));
  CW_RETURN_IF_ERROR(CheckNames(kScopes, false, &scopes_));
  // Every row's entity and scope exist, and their postings list the row.
  for (uint32_t r = 0; r < rows_; r++)
    if (ent_[r] >= entities_.count || scope_[r] >= scopes_.count) return Bad("row " + std::to_string(r) + " names no entity or scope");
  for (uint32_t e = 0; e < entities_.count; e++)
    for (uint32_t r : EntityRows(e))
      if (ent_[r] != e) return Bad("entity postings disagree with the entity column");
  for (uint32_t s = 0; s < scopes_.count; s++)
    for (uint32_t r : ScopeRows(s))
      if (scope_[r] != s) return Bad("scope postings disagree with the scope column");

  uint64_t off, len, at = 0;
  uint32_t count;
  CW_RETURN_IF_ERROR(Section(kKinds, &off, &len, &count));
  const uint8_t* p = map_ + off;
  if (Align8(2 * uint64_t(count)) > len) return Bad("kinds section too short");
  kinds_ = reinterpret_cast<const uint16_t*>(p);
  for (uint32_t i = 1; i < count; i++)
    if (kinds_[i - 1] >= kinds_[i]) return Bad("kinds are not sorted");
  at = Align8(2 * uint64_t(count));
  CW_RETURN_IF_ERROR(CheckCsr(p, len, &at, count, rows_, &kind_rows_, "kinds"));
  if (at != len) return Bad("kinds section length does not match its counts");
  for (uint32_t i = 0; i < count; i++)
    for (uint32_t r : kind_rows_.List(i))
      if (kind_[r] != kinds_[i]) return Bad("kind postings disagree with the kind column");
  kind_count_ = count;

  CW_RETURN_IF_ERROR(Section(kTags, &off, &len, &count));
  p = map_ + off;
  if (16 * uint64_t(count) > len) return Bad("tags section too short");
  for (uint32_t i = 1; i < count; i++)
    if (std::memcmp(p + 16 * size_t(i - 1), p + 16 * size_t(i), 16) >= 0) return Bad("tag keys are not sorted");
  at = 16 * uint64_t(count);
  CW_RETURN_IF_ERROR(CheckCsr(p, len, &at, count, UINT64_MAX, &tag_rows_, "tags"));
  if (at != len) return Bad("tags section length does not match its counts");
  tag_keys_ = p;
  tag_count_ = count;

  CW_RETURN_IF_ERROR(CheckPairs(kIds, &ids_));
  if (ids_.n != rows_) return Bad("ids section does not hold one id per row");
  CW_RETURN_IF_ERROR(CheckPairs(kCorrelated, &correlated_));
  CW_RETURN_IF_ERROR(CheckPairs(kEffects, &effects_));
  CW_RETURN_IF_ERROR(CheckPairs(kIdempotency, &idempotency_));
  return Status::OK();
}

Status IndexPart::Section(uint32_t s, uint64_t* off, uint64_t* len, uint32_t* count) const {
  static const char* const kNames[kSections] = {"columns", "entities", "scopes", "kinds", "tags",
                                                "ids", "correlated", "effects", "idempotency"};
  const uint8_t* e = map_ + kTable + s * kEntrySize;
  *off = LoadLE<uint64_t>(e);
  *len = LoadLE<uint32_t>(e + 8);
  *count = LoadLE<uint32_t>(e + 12);
  if (*off < kHeaderSize || *off % 8 != 0 || *len % 8 != 0 || *off > size_ || *len > size_ - *off)
    return Bad(std::string(kNames[s]) + " section lies outside the file");
  return Status::OK();
}

Status IndexPart::CheckColumns() {
  uint64_t off, len;
  uint32_t count;
  CW_RETURN_IF_ERROR(Section(kColumns, &off, &len, &count));
  const uint64_t n = rows_;
  if (count != rows_ || len != Align8(34 * n)) return Bad("columns section does not match the row count");
  const uint8_t* p = map_ + off;
  seq_ = reinterpret_cast<const uint64_t*>(p);
  ts_ = reinterpret_cast<const int64_t*>(p + 8 * n);
  off_ = reinterpret_cast<const uint32_t*>(p + 16 * n);
  ent_ = reinterpret_cast<const uint32_t*>(p + 20 * n);
  scope_ = reinterpret_cast<const uint32_t*>(p + 24 * n);
  clock_ = reinterpret_cast<const uint32_t*>(p + 28 * n);
  kind_ = reinterpret_cast<const uint16_t*>(p + 32 * n);
  if (n == 0) return first_seq_ == 0 && last_seq_ == 0 ? Status::OK() : Bad("sequences given for no rows");
  if (seq_[0] != first_seq_ || seq_[n - 1] != last_seq_) return Bad("first or last sequence disagrees with the rows");
  for (uint64_t r = 0; r < n; r++) {
    if (r && seq_[r] <= seq_[r - 1]) return Bad("sequences are not increasing at row " + std::to_string(r));
    if (off_[r] < kSegmentHeaderSize || off_[r] >= id_.end || (r && off_[r] <= off_[r - 1]))
      return Bad("frame offset of row " + std::to_string(r) + " is outside the segment's frames or out of order");
  }
  return Status::OK();
}

Status IndexPart::CheckCsr(const uint8_t* p, uint64_t len, uint64_t* at, uint32_t lists, uint64_t expect_total, Csr* out,
                           const char* what) const {
  const uint64_t starts = 4 * (uint64_t(lists) + 1);
  if (*at > len || Align8(starts) > len - *at) return Bad(std::string(what) + " postings run past the section");
  const uint32_t* start = reinterpret_cast<const uint32_t*>(p + *at);
  if (start[0] != 0) return Bad(std::string(what) + " postings do not start at 0");
  for (uint32_t i = 0; i < lists; i++)
    if (start[i + 1] <= start[i]) return Bad(std::string(what) + " postings hold an empty or negative list");
  const uint64_t total = start[lists];
  if (expect_total != UINT64_MAX && total != expect_total)
    return Bad(std::string(what) + " postings do not cover every row once");
  *at += Align8(starts);
  if (Align8(4 * total) > len - *at) return Bad(std::string(what) + " postings run past the section");
  const uint32_t* rows = reinterpret_cast<const uint32_t*>(p + *at);
  for (uint32_t i = 0; i < lists; i++)
    for (uint32_t k = start[i]; k < start[i + 1]; k++)
      if (rows[k] >= rows_ || (k > start[i] && rows[k] <= rows[k - 1]))
        return Bad(std::string(what) + " postings hold a row out of range or out of order");
  *at += Align8(4 * total);
  *out = Csr{start, rows};
  return Status::OK();
}

Status IndexPart::CheckNames(uint32_t s, bool heads, Names* out) {
  const char* what = s == kEntities ? "entities" : "scopes";
  uint64_t off, len;
  uint32_t count;
  CW_RETURN_IF_ERROR(Section(s, &off, &len, &count));
  const uint8_t* p = map_ + off;
  uint64_t at = Align8(4 * (uint64_t(count) + 1));
  if (at > len) return Bad(std::string(what) + " section too short");
  const uint32_t* name_off = reinterpret_cast<const uint32_t*>(p);
  if (name_off[0] != 0) return Bad(std::string(what) + " names do not start at 0");
  for (uint32_t i = 0; i < count; i++)
    if (name_off[i + 1] <= name_off[i] || name_off[i + 1] - name_off[i] > kMaxNameBytes)
      return Bad(std::string(what) + " name " + std::to_string(i) + " is empty or too long");
  if (Align8(name_off[count]) > len - at) return Bad(std::string(what) + " names run past the section");
  const char* bytes = reinterpret_cast<const char*>(p + at);
  at += Align8(name_off[count]);
  Names n;
  n.count = count;
  n.name_off = name_off;
  n.bytes = bytes;
  for (uint32_t i = 1; i < count; i++)
    if (!(n.Name(i - 1) < n.Name(i))) return Bad(std::string(what) + " names are not sorted");
  if (heads) {
    const uint64_t need = Align8(4 * uint64_t(count)) + 32 * uint64_t(count);
    if (need > len - at) return Bad("entity heads run past the section");
    n.clock = reinterpret_cast<const uint32_t*>(p + at);
    n.head = p + at + Align8(4 * uint64_t(count));
    at += need;
  }
  CW_RETURN_IF_ERROR(CheckCsr(p, len, &at, count, rows_, &n.postings, what));
  if (at != len) return Bad(std::string(what) + " section length does not match its counts");
  *out = n;
  return Status::OK();
}

Status IndexPart::CheckPairs(uint32_t s, Pairs* out) {
  uint64_t off, len;
  uint32_t count;
  CW_RETURN_IF_ERROR(Section(s, &off, &len, &count));
  const uint64_t n = count;
  if (len != 16 * n + Align8(4 * n)) return Bad("section " + std::to_string(s) + " length does not match its count");
  const uint8_t* keys = map_ + off;
  const uint32_t* rows = reinterpret_cast<const uint32_t*>(keys + 16 * n);
  for (uint64_t i = 0; i < n; i++) {
    if (rows[i] >= rows_) return Bad("section " + std::to_string(s) + " names a row out of range");
    if (i) {
      const int c = std::memcmp(keys + 16 * (i - 1), keys + 16 * i, 16);
      if (c > 0 || (c == 0 && rows[i - 1] >= rows[i])) return Bad("section " + std::to_string(s) + " is not sorted");
    }
  }
  *out = Pairs{count, keys, rows};
  return Status::OK();
}

uint32_t IndexPart::Names::LowerBound(std::string_view name) const {
  uint32_t lo = 0, hi = count;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if (Name(mid) < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

int64_t IndexPart::Names::Find(std::string_view name) const {
  const uint32_t lo = LowerBound(name);
  return lo < count && Name(lo) == name ? int64_t(lo) : -1;
}

RowSpan IndexPart::Pairs::Equal(const uint8_t* key16) const {
  auto less = [&](uint32_t i) { return std::memcmp(keys + 16 * size_t(i), key16, 16) < 0; };
  auto less_eq = [&](uint32_t i) { return std::memcmp(keys + 16 * size_t(i), key16, 16) <= 0; };
  uint32_t lo = 0, hi = n;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if (less(mid)) lo = mid + 1;
    else hi = mid;
  }
  uint32_t end = lo, top = n;
  while (end < top) {
    const uint32_t mid = end + (top - end) / 2;
    if (less_eq(mid)) end = mid + 1;
    else top = mid;
  }
  return RowSpan{rows + lo, end - lo};
}

RowSpan IndexPart::KindRows(uint16_t kind) const {
  const uint16_t* it = std::lower_bound(kinds_, kinds_ + kind_count_, kind);
  if (it == kinds_ + kind_count_ || *it != kind) return RowSpan{};
  return kind_rows_.List(static_cast<uint32_t>(it - kinds_));
}

RowSpan IndexPart::TagRows(const uint8_t* key16) const {
  uint32_t lo = 0, hi = tag_count_;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if (std::memcmp(tag_keys_ + 16 * size_t(mid), key16, 16) < 0) lo = mid + 1;
    else hi = mid;
  }
  if (lo == tag_count_ || std::memcmp(tag_keys_ + 16 * size_t(lo), key16, 16) != 0) return RowSpan{};
  return tag_rows_.List(lo);
}

int64_t IndexPart::FindId(const uint8_t* id16) const {
  const RowSpan s = ids_.Equal(id16);
  return s.n ? int64_t(s.rows[0]) : -1;
}
RowSpan IndexPart::Correlated(const uint8_t* id16) const { return correlated_.Equal(id16); }
RowSpan IndexPart::Effects(const uint8_t* id16) const { return effects_.Equal(id16); }
int64_t IndexPart::FindIdempotency(const uint8_t* digest16) const {
  const RowSpan s = idempotency_.Equal(digest16);
  return s.n ? int64_t(s.rows[0]) : -1;
}

}  // namespace causeway
