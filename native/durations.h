// Recent durations of one kind of operation (syncs, segment rolls), kept for
// the metrics the TypeScript layer folds into its histograms: the last
// kSlots samples in a ring, and how many were ever added. Not thread-safe:
// the owner guards it (the store's mu_).
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <vector>

namespace causeway {

// Microseconds on a monotonic clock, for durations only.
inline int64_t MonoMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class DurationLog {
 public:
  static constexpr uint64_t kSlots = 1024;

  void Add(int64_t micros) {
    slots_[count_ % kSlots] = static_cast<uint32_t>(std::clamp<int64_t>(micros, 0, UINT32_MAX));
    count_++;
  }
  uint64_t count() const { return count_; }
  // Appends the samples numbered `from` and later to *out, at most the newest
  // kSlots (older ones were overwritten); returns the count, the next `from`.
  uint64_t Since(uint64_t from, std::vector<uint32_t>* out) const {
    uint64_t first = std::max(from, count_ > kSlots ? count_ - kSlots : 0);
    for (uint64_t i = first; i < count_; i++) out->push_back(slots_[i % kSlots]);
    return count_;
  }

 private:
  std::array<uint32_t, kSlots> slots_{};
  uint64_t count_ = 0;
};

// What Store::Metrics reports: counters since the open, and the durations
// (microseconds) of syncs and rolls numbered from the caller's cursors on.
struct MetricsReport {
  uint64_t syncs = 0, sync_errors = 0, rolls = 0;
  uint64_t sync_next = 0, roll_next = 0;  // the cursors to pass next time
  std::vector<uint32_t> sync_us, roll_us;
};

}  // namespace causeway
