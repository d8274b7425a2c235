// Store::Aggregate: the walk over the index rows a filter selects, feeding
// the Aggregator. Record time, kind, scope and entity come from the index
// columns; only a spec that reads payload fields, tags or event time reads
// frames, each CRC-checked (a damaged one fails the call: nothing
// unverified is counted).
#include <algorithm>
#include <string_view>

#include "aggregate.h"
#include "frame.h"
#include "msgpack_field.h"
#include "store.h"

namespace causeway {
namespace {

constexpr uint64_t kAggregateChunk = 1 << 18;

// Group ids by a dense key (kind, scope or entity id), found once per key.
class GroupCache {
 public:
  template <typename NameOf>
  uint32_t Get(uint32_t key, Aggregator* agg, NameOf name_of) {
    if (key >= ids_.size()) ids_.resize(size_t(key) + 1, kNoId);
    if (ids_[key] == kNoId) ids_[key] = agg->Group(name_of(key));
    return ids_[key];
  }

 private:
  std::vector<uint32_t> ids_;
};

std::string_view EntityPrefix(const std::string& name) {
  const size_t colon = name.find(':');
  return colon == std::string::npos ? std::string_view(name) : std::string_view(name).substr(0, colon);
}

}  // namespace

Status Store::Aggregate(const RegionFilter& filter, const AggregateSpec& spec, AggregateResult* out) {
  CW_RETURN_IF_ERROR(CheckAggregateSpec(spec));
  auto lock = ReadLock();
  if (closed()) return Status::Closed("the store is closed");
  Aggregator agg(spec);
  const size_t nf = spec.fields.size();
  const bool event_time = spec.time == AggregateTime::kEvent;
  const bool need_frame = nf > 0 || event_time || spec.group == AggregateGroup::kTag;
  std::vector<double> values(nf);
  std::vector<uint8_t> has(nf);
  GroupCache cache;
  auto add = [&](Row r) -> Status {
    FrameView v;
    if (need_frame) CW_RETURN_IF_ERROR(FrameAt(r, &v));
    const uint8_t* x = need_frame ? v.extension() : nullptr;
    int64_t t = index_.Timestamp(r);
    if (event_time && x && (x[ext::kFields] & kExtOccurredAt)) t = LoadLE<int64_t>(x + ext::kOccurredAt);
    for (size_t i = 0; i < nf; i++) has[i] = MsgpackNumberAt(v.payload(), v.payload_len, spec.fields[i], &values[i]);
    switch (spec.group) {
      case AggregateGroup::kNone:
        agg.Add(t, 0, values.data(), has.data());
        break;
      case AggregateGroup::kKind:
        agg.Add(t, cache.Get(index_.Kind(r), &agg, [](uint32_t k) { return std::to_string(k); }), values.data(),
                has.data());
        break;
      case AggregateGroup::kScope:
        agg.Add(t, cache.Get(index_.Scope(r), &agg, [&](uint32_t s) { return std::string_view(index_.ScopeName(s)); }),
                values.data(), has.data());
        break;
      case AggregateGroup::kEntityPrefix:
        agg.Add(t, cache.Get(index_.Entity(r), &agg, [&](uint32_t e) { return EntityPrefix(index_.EntityName(e)); }),
                values.data(), has.data());
        break;
      case AggregateGroup::kTag:
        // Counted once under each of its tags that start with the prefix; an
        // event with none is in no group.
        if (!x) break;
        ForEachTag(x, [&](const uint8_t* tag, size_t len) {
          const std::string_view s(reinterpret_cast<const char*>(tag), len);
          if (s.substr(0, spec.tag_prefix.size()) == spec.tag_prefix) agg.Add(t, agg.Group(s), values.data(), has.data());
        });
        break;
    }
    return Status::OK();
  };
  // The rows a chunk at a time (memory bounded whatever the count), all
  // below the rows published when the call began.
  const Row published = index_.visible();
  RegionFilter f = filter;
  f.reverse = false;
  if (published > 0) {
    CW_RETURN_IF_ERROR(index_.EnsureRow(published - 1));
    f.before_sequence = std::min(f.before_sequence, index_.Sequence(published - 1) + 1);
  }
  uint64_t left = published > 0 ? filter.limit : 0;
  // A filter that names nothing but an upper bound: every row, in order,
  // with no candidate list to build.
  const bool every_row = !f.has_entity && !f.has_scope && f.kind_mode == RegionFilter::Kind::kAny && !f.has_clock &&
                         !f.has_time && !f.has_occurred && f.kinds.empty() && f.tags.empty() && f.any_of.empty() &&
                         f.after_sequence == 0;
  if (every_row) {
    for (Row r = 0; r < published && left > 0; r++, left--) {
      CW_RETURN_IF_ERROR(index_.EnsureRow(r));  // once per segment: a check passed is remembered
      if (index_.Sequence(r) >= f.before_sequence) break;
      CW_RETURN_IF_ERROR(add(r));
    }
    left = 0;
  }
  std::vector<Row> rows;
  while (left > 0) {
    f.limit = std::min<uint64_t>(kAggregateChunk, left);
    CW_RETURN_IF_ERROR(index_.Query(f, &rows));
    for (Row r : rows) CW_RETURN_IF_ERROR(add(r));
    if (rows.size() < f.limit) break;
    left -= rows.size();
    f.after_sequence = index_.Sequence(rows.back()) + 1;
  }
  agg.Finish(out);
  return Status::OK();
}

}  // namespace causeway
