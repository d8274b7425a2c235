// cond_var.h: pthread on Linux and macOS, std::condition_variable on Windows.
#include "cond_var.h"

#include <chrono>
#include <cstdlib>
#include <ctime>

namespace causeway {

uint64_t MonotonicMillis() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

#if defined(_WIN32)

CondVar::CondVar() = default;
CondVar::~CondVar() = default;
void CondVar::NotifyOne() { cv_.notify_one(); }
void CondVar::NotifyAll() { cv_.notify_all(); }
void CondVar::WaitFor(std::unique_lock<std::mutex>& lock, uint32_t ms) {
  cv_.wait_for(lock, std::chrono::milliseconds(ms));
}
void CondVar::WaitForMicros(std::unique_lock<std::mutex>& lock, uint64_t us) {
  cv_.wait_for(lock, std::chrono::microseconds(us));
}

#else

// glibc 2.34 moved the pthread functions from libpthread into libc under a
// new symbol version; binding this one to the version it had in libpthread
// (which glibc 2.34+ keeps as an alias, and which Node loads on older glibc)
// keeps the binary loading on glibc 2.28 (glibc_floor.cc says why). The
// other pthread calls here are versioned GLIBC_2.3.2 in libc already.
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
#if defined(__x86_64__)
__asm__(".symver pthread_condattr_setclock,pthread_condattr_setclock@GLIBC_2.3.3");
#elif defined(__aarch64__)
__asm__(".symver pthread_condattr_setclock,pthread_condattr_setclock@GLIBC_2.17");
#endif
#endif

CondVar::CondVar() {
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
#if !defined(__APPLE__)
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
#endif
  // Fails only for want of memory or a bad attribute: nothing to go on with.
  if (pthread_cond_init(&cv_, &attr) != 0) std::abort();
  pthread_condattr_destroy(&attr);
}

CondVar::~CondVar() { pthread_cond_destroy(&cv_); }
void CondVar::NotifyOne() { pthread_cond_signal(&cv_); }
void CondVar::NotifyAll() { pthread_cond_broadcast(&cv_); }

void CondVar::WaitFor(std::unique_lock<std::mutex>& lock, uint32_t ms) { WaitForMicros(lock, uint64_t(ms) * 1000); }

void CondVar::WaitForMicros(std::unique_lock<std::mutex>& lock, uint64_t us) {
  const uint64_t ns = us * 1000;
  // libstdc++ and libc++ both hand back the pthread_mutex_t* behind std::mutex.
  pthread_mutex_t* m = lock.mutex()->native_handle();
#if defined(__APPLE__)
  timespec rel;
  rel.tv_sec = static_cast<time_t>(ns / 1000000000);
  rel.tv_nsec = static_cast<long>(ns % 1000000000);
  pthread_cond_timedwait_relative_np(&cv_, m, &rel);
#else
  timespec at;
  clock_gettime(CLOCK_MONOTONIC, &at);
  at.tv_sec += static_cast<time_t>(ns / 1000000000);
  at.tv_nsec += static_cast<long>(ns % 1000000000);
  if (at.tv_nsec >= 1000000000) {
    at.tv_sec += 1;
    at.tv_nsec -= 1000000000;
  }
  pthread_cond_timedwait(&cv_, m, &at);
#endif
}

#endif

}  // namespace causeway
