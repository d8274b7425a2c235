// What a spinning side of a writer-link channel does at each yield point
// (channel_spin.cc): yield, skip the yield, or move off this CPU to part from
// the other side. Pure bookkeeping on times the caller passes in, so the
// core tests can drive it.
//
// Why. A spinning side yields now and then: a machine may have fewer cores
// than busy threads, and on one CPU the other side runs only when this one
// yields. A yield is a system call, though, so after one that came back at
// once (nobody else wanted this CPU) the next millisecond's are skipped.
// And a doorbell puts the woken side on the ringer's CPU (a Unix socket
// wakes its reader with a sync wake-up): two spinning sides there take
// turns, a round trip per turn, while another CPU idles, and the balancer
// never parts them, as each ran moments ago. So the writer's side, finding
// the client on its CPU, moves itself off that CPU (its affinity without it,
// then back; where that fails, a short sleep asking for no doorbell, whose
// timer wake-up puts it on an idle CPU if there is one). If it is still on
// the same CPU afterwards, it stops trying for a while. The client's side
// only yields its turn: if both moved at once they could meet again.
#pragma once

#include <chrono>

namespace causeway::link {

enum class SpinStep {
  kYield,  // sched_yield, then report the time it took to Yielded
  kSkip,   // nothing: nobody else wanted this CPU a moment ago
  kPart,   // move off this CPU (channel_spin.cc), then report to Parted: the other side spins on it
};

class SpinPolicy {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr auto kEmptyYield = std::chrono::microseconds(5);  // a shorter yield ran nobody else
  static constexpr auto kQuiet = std::chrono::milliseconds(1);       // yields skipped after an empty one
  static constexpr auto kPartingSleep = std::chrono::microseconds(20);  // where moving fails
  static constexpr auto kNoParting = std::chrono::milliseconds(10);  // after a parting that failed

  // `several`: this process may run on more than one CPU. `together`: the
  // other side was last seen spinning on this side's CPU. `may_part`: this
  // side is the one that parts (the writer's: only one side moves).
  SpinStep Next(Clock::time_point now, bool several, bool together, bool may_part) {
    // On one CPU the other side runs only when this one yields: always yield.
    if (!several) return SpinStep::kYield;
    if (together && may_part && now >= no_parting_until_) return SpinStep::kPart;
    // Together but no parting now: yield, so the other side gets its turn.
    return !together && now < quiet_until_ ? SpinStep::kSkip : SpinStep::kYield;
  }

  // A kYield that started at `start` took `took`.
  void Yielded(Clock::time_point start, Clock::duration took) {
    if (took < kEmptyYield) quiet_until_ = start + kQuiet;
  }

  // A kPart ended at `now`, on another CPU (`moved`) or not: then parting
  // is not tried again for a while.
  void Parted(Clock::time_point now, bool moved) {
    if (!moved) no_parting_until_ = now + kNoParting;
  }

 private:
  Clock::time_point quiet_until_{};
  Clock::time_point no_parting_until_{};
};

}  // namespace causeway::link
