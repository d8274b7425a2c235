// Builds a segment's index part from its frames (ScanFrames: every frame's
// CRC checked, batches only once their end frame checks) and writes it.
#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

#include "crc32c.h"
#include "fsutil.h"
#include "index.h"
#include "index_part.h"
#include "kill_point.h"
#include "log_reader.h"
#include "warm_ahead.h"

namespace causeway {
namespace {

using Key = std::array<uint8_t, 16>;
using Pair = std::pair<Key, uint32_t>;

Key KeyOf(const uint8_t* p) {
  Key k;
  std::memcpy(k.data(), p, 16);
  return k;
}

// Byte order of the keys (what memcmp gives), then the row: two big-endian
// loads instead of a memcmp call per comparison.
uint64_t HalfBE(const Key& k, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; i++) v = v << 8 | k[at + i];  // compilers emit one byte-swapping load
  return v;
}
bool PairLess(const Pair& a, const Pair& b) {
  const uint64_t a0 = HalfBE(a.first, 0), b0 = HalfBE(b.first, 0);
  if (a0 != b0) return a0 < b0;
  const uint64_t a1 = HalfBE(a.first, 8), b1 = HalfBE(b.first, 8);
  return a1 != b1 ? a1 < b1 : a.second < b.second;
}
// Event ids (UUIDv7, minted in order) usually arrive sorted already.
void SortPairs(std::vector<Pair>* v) {
  if (!std::is_sorted(v->begin(), v->end(), PairLess)) std::sort(v->begin(), v->end(), PairLess);
}

struct PartRow {
  uint64_t sequence;
  int64_t timestamp;
  uint32_t offset, entity, scope, clock;
  uint16_t kind;
};

// A vector filled during the scan: reserved for the most frames the segment
// can hold, so it never moves, and its pages made resident ahead of the
// writes (WarmAhead) instead of faulting one by one.
template <typename T>
class ScanVector {
 public:
  explicit ScanVector(size_t most) { v_.reserve(most); }
  template <typename... A>
  void Add(A&&... a) {
    v_.emplace_back(std::forward<A>(a)...);
    warm_.Cover(v_.data(), v_.size() * sizeof(T), v_.capacity() * sizeof(T));
  }
  std::vector<T>& get() { return v_; }

 private:
  std::vector<T> v_;
  WarmAhead warm_;
};

// Copies of the names met during the scan, in blocks that never move: the
// interning tables compare against these (hot) instead of the first frame
// that carried each name, far back in the mapping.
class NameArena {
 public:
  std::string_view Keep(std::string_view n) {
    if (n.size() > left_) {
      const size_t size = n.size() > kBlock ? n.size() : kBlock;
      blocks_.push_back(std::make_unique<char[]>(size));
      next_ = blocks_.back().get();
      left_ = size;
    }
    if (!n.empty()) std::memcpy(next_, n.data(), n.size());
    const std::string_view kept(next_, n.size());
    next_ += n.size();
    left_ -= n.size();
    return kept;
  }

 private:
  static constexpr size_t kBlock = 64 * 1024;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* next_ = nullptr;
  size_t left_ = 0;
};

// Appends typed arrays to the file image, each section and sub-array padded
// to 8. The image is reserved at its final size first (Reserve), so nothing
// it appends moves it.
class Out {
 public:
  explicit Out(std::string* s) : s_(s) {}
  void Reserve(size_t n) {
    s_->reserve(n);
    WarmAhead::All(s_->data(), s_->capacity());
  }
  template <typename T>
  void Array(const T* p, size_t n) {
    s_->append(reinterpret_cast<const char*>(p), n * sizeof(T));
    Pad();
  }
  template <typename T>
  void Array(const std::vector<T>& v) { Array(v.data(), v.size()); }
  // n values of `at(i)`, written in place.
  template <typename T, typename F>
  void Fill(size_t n, F&& at) {
    char* p = Take(n * sizeof(T));
    for (size_t i = 0; i < n; i++) {
      const T v = at(i);
      std::memcpy(p + i * sizeof(T), &v, sizeof(T));
    }
  }
  char* Take(size_t bytes) {
    const size_t at = s_->size();
    s_->resize(at + bytes);
    return s_->data() + at;
  }
  void Pad() { s_->append(idxpart::Align8(s_->size()) - s_->size(), '\0'); }
  size_t size() const { return s_->size(); }

