// Windowed aggregation: events fall into time windows (tumbling, or sliding
// with a step) and optional groups; each (window, group) cell keeps a count
// and, per payload field, how many numeric values it saw and their sum,
// minimum and maximum (avg is sum / n, worked out by the caller). Pure
// arithmetic over what the store feeds it; the walk over the log is
// Store::Aggregate (aggregate_store.cc).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "status.h"

namespace causeway {

enum class AggregateTime : uint8_t { kRecord, kEvent };  // the record timestamp, or occurred-at
enum class AggregateGroup : uint8_t { kNone, kKind, kScope, kEntityPrefix, kTag };

// Most windows one event may fall into (size / step of a sliding window).
constexpr int64_t kMaxWindowsPerEvent = 10000;

struct AggregateSpec {
  int64_t size_us = 0;  // window length
  int64_t step_us = 0;  // distance between window starts; size_us for tumbling windows
  AggregateTime time = AggregateTime::kRecord;
  AggregateGroup group = AggregateGroup::kNone;
  std::string tag_prefix;                        // kTag: group by each tag starting with this
  std::vector<std::vector<std::string>> fields;  // payload paths, each a list of map keys
};

// InvalidArgument when the spec cannot be run (size or step not positive,
// step over size, a field path empty, too deep or with an empty key).
Status CheckAggregateSpec(const AggregateSpec& spec);

// The cells, sorted by window start then group. Per cell: window start
// (µs), group index into `groups` (0 when ungrouped), count, and for each
// field 4 numbers in `stats`: values seen, sum, min, max.
struct AggregateResult {
  std::vector<std::string> groups;
  std::vector<int64_t> starts;
  std::vector<uint32_t> cell_groups;
  std::vector<double> counts;
  std::vector<double> stats;
  size_t fields = 0;
};

class Aggregator {
 public:
  explicit Aggregator(const AggregateSpec& spec);
  // The index of a group name, added on first sight.
  uint32_t Group(std::string_view name);
  // One event at time t (µs) in group g; values[i] is field i's number when has[i].
  void Add(int64_t t, uint32_t g, const double* values, const uint8_t* has);
  void Finish(AggregateResult* out);

 private:
  struct Key {
    int64_t window;
    uint32_t group;
    bool operator==(const Key& o) const { return window == o.window && group == o.group; }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      uint64_t h = uint64_t(k.window) * 0x9e3779b97f4a7c15ull ^ (uint64_t(k.group) * 0xc2b2ae3d27d4eb4full);
      return size_t(h ^ (h >> 31));
    }
  };
  uint32_t Cell(int64_t window, uint32_t group);
  static int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

  const AggregateSpec spec_;
  const size_t fields_;
  std::unordered_map<std::string, uint32_t> group_ids_;
  std::vector<std::string> groups_;
  std::unordered_map<Key, uint32_t, KeyHash> cells_;
  std::vector<Key> keys_;
  std::vector<double> counts_;
  std::vector<double> stats_;  // 4 per field per cell
  // Consecutive events mostly land in the same cell: the last one is kept.
  Key last_{INT64_MIN, 0};
  uint32_t last_cell_ = 0;
  // Tumbling windows: the times [from, to) of window last_window_, so an
  // event inside it needs no division.
  int64_t last_from_ = 1, last_to_ = 0, last_window_ = 0;
};

}  // namespace causeway
