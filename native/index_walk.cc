// The walk over one segment's candidates (index_query.cc picks them):
// seek the start by bisection, then visit rows until a bound or the limit.
// A bound met ends the whole query (rows ascend across segments too); the
// end of the segment's rows only ends its walk.
#include <algorithm>

#include "index_plan.h"

namespace causeway {

namespace {

// Walks rows at(0..count) forward from the first whose key is >= from.
template <typename At, typename Key, typename Visit>
void ForwardFrom(uint64_t count, At at, uint64_t from, Key key, Visit visit) {
  uint64_t lo = 0, hi = count;
  if (from > 0)
    while (lo < hi) {
      const uint64_t mid = lo + (hi - lo) / 2;
      if (key(at(mid)) < from) lo = mid + 1;
      else hi = mid;
    }
  for (uint64_t i = lo; i < count; i++)
    if (!visit(at(i))) return;
}

// Walks rows at(0..count) backward from the last for which above() is false.
template <typename At, typename Above, typename Visit>
void BackwardFrom(uint64_t count, At at, Above above, Visit visit) {
  uint64_t lo = 0, hi = count;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (above(at(mid))) hi = mid;
    else lo = mid + 1;
  }
  for (uint64_t i = lo; i > 0;)
    if (!visit(at(--i))) return;
}

}  // namespace

// Rows of the candidates as a random-access sequence (all but kList).
#define CW_WITH_RANDOM_ACCESS(c, BODY)                                              \
  do {                                                                              \
    if ((c).type == Candidates::Type::kAll) {                                       \
      auto at = [&](uint64_t i) { return static_cast<Row>((c).first + i); };       \
      const uint64_t count = (c).end - (c).first;                                   \
      BODY;                                                                         \
    } else if ((c).type == Candidates::Type::kSpan) {                               \
      auto at = [&](uint64_t i) { return static_cast<Row>((c).first + (c).span.rows[i]); }; \
      const uint64_t count = (c).span.n;                                            \
      BODY;                                                                         \
    } else {                                                                        \
      auto at = [&](uint64_t i) { return (c).merged[i]; };                          \
      const uint64_t count = (c).merged.size();                                     \
      BODY;                                                                         \
    }                                                                               \
  } while (0)

bool Index::WalkForward(const Plan& p, const Candidates& c, std::vector<Row>* out) const {
  const RegionFilter& f = *p.f;
  const IndexPart* file = c.seg->file.get();
  const bool clock_ordered = c.entity_list && f.has_clock;
  auto seq_of = [&](Row r) { return r >= c.end ? UINT64_MAX : file ? file->Sequence(r - c.first) : sequence_[r]; };
  auto clock_of = [&](Row r) { return file ? file->Clock(r - c.first) : clock_[r]; };
  bool stop = false;
  auto visit = [&](Row r) {
    if (r >= c.end) return false;  // unpublished: the segment's walk ends
    if (out->size() >= f.limit || seq_of(r) >= f.before_sequence || (clock_ordered && clock_of(r) > f.clock_to)) {
      stop = true;
      return false;
    }
    if (Keep(r, p, c)) out->push_back(r);
    return true;
  };
  // On one entity's list sequence and clock ascend together, so "at or past
  // both lower bounds" turns true once and stays true.
  const bool both = clock_ordered && f.clock_from > 0;
  auto past = [&](Row r) -> uint64_t {
    return r >= c.end || (seq_of(r) >= f.after_sequence && clock_of(r) >= f.clock_from) ? 1 : 0;
  };
  if (c.type == Candidates::Type::kList) {
    if (both) c.list->ForEachFrom(c.list->size(), 1, past, visit);
    else c.list->ForEachFrom(c.list->size(), f.after_sequence, seq_of, visit);
  } else if (both) {
    CW_WITH_RANDOM_ACCESS(c, ForwardFrom(count, at, 1, past, visit));
  } else {
    CW_WITH_RANDOM_ACCESS(c, ForwardFrom(count, at, f.after_sequence, seq_of, visit));
  }
  return !stop && out->size() < f.limit;
}

bool Index::WalkReverse(const Plan& p, const Candidates& c, std::vector<Row>* out) const {
  const RegionFilter& f = *p.f;
  const IndexPart* file = c.seg->file.get();
  const bool clock_ordered = c.entity_list && f.has_clock;
  auto seq_of = [&](Row r) { return file ? file->Sequence(r - c.first) : sequence_[r]; };
  auto clock_of = [&](Row r) { return file ? file->Clock(r - c.first) : clock_[r]; };
  // Past the upper bounds: unpublished, at or after before_sequence, or (on
  // one entity's list) over clock_to. False then true along any list.
  auto above = [&](Row r) {
    return r >= c.end || seq_of(r) >= f.before_sequence || (clock_ordered && clock_of(r) > f.clock_to);
  };
  bool stop = false;
  // Rows descend from here: the first under a lower bound ends the query.
  auto visit = [&](Row r) {
    if (out->size() >= f.limit || seq_of(r) < f.after_sequence || (clock_ordered && clock_of(r) < f.clock_from)) {
      stop = true;
      return false;
    }
    if (Keep(r, p, c)) out->push_back(r);
    return true;
  };
  if (c.type == Candidates::Type::kList) c.list->ForEachBack(c.list->size(), above, visit);
  else CW_WITH_RANDOM_ACCESS(c, BackwardFrom(count, at, above, visit));
  return !stop && out->size() < f.limit;
}

#undef CW_WITH_RANDOM_ACCESS

}  // namespace causeway