 private:
  std::string* s_;
};

// Local ids in ascending byte order of the names; `local[i]` is the id of
// first-seen name i.
std::vector<uint32_t> SortNames(const std::vector<std::string_view>& seen, std::vector<std::string_view>* sorted) {
  std::vector<uint32_t> order(seen.size());
  for (uint32_t i = 0; i < order.size(); i++) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return seen[a] < seen[b]; });
  std::vector<uint32_t> local(seen.size());
  sorted->clear();
  for (uint32_t i = 0; i < order.size(); i++) {
    local[order[i]] = i;
    sorted->push_back(seen[order[i]]);
  }
  return local;
}

// CSR of `n` rows grouped by `group(row)` (< lists): the list starts, then the
// rows, ascending in each list, written in place. `at` is scratch.
template <typename G>
void PutCsr(Out& o, uint32_t n, uint32_t lists, G&& group, std::vector<uint32_t>* at) {
  at->assign(lists + 1, 0);
  for (uint32_t r = 0; r < n; r++) (*at)[group(r) + 1]++;
  for (uint32_t i = 0; i < lists; i++) (*at)[i + 1] += (*at)[i];
  o.Array(*at);
  char* list = o.Take(4 * size_t(n));
  for (uint32_t r = 0; r < n; r++) std::memcpy(list + 4 * size_t((*at)[group(r)]++), &r, 4);
  o.Pad();
}

void PutNames(Out& o, const std::vector<std::string_view>& names) {
  uint32_t off = 0;
  o.Fill<uint32_t>(names.size() + 1, [&](size_t i) { return i ? off += static_cast<uint32_t>(names[i - 1].size()) : 0; });
  o.Pad();
  for (std::string_view n : names) std::memcpy(o.Take(n.size()), n.data(), n.size());
  o.Pad();
}

// Sorted keys, then their rows.
void PutPairs(Out& o, std::vector<Pair>* pairs) {
  SortPairs(pairs);
  const std::vector<Pair>& p = *pairs;
  char* keys = o.Take(16 * p.size());
  for (size_t i = 0; i < p.size(); i++) std::memcpy(keys + 16 * i, p[i].first.data(), 16);
  o.Pad();
  o.Fill<uint32_t>(p.size(), [&](size_t i) { return p[i].second; });
  o.Pad();
}

// An upper bound of the file's size: every array at its length plus 8 bytes of padding.
size_t PartBound(size_t n, size_t entities, size_t entity_bytes, size_t scopes, size_t scope_bytes, size_t kinds,
                 size_t tag_rows, size_t pairs) {
  const size_t arrays = 40;
  return idxpart::kHeaderSize + 8 * arrays + 34 * n + (4 * 4 + 32) * entities + entity_bytes + 4 * 2 * scopes +
         scope_bytes + 4 * 3 * n + 6 * kinds + 24 * tag_rows + 20 * pairs;
}

}  // namespace

std::string IndexPartFileName(const std::string& segment_file_name) {
  const std::string suffix = ".cwseg";
  if (segment_file_name.size() > suffix.size() &&
      segment_file_name.compare(segment_file_name.size() - suffix.size(), suffix.size(), suffix) == 0)
    return segment_file_name.substr(0, segment_file_name.size() - suffix.size()) + ".cwidx";
  return segment_file_name + ".cwidx";
}

bool ParseIndexPartName(const std::string& name, uint64_t* segment_id) {
  const std::string suffix = ".cwidx";
  if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  return Segment::ParseFileName(name.substr(0, name.size() - suffix.size()) + ".cwseg", segment_id);
}

