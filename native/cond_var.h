// A condition variable for std::mutex whose timed waits count on the
// monotonic clock, so a step of the wall clock neither stretches nor cuts
// the flusher's sync cadence or a group-commit wait.
//
// Why not std::condition_variable: with GCC 12's libstdc++ its steady-clock
// waits call pthread_cond_clockwait (glibc 2.34) and its untimed wait is
// versioned GLIBCXX_3.4.30, either of which would raise the glibc or
// libstdc++ the prebuilt Linux binary needs above Node 20's own (glibc 2.28).
// POSIX: a pthread condition on CLOCK_MONOTONIC (pthread_condattr_setclock,
// glibc 2.3.3), or pthread_cond_timedwait_relative_np on macOS, which has no
// setclock. Windows: std::condition_variable.
#pragma once

#include <cstdint>
#include <mutex>

#if defined(_WIN32)
#include <condition_variable>
#else
#include <pthread.h>
#endif

namespace causeway {

class CondVar {
 public:
  CondVar();
  ~CondVar();
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  void NotifyOne();
  void NotifyAll();
  // Waits, with `lock` held on entry and on return, until notified, `ms`
  // milliseconds have passed, or a spurious wake-up: callers re-check.
  void WaitFor(std::unique_lock<std::mutex>& lock, uint32_t ms);
  // The same, in microseconds (a group commit gathering its waiters).
  void WaitForMicros(std::unique_lock<std::mutex>& lock, uint64_t us);

 private:
#if defined(_WIN32)
  std::condition_variable cv_;
#else
  pthread_cond_t cv_;
#endif
};

// Milliseconds on the monotonic clock, for deadlines across several waits.
uint64_t MonotonicMillis();

}  // namespace causeway
