// AppendRing and BroadcastRing (native/ring.h).

#include <atomic>
#include <thread>
#include <vector>

#include "../ring.h"
#include "fixture.h"

namespace causeway::test {
namespace {

// ---- rings -------------------------------------------------------------

TEST(AppendRingLosesOrReordersItemsOnOneThread) {
  AppendRing<int> ring(8);
  std::vector<int> values(1000);
  int next = 0;
  for (int round = 0; round < 125; round++) {
    for (int k = 0; k < 8; k++) {
      values[round * 8 + k] = round * 8 + k;
      ring.Push(&values[round * 8 + k]);
    }
    CHECK(ring.Tail() == uint64_t(round * 8 + 8));
    for (int k = 0; k < 8; k++) {
      int* v = ring.TryPop();
      CHECK(v != nullptr);
      CHECK(*v == next);
      next++;
    }
    CHECK(ring.TryPop() == nullptr);
    CHECK(ring.Head() == ring.Tail());
  }
}

TEST(AppendRingMultiProducerSumInvariant) {
  constexpr int kProducers = 4, kPerProducer = 100000;
  AppendRing<const int> ring(64);
  std::vector<std::vector<int>> values(kProducers, std::vector<int>(kPerProducer));
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; p++) {
    for (int i = 0; i < kPerProducer; i++) values[p][i] = p * kPerProducer + i;
    producers.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; i++) ring.Push(&values[p][i]);
    });
  }
  uint64_t sum = 0;
  std::vector<int> last(kProducers, -1);
  bool ordered = true;
  for (int popped = 0; popped < kProducers * kPerProducer;) {
    const int* v = ring.TryPop();
    if (!v) {
      std::this_thread::yield();
      continue;
    }
    sum += uint64_t(*v);
    const int p = *v / kPerProducer, i = *v % kPerProducer;
    if (i <= last[p]) ordered = false;  // one producer's items keep their order
    last[p] = i;
    popped++;
  }
  for (auto& t : producers) t.join();
  const uint64_t n = uint64_t(kProducers) * kPerProducer;
  CHECK(sum == n * (n - 1) / 2);
  CHECK(ordered);
  CHECK(ring.TryPop() == nullptr);
}

TEST(BroadcastRingHidesLagOrServesOverwrittenSlots) {
  BroadcastRing ring(8);
  uint64_t v = 0;
  CHECK(ring.TryRead(0, &v) == BroadcastRing::Read::kEmpty);
  for (uint64_t i = 0; i < 20; i++) ring.Publish(i * 10);
  CHECK(ring.head() == 20);
  CHECK(ring.TryRead(0, &v) == BroadcastRing::Read::kLagged);
  CHECK(ring.TryRead(11, &v) == BroadcastRing::Read::kLagged);
  CHECK(ring.TryRead(12, &v) == BroadcastRing::Read::kOk && v == 120);
  CHECK(ring.TryRead(19, &v) == BroadcastRing::Read::kOk && v == 190);
  CHECK(ring.TryRead(20, &v) == BroadcastRing::Read::kEmpty);
}

TEST(BroadcastRingReaderSeesTornValuesUnderConcurrentPublish) {
  // A reader racing the producer gets either the exact value or kLagged, never a wrong value.
  BroadcastRing ring(16);
  std::atomic<bool> stop{false};
  bool wrong = false;
  std::thread reader([&] {
    uint64_t pos = 0, v;
    while (!stop.load(std::memory_order_relaxed)) {
      switch (ring.TryRead(pos, &v)) {
        case BroadcastRing::Read::kOk:
          if (v != pos * 3 + 1) wrong = true;
          pos++;
          break;
        case BroadcastRing::Read::kLagged:
          pos = ring.head();
          break;
        case BroadcastRing::Read::kEmpty:
          break;
      }
    }
  });
  for (uint64_t i = 0; i < 2000000; i++) ring.Publish(i * 3 + 1);
  stop.store(true);
  reader.join();
  CHECK(!wrong);
}

}  // namespace
}  // namespace causeway::test