Status BuildIndexPart(const Segment& seg, uint64_t end, std::string* out) {
  const std::string name = Segment::FileName(seg.id());
  if (end < kSegmentHeaderSize || end > seg.size() || end > UINT32_MAX)
    return Status::Corruption("segment " + name + ": frames end " + std::to_string(end) + " is outside the file");
  // Frames the segment can hold; past a million rows the vectors grow as usual
  // (a 4 GiB segment would otherwise reserve a gigabyte of address space).
  const size_t most = std::min<size_t>((end - kSegmentHeaderSize) / kFrameHeaderSize + 1, size_t(1) << 20);
  ScanVector<PartRow> rows_v(most);
  ScanVector<Pair> ids_v(most);
  std::vector<std::string_view> entity_seen, scope_seen;
  std::unordered_map<std::string_view, uint32_t> entity_first, scope_first;
  struct EntityLast { uint32_t clock; const uint8_t* head; };
  std::vector<EntityLast> last;
  std::vector<Pair> correlated, effects, idem, tags;
  std::unordered_map<std::string_view, Key> tag_key;
  NameArena kept;
  auto intern = [&kept](std::string_view n, std::vector<std::string_view>* seen,
                        std::unordered_map<std::string_view, uint32_t>* first) {
    auto it = first->find(n);
    if (it != first->end()) return it->second;
    const uint32_t id = static_cast<uint32_t>(seen->size());
    seen->push_back(kept.Keep(n));
    first->emplace(seen->back(), id);
    return id;
  };
  // One call maps the frames' pages (cached already, mostly) instead of a
  // read fault per 64 KiB of the scan.
  platform::PopulateMapped(const_cast<uint8_t*>(seg.data()), end);
  const ScanOutcome sc = ScanFrames(seg.data(), kSegmentHeaderSize, end, seg.base_sequence(), [&](const FrameView& v,
                                                                                                  uint64_t off) {
    const uint32_t r = static_cast<uint32_t>(rows_v.get().size());
    const uint32_t e = intern({reinterpret_cast<const char*>(v.entity()), v.entity_len}, &entity_seen, &entity_first);
    const uint32_t s = intern({reinterpret_cast<const char*>(v.scope()), v.scope_len}, &scope_seen, &scope_first);
    rows_v.Add(PartRow{v.sequence, v.timestamp_us, static_cast<uint32_t>(off), e, s, v.clock, v.kind});
    if (e >= last.size()) last.resize(e + 1);
    last[e] = EntityLast{v.clock, v.content_hash()};
    ids_v.Add(KeyOf(v.event_id()), r);
    if (std::memcmp(v.correlation_id(), v.event_id(), 16) != 0) correlated.emplace_back(KeyOf(v.correlation_id()), r);
    if (v.flags & kFlagHasCausation) effects.emplace_back(KeyOf(v.causation_id()), r);
    if (v.flags & kFlagIdempotent) idem.emplace_back(KeyOf(v.idempotency()), r);
    // Each distinct tag is hashed once: events repeat their tags.
    if (const uint8_t* x = v.extension())
      ForEachTag(x, [&](const uint8_t* t, size_t len) {
        auto [it, added] = tag_key.try_emplace({reinterpret_cast<const char*>(t), len});
        if (added) it->second = Index::TagKey(t, len);
        tags.emplace_back(it->second, r);
      });
  });
  if (sc.stop != FrameCheck::kEnd || sc.pending_batch || sc.committed_end != end)
    return Status::Corruption("segment " + name + " offset " + std::to_string(sc.stop_offset) + ": frames do not check up to " +
                              std::to_string(end) + " (" + FrameCheckName(sc.stop) + (sc.pending_batch ? ", open batch" : "") +
                              ")");
  const std::vector<PartRow>& rows = rows_v.get();
  std::vector<Pair>& ids = ids_v.get();
  const uint32_t n = static_cast<uint32_t>(rows.size());
  std::vector<std::string_view> entities, scopes;
  const std::vector<uint32_t> ent_local = SortNames(entity_seen, &entities);
  const std::vector<uint32_t> scope_local = SortNames(scope_seen, &scopes);
  size_t entity_bytes = 0, scope_bytes = 0;
  for (std::string_view sv : entities) entity_bytes += sv.size();
  for (std::string_view sv : scopes) scope_bytes += sv.size();
  // The distinct kinds, ascending, and each one's local id: its place among them.
  std::vector<uint8_t> kind_seen(0x10000);
  for (const PartRow& r : rows) kind_seen[r.kind] = 1;
  std::vector<uint16_t> kinds;
  std::vector<uint32_t> kind_local(0x10000);
  for (uint32_t k = 0; k < 0x10000; k++)
    if (kind_seen[k]) kind_local[k] = static_cast<uint32_t>(kinds.size()), kinds.push_back(static_cast<uint16_t>(k));

  out->clear();
  Out o(out);
  o.Reserve(PartBound(n, entities.size(), entity_bytes, scopes.size(), scope_bytes, kinds.size(), tags.size(),
                      ids.size() + correlated.size() + effects.size() + idem.size()));
  o.Take(idxpart::kHeaderSize);
  std::array<std::array<uint64_t, 3>, idxpart::kSections> table{};  // offset, length, count
  auto section = [&](uint32_t s, uint64_t count, auto&& put) {
    table[s][0] = o.size();
    put();
    table[s][1] = o.size() - table[s][0];
    table[s][2] = count;
  };
  const auto entity_of = [&](size_t r) { return ent_local[rows[r].entity]; };
  const auto scope_of = [&](size_t r) { return scope_local[rows[r].scope]; };
  std::vector<uint32_t> at;
  section(idxpart::kColumns, n, [&] {
    // Packed back to back (each array's size keeps the next one aligned), padded once at the end.
    o.Fill<uint64_t>(n, [&](size_t r) { return rows[r].sequence; });
    o.Fill<int64_t>(n, [&](size_t r) { return rows[r].timestamp; });
    o.Fill<uint32_t>(n, [&](size_t r) { return rows[r].offset; });
    o.Fill<uint32_t>(n, entity_of);
    o.Fill<uint32_t>(n, scope_of);
    o.Fill<uint32_t>(n, [&](size_t r) { return rows[r].clock; });
    o.Fill<uint16_t>(n, [&](size_t r) { return rows[r].kind; });
    o.Pad();
  });
  section(idxpart::kEntities, entities.size(), [&] {
    PutNames(o, entities);
    std::vector<uint32_t> clock(entities.size());
    std::string heads(32 * entities.size(), '\0');
    for (uint32_t i = 0; i < entity_seen.size(); i++) {
      clock[ent_local[i]] = last[i].clock;
      std::memcpy(heads.data() + 32 * size_t(ent_local[i]), last[i].head, 32);
    }
    o.Array(clock);
    o.Array(heads.data(), heads.size());
    PutCsr(o, n, static_cast<uint32_t>(entities.size()), entity_of, &at);
  });
  section(idxpart::kScopes, scopes.size(), [&] {
    PutNames(o, scopes);
    PutCsr(o, n, static_cast<uint32_t>(scopes.size()), scope_of, &at);
  });
  section(idxpart::kKinds, kinds.size(), [&] {
    o.Array(kinds);
    PutCsr(o, n, static_cast<uint32_t>(kinds.size()), [&](size_t r) { return kind_local[rows[r].kind]; }, &at);
  });
  SortPairs(&tags);  // by key, then row: one run of ascending rows per tag
  uint32_t tag_count = 0;
  section(idxpart::kTags, 0, [&] {
    at.assign(1, 0);
    for (size_t i = 0; i < tags.size(); i++)
      if (i == 0 || tags[i].first != tags[i - 1].first) {
        if (i) at.push_back(static_cast<uint32_t>(i));
        std::memcpy(o.Take(16), tags[i].first.data(), 16);
        tag_count++;
      }
    o.Pad();
    if (!tags.empty()) at.push_back(static_cast<uint32_t>(tags.size()));
    o.Array(at);
    o.Fill<uint32_t>(tags.size(), [&](size_t i) { return tags[i].second; });
    o.Pad();
  });
  table[idxpart::kTags][2] = tag_count;
  section(idxpart::kIds, n, [&] { PutPairs(o, &ids); });
  section(idxpart::kCorrelated, correlated.size(), [&] { PutPairs(o, &correlated); });
  section(idxpart::kEffects, effects.size(), [&] { PutPairs(o, &effects); });
  section(idxpart::kIdempotency, idem.size(), [&] { PutPairs(o, &idem); });

  uint8_t* h = reinterpret_cast<uint8_t*>(out->data());
  std::memcpy(h, idxpart::kMagic, 8);
  StoreLE<uint64_t>(h + idxpart::kLength, out->size());
  StoreLE<uint64_t>(h + idxpart::kSegmentId, seg.id());
  StoreLE<int64_t>(h + idxpart::kCreatedUs, seg.created_us());
  StoreLE<uint64_t>(h + idxpart::kSegmentEnd, end);
  StoreLE<uint64_t>(h + idxpart::kFirstSeq, n ? rows.front().sequence : 0);
  StoreLE<uint64_t>(h + idxpart::kLastSeq, n ? rows.back().sequence : 0);
  StoreLE<uint32_t>(h + idxpart::kRows, n);
  StoreLE<uint32_t>(h + idxpart::kSectionCount, idxpart::kSections);
  for (uint32_t s = 0; s < idxpart::kSections; s++) {
    uint8_t* e = h + idxpart::kTable + s * idxpart::kEntrySize;
    StoreLE<uint64_t>(e, table[s][0]);
    StoreLE<uint32_t>(e + 8, static_cast<uint32_t>(table[s][1]));
    StoreLE<uint32_t>(e + 12, static_cast<uint32_t>(table[s][2]));
  }
  StoreLE<uint32_t>(h + idxpart::kBodyCrc,
                    crc32c::Mask(crc32c::Value(h + idxpart::kHeaderSize, out->size() - idxpart::kHeaderSize)));
  StoreLE<uint32_t>(h + idxpart::kHeaderCrc, crc32c::Mask(crc32c::Value(h + 12, idxpart::kHeaderSize - 12)));
  return Status::OK();
}

Status WriteIndexPart(const std::string& dir, const std::string& segment_file_name, const std::string& bytes,
                      uint32_t file_mode) {
  // No fsync: a part lost or torn by a crash fails its checks and is rebuilt.
  return fsutil::WriteCacheFileAtomic(dir, IndexPartFileName(segment_file_name), bytes, file_mode,
                                      [] { KillPoint("index-part:tmp-written"); });
}

}  // namespace causeway
