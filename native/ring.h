// BroadcastRing: a lossy single-producer, multi-consumer ring of u64 values
// (the writer publishes each appended event's global sequence). Consumers
// keep their own position; one that falls more than kCapacity behind is told
// it lagged and skips ahead. The producer never waits for a consumer.
//
// Algorithm (a per-slot seqlock, after rigtorp's ring layout):
//  1. The producer writing message i stores slot[i % cap].turn = 2i + 1
//     (odd: being written), then the value, then turn = 2i + 2 (even: holds
//     message i), then head = i + 1.
//  2. A consumer at position p with p < head reads turn, the value, and turn
//     again. Both reads equal to 2p + 2: the value is message p. Anything
//     else: message p was overwritten, the consumer lagged.
//  3. head - p > cap is known lag without touching a slot.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>

#include "warm_ahead.h"

namespace causeway {

class BroadcastRing {
 public:
  static constexpr size_t kCacheLine = 64;

  explicit BroadcastRing(size_t capacity) : capacity_(capacity), slots_(ResidentArray<Slot>::New(capacity)) {}  // 4 MiB by default: not 1,024 faults at every open
  BroadcastRing(const BroadcastRing&) = delete;
  BroadcastRing& operator=(const BroadcastRing&) = delete;

  size_t capacity() const { return capacity_; }

  // Number of messages ever published. Acquire: pairs with the release in
  // Publish so every slot below the returned head is fully written.
  uint64_t head() const { return head_.load(std::memory_order_acquire); }

  // REQUIRES: one producer at a time (the store's writer).
  void Publish(uint64_t value) { PublishRange(value, 1); }

  // Publishes the n values first, first + 1, ...: consumers see all of them
  // or none (head moves once). Same producer rule.
  void PublishRange(uint64_t first, uint64_t n) {
    const uint64_t i = head_.load(std::memory_order_relaxed);  // only the producer writes head_
    for (uint64_t k = 0; k < n; k++) WriteSlot(i + k, first + k);
    // Release: a consumer that reads the new head finds the slots complete.
    head_.store(i + n, std::memory_order_release);
  }

  enum class Read { kOk, kEmpty, kLagged };

  // Reads message `pos` into *out. kEmpty: not yet published. kLagged: overwritten.
  [[nodiscard]] Read TryRead(uint64_t pos, uint64_t* out) const {
    const uint64_t h = head();
    if (pos >= h) return Read::kEmpty;
    if (h - pos > capacity_) return Read::kLagged;
    const Slot& s = slots_[pos % capacity_];
    // Acquire: pairs with the producer's release of the even turn.
    const uint64_t t1 = s.turn.load(std::memory_order_acquire);
    const uint64_t v = s.value.load(std::memory_order_relaxed);
    // Acquire fence: the value read above happens before the re-read of turn.
    std::atomic_thread_fence(std::memory_order_acquire);
    const uint64_t t2 = s.turn.load(std::memory_order_relaxed);
    if (t1 != 2 * pos + 2 || t2 != t1) return Read::kLagged;
    *out = v;
    return Read::kOk;
  }

 private:
  struct alignas(kCacheLine) Slot {
    std::atomic<uint64_t> turn;
    std::atomic<uint64_t> value;
  };
  void WriteSlot(uint64_t i, uint64_t value) {
    Slot& s = slots_[i % capacity_];
    // Relaxed store then a release fence: the odd turn is visible before the
    // new value can be (a consumer seeing the new value sees the odd turn).
    s.turn.store(2 * i + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    s.value.store(value, std::memory_order_relaxed);
    // Release: a consumer that reads this even turn also reads the value.
    s.turn.store(2 * i + 2, std::memory_order_release);
  }
  const size_t capacity_;
  ResidentArray<Slot>::Ptr slots_;
  // head_ sits on its own cache line: consumers poll it while the producer fills slots.
  alignas(kCacheLine) std::atomic<uint64_t> head_{0};
};

static_assert(sizeof(std::atomic<uint64_t>) == 8, "lock-free 64-bit atomics required");

}  // namespace causeway

namespace causeway {

// AppendRing: a bounded multi-producer, single-consumer ring of pointers,
// through which producers (appending threads) reserve their place in the
// log without a lock. The consumer is whichever producer currently holds
// the combiner role (see Store::AppendBatch); it applies requests in ticket
// order, which is the order of the global sequence.
//
// Algorithm (rigtorp's MPMC turn counters, with one consumer):
//  1. A producer takes a ticket t = tail_++ (an atomic RMW: no two share one).
//  2. It waits for slot t % cap to be free for lap t / cap (turn == 2 * lap),
//     stores its pointer, then publishes turn = 2 * lap + 1.
//  3. The consumer, at head h, takes the slot when turn == 2 * (h / cap) + 1,
//     then frees it for the next lap (turn = 2 * (h / cap) + 2) and moves on.
template <typename T>
class AppendRing {
 public:
  static constexpr size_t kCacheLine = 64;

  explicit AppendRing(size_t capacity) : capacity_(capacity), slots_(new Slot[capacity]) {
    for (size_t i = 0; i < capacity_; i++) slots_[i].turn.store(0, std::memory_order_relaxed);
  }
  AppendRing(const AppendRing&) = delete;
  AppendRing& operator=(const AppendRing&) = delete;

  // Blocks (spinning, then yielding) only while the ring is full.
  void Push(T* item) {
    // seq_cst: the combiner's "anything claimed?" check (Claimed) must see this ticket.
    const uint64_t t = tail_.fetch_add(1, std::memory_order_seq_cst);
    Slot& s = slots_[t % capacity_];
    const uint64_t lap = t / capacity_;
    // Acquire: the consumer's release of the previous lap has finished with the slot.
    for (int spins = 0; s.turn.load(std::memory_order_acquire) != 2 * lap; spins++) Backoff(spins);
    s.item = item;
    // Release: the consumer that sees the odd turn sees the item.
    s.turn.store(2 * lap + 1, std::memory_order_release);
  }

  // Consumer only. The next item in ticket order, or null if its producer
  // has not published it yet (or nothing is claimed).
  T* TryPop() {
    Slot& s = slots_[head_ % capacity_];
    const uint64_t lap = head_ / capacity_;
    // Acquire: pairs with the producer's release of the odd turn.
    if (s.turn.load(std::memory_order_acquire) != 2 * lap + 1) return nullptr;
    T* item = s.item;
    // Release: the item is read before the slot is handed to the next lap.
    s.turn.store(2 * lap + 2, std::memory_order_release);
    head_++;
    return item;
  }

  // Consumer only: the next ticket to pop.
  uint64_t Head() const { return head_; }
  // Tickets taken so far. seq_cst: pairs with Push's fetch_add, so a combiner
  // giving up its role cannot miss a producer that failed to take it.
  uint64_t Tail() const { return tail_.load(std::memory_order_seq_cst); }

  static void Backoff(int spins) {
    if (spins < 64) {
#if defined(__x86_64__)
      __builtin_ia32_pause();
#endif
    } else {
      std::this_thread::yield();
    }
  }

 private:
  struct alignas(kCacheLine) Slot {
    std::atomic<uint64_t> turn;
    T* item = nullptr;
  };
  const size_t capacity_;
  std::unique_ptr<Slot[]> slots_;
  // Producers hit tail_, the consumer owns head_: separate cache lines.
  alignas(kCacheLine) std::atomic<uint64_t> tail_{0};
  alignas(kCacheLine) uint64_t head_ = 0;  // only the combiner touches it
};

}  // namespace causeway
