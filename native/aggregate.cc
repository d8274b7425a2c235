// The cells of a windowed aggregation (aggregate.h).
#include "aggregate.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "msgpack_field.h"

namespace causeway {

Status CheckAggregateSpec(const AggregateSpec& spec) {
  if (spec.size_us <= 0) return Status::InvalidArgument("window size must be positive");
  if (spec.step_us <= 0) return Status::InvalidArgument("window step must be positive");
  if (spec.step_us > spec.size_us) return Status::InvalidArgument("window step must not exceed the window size");
  // Each event is added to size / step windows: bounded, so one call's work is.
  if (spec.size_us / spec.step_us > kMaxWindowsPerEvent)
    return Status::InvalidArgument("a sliding window may overlap at most " + std::to_string(kMaxWindowsPerEvent) + " others");
  for (const auto& path : spec.fields) {
    if (path.empty() || path.size() > kMaxFieldPathDepth)
      return Status::InvalidArgument("a field path needs 1.." + std::to_string(kMaxFieldPathDepth) + " keys");
    for (const auto& key : path)
      if (key.empty()) return Status::InvalidArgument("a field path has an empty key");
  }
  return Status::OK();
}

Aggregator::Aggregator(const AggregateSpec& spec) : spec_(spec), fields_(spec.fields.size()) {
  if (spec_.group == AggregateGroup::kNone) Group("");
}

uint32_t Aggregator::Group(std::string_view name) {
  auto it = group_ids_.find(std::string(name));
  if (it != group_ids_.end()) return it->second;
  const uint32_t id = uint32_t(groups_.size());
  groups_.emplace_back(name);
  group_ids_.emplace(std::string(name), id);
  return id;
}

uint32_t Aggregator::Cell(int64_t window, uint32_t group) {
  const Key k{window, group};
  if (k == last_) return last_cell_;
  auto [it, added] = cells_.try_emplace(k, uint32_t(keys_.size()));
  if (added) {
    keys_.push_back(k);
    counts_.push_back(0);
    for (size_t i = 0; i < fields_; i++) {
      stats_.push_back(0);
      stats_.push_back(0);
      stats_.push_back(std::numeric_limits<double>::infinity());
      stats_.push_back(-std::numeric_limits<double>::infinity());
    }
  }
  last_ = k;
  last_cell_ = it->second;
  return it->second;
}

void Aggregator::Add(int64_t t, uint32_t g, const double* values, const uint8_t* has) {
  // Windows start at multiples of the step (from the Unix epoch) and hold
  // [start, start + size): t is in those whose start is in (t - size, t].
  int64_t hi, lo;
  if (spec_.step_us == spec_.size_us) {
    if (t < last_from_ || t >= last_to_) {
      last_window_ = FloorDiv(t, spec_.step_us);
      last_from_ = last_window_ * spec_.step_us;
      last_to_ = last_from_ + spec_.step_us;
    }
    hi = lo = last_window_;
  } else {
    hi = FloorDiv(t, spec_.step_us);
    lo = FloorDiv(t - spec_.size_us, spec_.step_us) + 1;
  }
  for (int64_t w = lo; w <= hi; w++) {
    const uint32_t c = Cell(w, g);
    counts_[c] += 1;
    double* s = stats_.data() + size_t(c) * 4 * fields_;
    for (size_t i = 0; i < fields_; i++, s += 4) {
      if (!has[i]) continue;
      s[0] += 1;
      s[1] += values[i];
      s[2] = std::min(s[2], values[i]);
      s[3] = std::max(s[3], values[i]);
    }
  }
}

void Aggregator::Finish(AggregateResult* out) {
  std::vector<uint32_t> order(keys_.size());
  std::iota(order.begin(), order.end(), 0);
  // Groups by name, so the order does not depend on which was seen first.
  std::vector<uint32_t> rank(groups_.size());
  std::vector<uint32_t> by_name(groups_.size());
  std::iota(by_name.begin(), by_name.end(), 0);
  std::sort(by_name.begin(), by_name.end(), [&](uint32_t a, uint32_t b) { return groups_[a] < groups_[b]; });
  for (uint32_t i = 0; i < by_name.size(); i++) rank[by_name[i]] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (keys_[a].window != keys_[b].window) return keys_[a].window < keys_[b].window;
    return rank[keys_[a].group] < rank[keys_[b].group];
  });
  out->groups = groups_;
  out->fields = fields_;
  out->starts.reserve(order.size());
  for (uint32_t c : order) {
    out->starts.push_back(keys_[c].window * spec_.step_us);
    out->cell_groups.push_back(keys_[c].group);
    out->counts.push_back(counts_[c]);
    const double* s = stats_.data() + size_t(c) * 4 * fields_;
    out->stats.insert(out->stats.end(), s, s + 4 * fields_);
  }
}

}  // namespace causeway
