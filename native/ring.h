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

namespace causeway {

class BroadcastRing {
 public:
  static constexpr size_t kCacheLine = 64;

  explicit BroadcastRing(size_t capacity) : capacity_(capacity), slots_(new Slot[capacity]) {
    for (size_t i = 0; i < capacity_; i++) slots_[i].turn.store(0, std::memory_order_relaxed);
  }
  BroadcastRing(const BroadcastRing&) = delete;
  BroadcastRing& operator=(const BroadcastRing&) = delete;

  size_t capacity() const { return capacity_; }

  // Number of messages ever published. Acquire: pairs with the release in
  // Publish so every slot below the returned head is fully written.
  uint64_t head() const { return head_.load(std::memory_order_acquire); }

  // REQUIRES: one producer at a time (the store's writer).
  void Publish(uint64_t value) {
    const uint64_t i = head_.load(std::memory_order_relaxed);  // only the producer writes head_
    Slot& s = slots_[i % capacity_];
    // Relaxed store then a release fence: the odd turn is visible before the
    // new value can be (a consumer seeing the new value sees the odd turn).
    s.turn.store(2 * i + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    s.value.store(value, std::memory_order_relaxed);
    // Release: a consumer that reads this even turn also reads the value.
    s.turn.store(2 * i + 2, std::memory_order_release);
    // Release: a consumer that reads the new head finds the slot complete.
    head_.store(i + 1, std::memory_order_release);
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
  const size_t capacity_;
  std::unique_ptr<Slot[]> slots_;
  // head_ sits on its own cache line: consumers poll it while the producer fills slots.
  alignas(kCacheLine) std::atomic<uint64_t> head_{0};
};

static_assert(sizeof(std::atomic<uint64_t>) == 8, "lock-free 64-bit atomics required");

}  // namespace causeway
