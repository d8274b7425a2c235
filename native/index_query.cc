// Region queries over the index, segment by segment: in each, the
// candidate rows are the shortest posting list the filter names there (a
// file's list, or the segment's list in memory), walked forward or, for
// `reverse`, backward. Every posting list holds rows in ascending order,
// and rows ascend with the global sequence; one entity's list ascends in
// clock too. So the walks seek their start by bisection and stop at their
// first row past the far bound: a page of the newest 20 rows of a long
// stream reads about 20 rows, whatever the stream's length.
#include <algorithm>
#include <functional>

#include "index_plan.h"

namespace causeway {

namespace {
bool HasKind(const RegionFilter& f, uint16_t kind) {
  return f.kinds.empty() || std::find(f.kinds.begin(), f.kinds.end(), kind) != f.kinds.end();
}
bool ListHolds(const RowList& l, Row row) {
  bool found = false;
  l.ForEachFrom(l.size(), row, [](Row r) { return uint64_t(r); }, [&](Row r) {
    found = r == row;
    return false;
  });
  return found;
}
bool NameMatches(std::string_view n, const RegionFilter& f) {
  if (n.size() < f.entity.size() || n.compare(0, f.entity.size(), f.entity) != 0) return false;
  return n.size() == f.entity.size() || n[f.entity.size()] == ':';
}
}  // namespace

bool Index::RowHasTag(const IndexSegment& s, Row r, const uint8_t* key) const {
  if (s.file) {
    const RowSpan l = s.file->TagRows(key);
    return std::binary_search(l.begin(), l.end(), r - s.first);
  }
  const RowList* l = s.tags.Find(key);
  return l && ListHolds(*l, r);
}

bool Index::OccurredWithin(Row r, const RegionFilter& f, int64_t timestamp_us) const {
  FrameView v;
  // A frame that does not check is kept: the read that follows reports
  // its corruption rather than this filter hiding the event.
  if (!resolve_frame_ || !resolve_frame_(frame_ctx_, r, &v).ok()) return true;
  const uint8_t* x = v.extension();
  const int64_t at = x && (x[ext::kFields] & kExtOccurredAt) ? LoadLE<int64_t>(x + ext::kOccurredAt) : timestamp_us;
  return at >= f.occurred_from_us && at <= f.occurred_to_us;
}

bool Index::MatchesEntity(uint32_t entity, const RegionFilter& f) const { return NameMatches(entities_[entity].name, f); }

bool Index::Matches(Row r, const RegionFilter& f) const {
  if (!f.any_of.empty()) {
    for (const RegionFilter& item : f.any_of)
      if (Matches(r, item)) return true;
    return false;
  }
  if (f.has_entity) {
    const uint32_t e = Entity(r);
    if (f.exact_entity ? entities_[e].name != f.entity : !MatchesEntity(e, f)) return false;
  }
  if (f.has_scope && scopes_[Scope(r)].name != f.scope) return false;
  const uint16_t kind = Kind(r);
  if (f.kind_mode == RegionFilter::Kind::kExact && kind != f.kind) return false;
  if (f.kind_mode == RegionFilter::Kind::kCategory && (kind >> 12) != f.kind) return false;
  if (f.has_clock && (Clock(r) < f.clock_from || Clock(r) > f.clock_to)) return false;
  if (f.has_time && (Timestamp(r) < f.time_from_us || Timestamp(r) > f.time_to_us)) return false;
  if (!HasKind(f, kind)) return false;
  if (!f.tags.empty()) {
    const IndexSegmentList* l = Segments();
    if (!l) return false;
    for (const auto& key : f.tags)
      if (!RowHasTag(*l->Of(r), r, key.data())) return false;
  }
  return !f.has_occurred || OccurredWithin(r, f, Timestamp(r));
}

bool Index::MakePlan(const RegionFilter& f, Row n, Plan* p) const {
  p->f = &f;
  p->n = n;
  if (f.has_scope && (p->scope_id = FindScope(f.scope)) == kNoId) return false;
  if (!f.has_entity) return true;
  p->entity_match.assign(entity_count(), 0);
  if (f.exact_entity) {
    const uint32_t e = FindEntity(f.entity);
    if (e == kNoId) return false;
    p->entity_match[e] = 1;
    p->entities.push_back(e);
    return true;
  }
  for (uint32_t e = 0; e < p->entity_match.size(); e++)
    if (MatchesEntity(e, f)) {
      p->entity_match[e] = 1;
      p->entities.push_back(e);
    }
  return !p->entities.empty();
}

bool Index::PickFile(const Plan& p, Candidates* c) const {
  const RegionFilter& f = *p.f;
  const IndexPart& file = *c->seg->file;
  bool picked = false;
  auto take = [&](RowSpan s, bool entity, int tag) {
    if (picked && s.n >= c->span.n) return;
    picked = true;
    c->type = Candidates::Type::kSpan;
    c->span = s;
    c->entity_list = entity;
    c->tag = tag;
  };
  if (f.has_scope) {
    const int64_t s = file.FindScope(f.scope);
    if (s < 0) return false;
    c->local_scope = static_cast<uint32_t>(s);
    take(file.ScopeRows(c->local_scope), false, -1);
  }
  for (size_t i = 0; i < f.tags.size(); i++) {
    const RowSpan s = file.TagRows(f.tags[i].data());
    if (s.n == 0) return false;
    take(s, false, static_cast<int>(i));
  }
  if (f.kind_mode == RegionFilter::Kind::kExact || f.kinds.size() == 1) {
    const uint16_t k = f.kind_mode == RegionFilter::Kind::kExact ? f.kind : f.kinds[0];
    const RowSpan s = file.KindRows(k);
    if (s.n == 0) return false;
    take(s, false, -1);
  }
  if (f.has_entity) {
    std::vector<uint32_t> locals;
    if (f.exact_entity) {
      const int64_t e = file.FindEntity(f.entity);
      if (e < 0) return false;
      locals.push_back(static_cast<uint32_t>(e));
    } else {
      // Names sort by bytes: the entity, then (after other names, perhaps) a run of "entity:...".
      const int64_t e = file.FindEntity(f.entity);
      if (e >= 0) locals.push_back(static_cast<uint32_t>(e));
      const std::string prefix = f.entity + ":";
      for (uint32_t i = file.EntityLowerBound(prefix); i < file.entity_count(); i++) {
        const std::string_view name = file.EntityName(i);
        if (name.compare(0, prefix.size(), prefix) != 0) break;
        locals.push_back(i);
      }
    }
    if (locals.empty()) return false;
    if (locals.size() == 1) {
      take(file.EntityRows(locals[0]), true, -1);
    } else {
      uint64_t total = 0;
      for (uint32_t e : locals) total += file.EntityRows(e).n;
      if (!picked || total < c->span.n) {
        for (uint32_t e : locals)
          for (uint32_t r : file.EntityRows(e)) c->merged.push_back(c->first + r);
        c->UseMerged();
        return true;
      }
    }
  }
  if (!picked && f.kinds.size() >= 2) {
    for (uint16_t k : f.kinds)
      for (uint32_t r : file.KindRows(k)) c->merged.push_back(c->first + r);
    if (c->merged.empty()) return false;
    c->UseMerged();
  }
  return true;
}

bool Index::PickMemory(const Plan& p, Candidates* c) const {
  const RegionFilter& f = *p.f;
  const IndexSegment& s = *c->seg;
  bool picked = false;
  auto take = [&](const RowList* l, bool entity, int tag) {
    if (picked && l->size() >= c->list->size()) return;
    picked = true;
    c->type = Candidates::Type::kList;
    c->list = l;
    c->entity_list = entity;
    c->tag = tag;
  };
  uint8_t key[16];
  if (f.has_scope) {
    IndexSegment::IdKey(p.scope_id, key);
    const RowList* l = s.scopes.Find(key);
    if (!l) return false;
    take(l, false, -1);
  }
  for (size_t i = 0; i < f.tags.size(); i++) {
    const RowList* l = s.tags.Find(f.tags[i].data());
    if (!l) return false;
    take(l, false, static_cast<int>(i));
  }
  if (f.kind_mode == RegionFilter::Kind::kExact || f.kinds.size() == 1) {
    IndexSegment::KindKey(f.kind_mode == RegionFilter::Kind::kExact ? f.kind : f.kinds[0], key);
    const RowList* l = s.kinds.Find(key);
    if (!l) return false;
    take(l, false, -1);
  }
  if (f.has_entity) {
    std::vector<const RowList*> lists;
    uint64_t total = 0;
    for (uint32_t e : p.entities) {
      IndexSegment::IdKey(e, key);
      if (const RowList* l = s.entities.Find(key)) {
        lists.push_back(l);
        total += l->size();
      }
    }
    if (lists.empty()) return false;
    if (lists.size() == 1) {
      take(lists[0], true, -1);
    } else if (!picked || total < c->list->size()) {
      for (const RowList* l : lists) l->AppendTo(&c->merged);
      c->UseMerged();
      return true;
    }
  }
  if (!picked && f.kinds.size() >= 2) {
    for (uint16_t k : f.kinds) {
      IndexSegment::KindKey(k, key);
      if (const RowList* l = s.kinds.Find(key)) l->AppendTo(&c->merged);
    }
    if (c->merged.empty()) return false;
    c->UseMerged();
  }
  return true;
}

bool Index::Keep(Row r, const Plan& p, const Candidates& c) const {
  const RegionFilter& f = *p.f;
  const IndexPart* file = c.seg->file.get();
  const uint32_t lr = r - c.first;
  const uint64_t seq = file ? file->Sequence(lr) : sequence_[r];
  if (seq < f.after_sequence || seq >= f.before_sequence) return false;
  if (f.has_entity && !p.entity_match[file ? c.seg->entity_of[file->Entity(lr)] : entity_[r]]) return false;
  if (f.has_scope && (file ? file->Scope(lr) != c.local_scope : scope_[r] != p.scope_id)) return false;
  const uint16_t kind = file ? file->Kind(lr) : kind_[r];
  if (f.kind_mode == RegionFilter::Kind::kExact && kind != f.kind) return false;
  if (f.kind_mode == RegionFilter::Kind::kCategory && (kind >> 12) != f.kind) return false;
  if (f.has_clock) {
    const uint32_t clock = file ? file->Clock(lr) : clock_[r];
    if (clock < f.clock_from || clock > f.clock_to) return false;
  }
  const int64_t ts = file ? file->Timestamp(lr) : timestamp_[r];
  if (f.has_time && (ts < f.time_from_us || ts > f.time_to_us)) return false;
  if (!HasKind(f, kind)) return false;
  for (size_t i = 0; i < f.tags.size(); i++)
    if (static_cast<int>(i) != c.tag && !RowHasTag(*c.seg, r, f.tags[i].data())) return false;
  return !f.has_occurred || OccurredWithin(r, f, ts);
}

Status Index::Query(const RegionFilter& f, std::vector<Row>* out) const {
  out->clear();
  // Everything below is bounded by the rows published when the query began.
  const Row n = visible();
  return f.any_of.empty() ? QueryUpTo(f, n, out) : QueryAnyOf(f, n, out);
}

Status Index::QueryUpTo(const RegionFilter& f, Row n, std::vector<Row>* out) const {
  Plan p;
  const IndexSegmentList* l = Segments();
  if (!l || n == 0 || f.limit == 0 || !MakePlan(f, n, &p)) return Status::OK();
  const size_t count = l->segs.size();
  for (size_t k = 0; k < count; k++) {
    const size_t i = f.reverse ? count - 1 - k : k;
    Candidates c;
    c.seg = l->segs[i].get();
    c.first = c.seg->first;
    c.end = SegmentEnd(*l, i, n);
    if (c.first >= c.end) continue;
    // Segments wholly outside the sequence bounds are passed without a look
    // inside (a file's header has its first and last sequence).
    const IndexPart* file = c.seg->file.get();
    const uint64_t lo = file ? file->first_sequence() : sequence_[c.first];
    const uint64_t hi = file ? file->last_sequence() : sequence_[c.end - 1];
    if (hi < f.after_sequence || lo >= f.before_sequence) continue;
    CW_RETURN_IF_ERROR(EnsureSegment(*c.seg));
    if (!(file ? PickFile(p, &c) : PickMemory(p, &c))) continue;
    if (!(f.reverse ? WalkReverse(p, c, out) : WalkForward(p, c, out))) break;
  }
  return Status::OK();
}

Status Index::QueryAnyOf(const RegionFilter& f, Row n, std::vector<Row>* out) const {
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
    CW_RETURN_IF_ERROR(QueryUpTo(g, n, &part));
    out->insert(out->end(), part.begin(), part.end());
  }
  if (f.reverse) std::sort(out->begin(), out->end(), std::greater<Row>());
  else std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
  if (out->size() > f.limit) out->resize(f.limit);
  return Status::OK();
}

}  // namespace causeway
