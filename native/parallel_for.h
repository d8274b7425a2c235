// Runs fn(i) for i in [0, n) on up to `threads` threads (the caller's
// included), each taking the next index from a shared counter. For work
// that waits on the disk (an open mapping hundreds of files whose first
// pages are not cached): several reads in flight at once instead of one.
// fn must be safe to call concurrently for different i.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace causeway {

// How many files an open reads the first pages of at once (segments', index files' headers).
constexpr size_t kOpenThreads = 8;

template <typename Fn>
void ParallelFor(size_t n, size_t threads, Fn&& fn) {
  // Relaxed: each index is claimed once; join() orders the results for the caller.
  std::atomic<size_t> next{0};
  auto run = [&] {
    for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) fn(i);
  };
  std::vector<std::thread> pool;
  const size_t extra = std::min(threads, n / 8) > 0 ? std::min(threads, n / 8) - 1 : 0;  // small n: inline
  for (size_t t = 0; t < extra; t++) pool.emplace_back(run);
  run();
  for (auto& t : pool) t.join();
}

}  // namespace causeway
