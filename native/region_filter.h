// What a region query asks of the index (Index::Query): entity, scope,
// kinds, clocks, times, tags and sequence bounds, or a DCB union of items.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace causeway {

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
  uint64_t before_sequence = UINT64_MAX;  // only rows with sequence < this
  uint64_t limit = UINT64_MAX;
  // Newest first: the walk starts at the end of the candidate rows (before
  // before_sequence) and goes back, so a limit reads only the rows it returns.
  bool reverse = false;
  std::vector<uint16_t> kinds;                // any one of these kinds (empty: any kind)
  std::vector<std::array<uint8_t, 16>> tags;  // every one of these tags (keys from Index::TagKey)
  // Event time (an extension's occurred-at, else the record timestamp), inclusive.
  bool has_occurred = false;
  int64_t occurred_from_us = 0, occurred_to_us = 0;
  // A DCB query: when set, a row matches if it matches any one item, and
  // only the bounds above (sequences, limit, reverse) apply to the whole;
  // the other parts of this filter are ignored. Items have no any_of.
  std::vector<RegionFilter> any_of;
};

}  // namespace causeway
