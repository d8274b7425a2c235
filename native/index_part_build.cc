// Builds a segment's index part from its frames (ScanFrames: every frame's
// CRC checked, batches only once their end frame checks) and writes it.
#include <algorithm>
#include <array>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "crc32c.h"
#include "fsutil.h"
#include "index.h"
#include "index_part.h"
#include "kill_point.h"
#include "log_reader.h"

namespace causeway {
namespace {

using Key = std::array<uint8_t, 16>;

Key KeyOf(const uint8_t* p) {
  Key k;
  std::memcpy(k.data(), p, 16);
  return k;
}

struct PartRow {
  uint64_t sequence;
  int64_t timestamp;
  uint32_t offset, entity, scope, clock;
  uint16_t kind;
};

// Appends typed arrays to the file image, each section and sub-array padded to 8.
class Out {
 public:
  explicit Out(std::string* s) : s_(s) {}
  template <typename T>
  void Array(const T* p, size_t n) {
    s_->append(reinterpret_cast<const char*>(p), n * sizeof(T));
    Pad();
  }
  template <typename T>
  void Array(const std::vector<T>& v) { Array(v.data(), v.size()); }
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

// CSR of the rows grouped by `group[row]` (< lists), rows ascending in each list.
void Csr(const std::vector<uint32_t>& group, uint32_t lists, std::vector<uint32_t>* start, std::vector<uint32_t>* rows) {
  start->assign(lists + 1, 0);
  for (uint32_t g : group) (*start)[g + 1]++;
  for (uint32_t i = 0; i < lists; i++) (*start)[i + 1] += (*start)[i];
  std::vector<uint32_t> at(start->begin(), start->end() - 1);
  rows->assign(group.size(), 0);
  for (uint32_t r = 0; r < group.size(); r++) (*rows)[at[group[r]]++] = r;
}

void PutNames(Out& o, const std::vector<std::string_view>& names) {
  std::vector<uint32_t> off{0};
  std::string bytes;
  for (std::string_view n : names) {
    bytes.append(n);
    off.push_back(static_cast<uint32_t>(bytes.size()));
  }
  o.Array(off);
  o.Array(bytes.data(), bytes.size());
}

void PutPairs(Out& o, std::vector<std::pair<Key, uint32_t>>* pairs) {
  std::sort(pairs->begin(), pairs->end());
  std::vector<uint32_t> rows;
  std::string keys;
  for (auto& [k, r] : *pairs) {
    keys.append(reinterpret_cast<const char*>(k.data()), 16);
    rows.push_back(r);
  }
  o.Array(keys.data(), keys.size());
  o.Array(rows);
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
  std::vector<PartRow> rows;
  std::vector<std::string_view> entity_seen, scope_seen;
  std::unordered_map<std::string_view, uint32_t> entity_first, scope_first;
  struct EntityLast { uint32_t clock; const uint8_t* head; };
  std::vector<EntityLast> last;
  std::vector<std::pair<Key, uint32_t>> ids, correlated, effects, idem, tags;
  std::unordered_map<std::string_view, Key> tag_key;
  auto intern = [](std::string_view n, std::vector<std::string_view>* seen,
                   std::unordered_map<std::string_view, uint32_t>* first) {
    auto [it, added] = first->emplace(n, static_cast<uint32_t>(seen->size()));
    if (added) seen->push_back(n);
    return it->second;
  };
  const ScanOutcome sc = ScanFrames(seg.data(), kSegmentHeaderSize, end, seg.base_sequence(), [&](const FrameView& v,
                                                                                                  uint64_t off) {
    const uint32_t r = static_cast<uint32_t>(rows.size());
    const uint32_t e = intern({reinterpret_cast<const char*>(v.entity()), v.entity_len}, &entity_seen, &entity_first);
    const uint32_t s = intern({reinterpret_cast<const char*>(v.scope()), v.scope_len}, &scope_seen, &scope_first);
    rows.push_back(PartRow{v.sequence, v.timestamp_us, static_cast<uint32_t>(off), e, s, v.clock, v.kind});
    if (e >= last.size()) last.resize(e + 1);
    last[e] = EntityLast{v.clock, v.content_hash()};
    ids.emplace_back(KeyOf(v.event_id()), r);
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
  const uint32_t n = static_cast<uint32_t>(rows.size());
  std::vector<std::string_view> entities, scopes;
  const std::vector<uint32_t> ent_local = SortNames(entity_seen, &entities);
  const std::vector<uint32_t> scope_local = SortNames(scope_seen, &scopes);

  out->assign(idxpart::kHeaderSize, '\0');
  Out o(out);
  std::array<std::array<uint64_t, 3>, idxpart::kSections> table{};  // offset, length, count
  auto section = [&](uint32_t s, uint64_t count, auto&& put) {
    table[s][0] = o.size();
    put();
    table[s][1] = o.size() - table[s][0];
    table[s][2] = count;
  };
  std::vector<uint32_t> entity_of(n), scope_of(n), start, list;
  for (uint32_t r = 0; r < n; r++) entity_of[r] = ent_local[rows[r].entity], scope_of[r] = scope_local[rows[r].scope];
  section(idxpart::kColumns, n, [&] {
    std::vector<uint64_t> seq(n);
    std::vector<int64_t> ts(n);
    std::vector<uint32_t> off(n), clock(n);
    std::vector<uint16_t> kind(n);
    for (uint32_t r = 0; r < n; r++)
      seq[r] = rows[r].sequence, ts[r] = rows[r].timestamp, off[r] = rows[r].offset, clock[r] = rows[r].clock,
      kind[r] = rows[r].kind;
    // Packed back to back (each array's size keeps the next one aligned), padded once at the end.
    out->append(reinterpret_cast<const char*>(seq.data()), 8 * size_t(n));
    out->append(reinterpret_cast<const char*>(ts.data()), 8 * size_t(n));
    for (const std::vector<uint32_t>* v : {&off, &entity_of, &scope_of, &clock})
      out->append(reinterpret_cast<const char*>(v->data()), 4 * size_t(n));
    o.Array(kind);
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
    Csr(entity_of, static_cast<uint32_t>(entities.size()), &start, &list);
    o.Array(start);
    o.Array(list);
  });
  section(idxpart::kScopes, scopes.size(), [&] {
    PutNames(o, scopes);
    Csr(scope_of, static_cast<uint32_t>(scopes.size()), &start, &list);
    o.Array(start);
    o.Array(list);
  });
  std::vector<uint16_t> kinds;
  for (const PartRow& r : rows) kinds.push_back(r.kind);
  std::sort(kinds.begin(), kinds.end());
  kinds.erase(std::unique(kinds.begin(), kinds.end()), kinds.end());
  section(idxpart::kKinds, kinds.size(), [&] {
    std::vector<uint32_t> kind_of(n);
    for (uint32_t r = 0; r < n; r++)
      kind_of[r] = static_cast<uint32_t>(std::lower_bound(kinds.begin(), kinds.end(), rows[r].kind) - kinds.begin());
    o.Array(kinds);
    Csr(kind_of, static_cast<uint32_t>(kinds.size()), &start, &list);
    o.Array(start);
    o.Array(list);
  });
  std::sort(tags.begin(), tags.end());  // by key, then row: one run of ascending rows per tag
  uint32_t tag_count = 0;
  section(idxpart::kTags, 0, [&] {
    std::string keys;
    std::vector<uint32_t> tstart{0}, trows;
    for (size_t i = 0; i < tags.size(); i++) {
      if (i == 0 || tags[i].first != tags[i - 1].first) {
        if (i) tstart.push_back(static_cast<uint32_t>(i));
        keys.append(reinterpret_cast<const char*>(tags[i].first.data()), 16);
        tag_count++;
      }
      trows.push_back(tags[i].second);
    }
    if (!tags.empty()) tstart.push_back(static_cast<uint32_t>(tags.size()));
    o.Array(keys.data(), keys.size());
    o.Array(tstart);
    o.Array(trows);
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
