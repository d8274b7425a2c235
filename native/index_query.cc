// Region queries over the index: the candidate rows (the shortest posting
// list the filter names), then a walk forward or, for `reverse`, backward
// from the end. Every posting list holds rows in ascending order, and rows
// ascend with the global sequence; one entity's list ascends in clock too.
// So both walks seek their start by bisection and stop at their first row
// past the far bound: a page of the newest 20 rows of a long stream reads
// about 20 rows, whatever the stream's length.
#include <algorithm>
#include <functional>

#include "index.h"

namespace causeway {

struct Index::Candidates {
  const RowList* list = nullptr;  // null, and no merged rows: every row is a candidate
  bool entity_list = false;       // `list` is one entity's: clocks ascend with its rows
  bool use_merged = false;        // several entities' rows, in `merged`, sorted
  std::vector<Row> merged;
  std::vector<uint8_t> entity_match;  // by entity id, when the filter names entities
  uint32_t scope_id = kNoId;
  const RowList* tag_list = nullptr;  // when `list` is a tag's: that tag needs no check
};

namespace {
bool HasKind(const RegionFilter& f, uint16_t kind) {
  return f.kinds.empty() || std::find(f.kinds.begin(), f.kinds.end(), kind) != f.kinds.end();
}
// True when the sorted list holds `row` (bisection within its blocks).
bool ListHolds(const RowList& l, Row row) {
  bool found = false;
  l.ForEachFrom(l.size(), row, [](Row r) { return uint64_t(r); }, [&](Row r) {
    found = r == row;
    return false;
  });
  return found;
}
}  // namespace

bool Index::KeepExtended(Row r, const RegionFilter& f, const RowList* from) const {
  if (!HasKind(f, kind_[r])) return false;
  for (const auto& key : f.tags) {
    const RowList* l = tag_rows_.Find(key.data());
    if (!l) return false;
    if (l != from && !ListHolds(*l, r)) return false;
  }
  if (f.has_occurred) {
    FrameView v;
    // A frame that does not check is kept: the read that follows reports
    // its corruption rather than this filter hiding the event.
    if (!resolve_frame_ || !resolve_frame_(frame_ctx_, r, &v).ok()) return true;
    const uint8_t* x = v.extension();
    const int64_t at = x && (x[ext::kFields] & kExtOccurredAt) ? LoadLE<int64_t>(x + ext::kOccurredAt) : timestamp_[r];
    if (at < f.occurred_from_us || at > f.occurred_to_us) return false;
  }
  return true;
}

bool Index::Matches(Row r, const RegionFilter& f) const {
  if (!f.any_of.empty()) {
    for (const RegionFilter& item : f.any_of)
      if (Matches(r, item)) return true;
    return false;
  }
  if (f.has_entity) {
    if (f.exact_entity ? entities_[entity_[r]].name != f.entity : !MatchesEntity(entity_[r], f)) return false;
  }
  if (f.has_scope && scopes_[scope_[r]].name != f.scope) return false;
  if (f.kind_mode == RegionFilter::Kind::kExact && kind_[r] != f.kind) return false;
  if (f.kind_mode == RegionFilter::Kind::kCategory && (kind_[r] >> 12) != f.kind) return false;
  if (f.has_clock && (clock_[r] < f.clock_from || clock_[r] > f.clock_to)) return false;
  if (f.has_time && (timestamp_[r] < f.time_from_us || timestamp_[r] > f.time_to_us)) return false;
  return KeepExtended(r, f, nullptr);
}

bool Index::MatchesEntity(uint32_t entity, const RegionFilter& f) const {
  const std::string& n = entities_[entity].name;
  if (n.size() < f.entity.size() || n.compare(0, f.entity.size(), f.entity) != 0) return false;
  return n.size() == f.entity.size() || n[f.entity.size()] == ':';
}

bool Index::PickCandidates(const RegionFilter& f, Candidates* c) const {
  if (f.has_scope) {
    c->scope_id = FindScope(f.scope);
    if (c->scope_id == kNoId) return false;
    c->list = &scopes_[c->scope_id].rows;
  }
  // Candidates come from the shortest list the filter names; a tag's list
  // is remembered so that Keep need not check that tag again.
  auto narrow = [c](const RowList* l, bool tag) {
    if (c->list && l->size() >= c->list->size()) return false;
    c->list = l;
    c->tag_list = tag ? l : nullptr;
    return true;
  };
  for (const auto& key : f.tags) {
    const RowList* l = tag_rows_.Find(key.data());
    if (!l) return false;
    narrow(l, true);
  }
  // A kind named exactly, or as the only one of a set: its list.
  for (int i = 0; i < 2; i++) {
    const bool named = i == 0 ? f.kind_mode == RegionFilter::Kind::kExact : f.kinds.size() == 1;
    if (!named) continue;
    uint8_t key[16];
    KindKey(i == 0 ? f.kind : f.kinds[0], key);
    const RowList* l = kind_rows_.Find(key);
    if (!l) return false;
    narrow(l, false);
  }
  if (!f.has_entity) return c->list || f.kinds.size() < 2 || MergeKinds(f, c);
  const size_t entities = entity_count();
  c->entity_match.assign(entities, 0);
  if (f.exact_entity) {
    const uint32_t e = FindEntity(f.entity);
    if (e == kNoId) return false;
    c->entity_match[e] = 1;
    if (narrow(&entities_[e].rows, false)) c->entity_list = true;
    return true;
  }
  size_t total = 0;
  std::vector<uint32_t> matched;
  for (uint32_t e = 0; e < entities; e++) {
    if (MatchesEntity(e, f)) {
      c->entity_match[e] = 1;
      matched.push_back(e);
      total += entities_[e].rows.size();
    }
  }
  if (matched.empty()) return false;
  if (c->list && total >= c->list->size()) return true;
  if (matched.size() == 1) {
    c->list = &entities_[matched[0]].rows;
    c->tag_list = nullptr;
    c->entity_list = true;
    return true;
  }
  c->list = nullptr;
  c->tag_list = nullptr;
  c->merged.reserve(total);
  for (uint32_t e : matched) entities_[e].rows.AppendTo(&c->merged);
  std::sort(c->merged.begin(), c->merged.end());
  c->use_merged = true;
  return true;
}

bool Index::MergeKinds(const RegionFilter& f, Candidates* c) const {
  // Several kinds and nothing narrower: the union of their lists, sorted.
  for (uint16_t k : f.kinds) {
    uint8_t key[16];
    KindKey(k, key);
    if (const RowList* l = kind_rows_.Find(key)) l->AppendTo(&c->merged);
  }
  if (c->merged.empty()) return false;
  std::sort(c->merged.begin(), c->merged.end());
  c->use_merged = true;
  return true;
}

bool Index::Keep(Row r, const RegionFilter& f, const Candidates& c) const {
  if (sequence_[r] < f.after_sequence || sequence_[r] >= f.before_sequence) return false;
  if (f.has_entity && !c.entity_match[entity_[r]]) return false;
  if (f.has_scope && scope_[r] != c.scope_id) return false;
  if (f.kind_mode == RegionFilter::Kind::kExact && kind_[r] != f.kind) return false;
  if (f.kind_mode == RegionFilter::Kind::kCategory && (kind_[r] >> 12) != f.kind) return false;
  if (f.has_clock && (clock_[r] < f.clock_from || clock_[r] > f.clock_to)) return false;
  if (f.has_time && (timestamp_[r] < f.time_from_us || timestamp_[r] > f.time_to_us)) return false;
  return KeepExtended(r, f, c.tag_list);
}

std::vector<Row> Index::Query(const RegionFilter& f) const {
  std::vector<Row> out;
  // Everything below is bounded by the rows published when the query began.
  const Row n = visible();
  if (f.any_of.empty()) QueryUpTo(f, n, &out);
  else QueryAnyOf(f, n, &out);
  return out;
}

void Index::QueryUpTo(const RegionFilter& f, Row n, std::vector<Row>* out) const {
  Candidates c;
  if (!PickCandidates(f, &c)) return;
  if (f.reverse) QueryReverse(f, c, n, out);
  else QueryForward(f, c, n, out);
}

void Index::QueryAnyOf(const RegionFilter& f, Row n, std::vector<Row>* out) const {
  // Each item under the whole's bounds and limit (the first `limit` rows of
  // the union are among the first `limit` of each item), over the same
  // published rows n, then merged in order without repeats.
  for (const RegionFilter& item : f.any_of) {
    RegionFilter g = item;
    g.after_sequence = f.after_sequence;
    g.before_sequence = f.before_sequence;
    g.limit = f.limit;
    g.reverse = f.reverse;
    g.any_of.clear();
    // Each item into its own vector: the walks stop at `limit` rows of their
    // own, and on a shared one an item would count its predecessors' rows.
    std::vector<Row> part;
    QueryUpTo(g, n, &part);
    out->insert(out->end(), part.begin(), part.end());
  }
  if (f.reverse) std::sort(out->begin(), out->end(), std::greater<Row>());
  else std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
  if (out->size() > f.limit) out->resize(f.limit);
}

void Index::QueryForward(const RegionFilter& f, const Candidates& c, Row n, std::vector<Row>* out) const {
  const bool clock_ordered = c.entity_list && f.has_clock;
  // Rows ascend in every posting list: the first unpublished one, or the
  // first past the sequence bound (or, on one entity's list, the clock
  // bound), ends the walk.
  auto visit = [&](Row r) {
    if (r >= n || out->size() >= f.limit || sequence_[r] >= f.before_sequence) return false;
    if (clock_ordered && clock_[r] > f.clock_to) return false;
    if (Keep(r, f, c)) out->push_back(r);
    return true;
  };
  auto seq_of = [&](Row r) { return r < n ? sequence_[r] : UINT64_MAX; };
  if (c.use_merged) {
    auto it = c.merged.begin();
    if (f.after_sequence > 0)
      it = std::lower_bound(c.merged.begin(), c.merged.end(), f.after_sequence,
                            [&](Row r, uint64_t s) { return seq_of(r) < s; });
    for (; it != c.merged.end(); ++it)
      if (!visit(*it)) break;
  } else if (c.list && clock_ordered && f.clock_from > 0) {
    // Both lower bounds at once: on one entity's list sequence and clock
    // ascend together, so "at or past both" turns true once and stays true.
    auto past = [&](Row r) -> uint64_t {
      return r >= n || (sequence_[r] >= f.after_sequence && clock_[r] >= f.clock_from) ? 1 : 0;
    };
    c.list->ForEachFrom(c.list->size(), 1, past, visit);
  } else if (c.list) {
    c.list->ForEachFrom(c.list->size(), f.after_sequence, seq_of, visit);
  } else {
    for (Row r = FirstRowFrom(f.after_sequence, n); r < n; r++)
      if (!visit(r)) break;
  }
}

void Index::QueryReverse(const RegionFilter& f, const Candidates& c, Row n, std::vector<Row>* out) const {
  const bool clock_ordered = c.entity_list && f.has_clock;
  // Past the upper bounds: unpublished, at or after before_sequence, or (on
  // one entity's list) over clock_to. False then true along any list.
  auto above = [&](Row r) {
    return r >= n || sequence_[r] >= f.before_sequence || (clock_ordered && clock_[r] > f.clock_to);
  };
  // Rows descend from here: the first under a lower bound ends the walk.
  auto visit = [&](Row r) {
    if (out->size() >= f.limit || sequence_[r] < f.after_sequence) return false;
    if (clock_ordered && clock_[r] < f.clock_from) return false;
    if (Keep(r, f, c)) out->push_back(r);
    return true;
  };
  if (c.use_merged) {
    auto it = std::partition_point(c.merged.begin(), c.merged.end(), [&](Row r) { return !above(r); });
    while (it != c.merged.begin())
      if (!visit(*--it)) break;
  } else if (c.list) {
    c.list->ForEachBack(c.list->size(), above, visit);
  } else {
    for (Row r = FirstRowFrom(f.before_sequence, n); r > 0;)
      if (!visit(--r)) break;
  }
}

uint32_t Index::PublishedClock(uint32_t entity) const {
  const Row n = visible();
  const EntityState& e = entities_[entity];
  uint32_t clock = e.raised_clock.load(std::memory_order_relaxed);
  // The newest published row: rows past n are appended but not yet visible.
  e.rows.ForEachBack(e.rows.size(), [&](Row r) { return r >= n; }, [&](Row r) {
    clock = std::max(clock, clock_[r]);
    return false;
  });
  return clock;
}

}  // namespace causeway
