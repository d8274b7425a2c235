// Progress and cancellation for long operations (compaction, snapshot) run
// off the caller's thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

namespace causeway {

// How far a long operation got, in bytes: `done` never decreases and ends at
// `total`. Called from the thread running the operation, at most every
// kProgressStep bytes (and once at the end).
using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

constexpr uint64_t kProgressStep = 4u << 20;

struct LongOpControl {
  ProgressFn progress;  // may be empty
  // Set by another thread to ask the operation to stop; checked between
  // frames and segments, and only before the operation's commit point.
  // "*cancel" must outlive the operation. May be null.
  const std::atomic<bool>* cancel = nullptr;

  // Relaxed: the flag carries no data; a late observation only costs one more step.
  bool CancelRequestedRelaxed() const { return cancel && cancel->load(std::memory_order_relaxed); }
  void Report(uint64_t done, uint64_t total) const {
    if (progress) progress(done, total);
  }
};

}  // namespace causeway
