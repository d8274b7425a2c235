// Channel::YieldCpu: what a spinning side of the writer-link channel does at
// a yield point, as native/spin_policy.h decides, and the CPU calls it needs.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "link_channel.h"

#if defined(__linux__)
#include <sched.h>
#endif

namespace causeway::link {

namespace {

using Clock = SpinPolicy::Clock;

// Whether this process may run on more than one CPU (its affinity mask).
bool SeveralCpus() {
#if defined(__linux__)
  static const bool several = [] {
    cpu_set_t set;
    return sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 1;
  }();
  return several;
#else
  return false;
#endif
}

// Each side notes its CPU plus one (0: not known, as from an older build).
// Relaxed (all): hints; a stale value costs one parting or one turn.
uint32_t NoteCpu(std::atomic<uint32_t>& mine) {
#if defined(__linux__)
  const int cpu = sched_getcpu();
  const uint32_t me = cpu >= 0 ? static_cast<uint32_t>(cpu) + 1 : 0;
  mine.store(me, std::memory_order_relaxed);
  return me;
#else
  (void)mine;
  return 0;
#endif
}

// Moves the calling thread off `cpu` at once: its affinity without that CPU
// (the kernel migrates it before returning), then its affinity as it was,
// which leaves it where it is. False if the thread could not be moved.
bool MoveOffCpu(int cpu) {
#if defined(__linux__)
  cpu_set_t was, others;
  if (sched_getaffinity(0, sizeof was, &was) != 0) return false;
  others = was;
  CPU_CLR(cpu, &others);
  if (CPU_COUNT(&others) == 0 || sched_setaffinity(0, sizeof others, &others) != 0) return false;
  (void)sched_setaffinity(0, sizeof was, &was);
  return true;
#else
  (void)cpu;
  return false;
#endif
}

}  // namespace

void Channel::YieldCpu(std::atomic<uint32_t>& mine, const std::atomic<uint32_t>& other, bool may_part) {
  const auto now = Clock::now();
  const bool several = SeveralCpus();
  const uint32_t me = several ? NoteCpu(mine) : 0;
  const bool together = me != 0 && other.load(std::memory_order_relaxed) == me;
  switch (spin_.Next(now, several, together, may_part)) {
    case SpinStep::kSkip:
      return;
    case SpinStep::kPart:
      // Where moving fails, a short sleep asking for no doorbell: a timer's
      // wake-up puts this thread on an idle CPU if there is one.
      if (!MoveOffCpu(static_cast<int>(me) - 1)) std::this_thread::sleep_for(SpinPolicy::kPartingSleep);
      spin_.Parted(Clock::now(), NoteCpu(mine) != me);
      return;
    case SpinStep::kYield:
      std::this_thread::yield();
      spin_.Yielded(now, Clock::now() - now);
      return;
  }
}

}  // namespace causeway::link
