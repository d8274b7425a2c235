// A region query's working state (index_query.cc and index_walk.cc).
#pragma once

#include <algorithm>
#include <vector>

#include "index.h"

namespace causeway {

// What the whole query needs, worked out once.
struct Index::Plan {
  const RegionFilter* f = nullptr;
  Row n = 0;                          // rows published when the query began
  std::vector<uint8_t> entity_match;  // by entity id, when the filter names entities
  std::vector<uint32_t> entities;     // the entities that match, ascending
  uint32_t scope_id = kNoId;
};

// One segment's candidates: rows [first, end) of it, narrowed to a list.
struct Index::Candidates {
  const IndexSegment* seg = nullptr;
  Row first = 0, end = 0;
  enum class Type { kAll, kSpan, kList, kMerged } type = Type::kAll;
  RowSpan span;                  // kSpan: the file's local rows
  const RowList* list = nullptr;  // kList: rows in memory
  std::vector<Row> merged;        // kMerged: rows, sorted
  bool entity_list = false;       // one entity's rows: clocks ascend with them
  int tag = -1;                   // the candidates are tag f.tags[tag]'s: it needs no check
  uint32_t local_scope = kNoId;   // a file's number for the filter's scope
  // The rows gathered in `merged` (several lists' union) become the candidates.
  void UseMerged() {
    std::sort(merged.begin(), merged.end());
    type = Type::kMerged;
    tag = -1;
    entity_list = false;
  }
  uint64_t size() const {
    switch (type) {
      case Type::kSpan: return span.n;
      case Type::kList: return list->size();
      case Type::kMerged: return merged.size();
      default: return end - first;
    }
  }
};

}  // namespace causeway
