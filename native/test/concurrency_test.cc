// Concurrent appends, and readers alongside the lock-free writer (also run under
// ThreadSanitizer by test/native.test.ts).

#include <array>
#include <chrono>
#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fixture.h"

namespace causeway::test {
namespace {

TEST(ConcurrentAppendsLoseOrReorderEvents) {
  TempDir d;
  const std::string dir = d.Sub("db");
  StoreOptions o = Options(dir);
  o.sync_every_events = 50;  // the flusher runs alongside
  o.sync_every_ms = 2;
  o.segment_max_bytes = 16384;  // and segments roll under it
  const int kThreads = 4, kPer = 150;
  {
    std::unique_ptr<Store> s;
    CHECK_OK(Store::Open(o, &s));
    std::atomic<int> errors{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < kThreads; t++) {
      ts.emplace_back([&, t] {
        for (int i = 0; i < kPer; i++) {
          Put p;
          p.entity = "thread:" + std::to_string(t);
          p.payload = std::to_string(i);
          p.expected = i;
          Receipt r;
          if (!Append(s.get(), p, &r).ok() || r.clock != uint32_t(i + 1)) errors++;
          if (i % 40 == 0 && !s->WaitDurable(r.sequence).ok()) errors++;
        }
      });
    }
    for (auto& t : ts) t.join();
    CHECK_EQ(errors.load(), 0);
    CHECK_OK(s->Sync());
    StoreStats st;
    CHECK_OK(s->Stats(&st));
    CHECK_EQ(st.durable_sequence, uint64_t(kThreads * kPer));
    CHECK(st.syncs > 0);
  }
  std::unique_ptr<Store> s;
  CHECK_OK(Store::Open(o, &s));
  std::vector<Ev> evs;
  CHECK_OK(ReadAll(s.get(), &evs));
  CHECK_EQ(evs.size(), size_t(kThreads * kPer));
  std::vector<uint32_t> clock(kThreads, 0);
  std::vector<std::array<uint8_t, 32>> head(kThreads);
  for (size_t i = 0; i < evs.size(); i++) {
    CHECK_EQ(evs[i].sequence, uint64_t(i));
    const int t = evs[i].entity.back() - '0';
    CHECK_EQ(evs[i].clock, clock[t] + 1);
    CHECK_EQ(evs[i].payload, std::to_string(clock[t]));
    CHECK(evs[i].prev == head[t]);
    clock[t] = evs[i].clock;
    head[t] = evs[i].hash;
  }
}

// Durable appends from several threads share syncs (group commit), and none
// waits on a wake-up that never comes: a leader that gathers its peers, or
// ends its sync, must wake every thread its sync covered. A missed one
// stalls until its wait's 1 s re-check, which this catches (a sync on a
// test disk takes well under a millisecond; the bound allows 900 of them).
TEST(DurableAppendsFromThreadsMissAWakeUpOrSyncAlone) {
  TempDir d;
  StoreOptions o = Options(d.Sub("db"));
  o.sync_every_ms = 1000;  // the flusher stays out of the way
  const int kThreads = 4, kPer = 100;
  std::unique_ptr<Store> s;
  CHECK_OK(Store::Open(o, &s));
  std::atomic<int> errors{0};
  std::atomic<int64_t> slowest_us{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; t++) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < kPer; i++) {
        Put p;
        p.entity = "durable:" + std::to_string(t);
        p.payload = std::to_string(i);
        Receipt r;
        const auto start = std::chrono::steady_clock::now();
        if (!Append(s.get(), p, &r).ok() || !s->WaitDurable(r.sequence).ok()) errors++;
        const int64_t us =
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
        for (int64_t seen = slowest_us.load(); us > seen && !slowest_us.compare_exchange_weak(seen, us);) {
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  CHECK_EQ(errors.load(), 0);
  CHECK(slowest_us.load() < 900000);
  StoreStats st;
  CHECK_OK(s->Stats(&st));
  CHECK_EQ(st.durable_sequence, uint64_t(kThreads * kPer));
  CHECK(st.syncs < uint64_t(kThreads * kPer));  // shared, not one per append
}

// Readers run alongside the lock-free writer: every read must see whole
// batches, gapless sequences and frames that pass their CRC, whatever the
// writer is doing (growing the index's tables, rolling segments, interning).
// Built with -fsanitize=thread too (test/native.test.ts), which reports any
// access to shared state the memory orders do not cover.
TEST(ReadersSeePartialBatchesOrTornIndexWhileAppending) {
  TempDir d;
  const std::string dir = d.Sub("db");
  StoreOptions o = Options(dir);
  o.segment_max_bytes = 65536;  // many rolls
  o.sync_every_events = 64;
  o.sync_every_ms = 1;
  std::unique_ptr<Store> s;
  CHECK_OK(Store::Open(o, &s));
  const int kWriters = 2, kRounds = 3000, kBatch = 8;
  std::atomic<int> writers_left{kWriters};
  std::atomic<int> errors{0};
  std::mutex first_ids_mu;
  std::vector<std::array<uint8_t, 16>> first_ids;  // the first item of each batch
  auto fail = [&](const std::string& what) {
    if (errors++ < 5) std::fprintf(stderr, "  %s\n", what.c_str());
  };
  std::vector<std::thread> ts;
  for (int t = 0; t < kWriters; t++) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < kRounds; i++) {
        Put p;
        p.entity = "single:" + std::to_string(t) + ":" + std::to_string(i);  // a new name each time
        p.kind = static_cast<uint16_t>(1 + i % 7);
        p.payload = "s" + std::to_string(i);
        Receipt r;
        if (!Append(s.get(), p, &r).ok()) fail("single append failed");
        if (i % 7 == 3) {
          // A conditional append: its check looks names up while the other
          // writer interns new ones.
          uint32_t e, sc;
          if (!s->InternEntity(p.entity, &e).ok() || !s->InternScope(p.scope, &sc).ok()) fail("intern");
          AppendRequest req;
          req.entity = e;
          req.scope = sc;
          req.kind = 8;
          req.payload = U8(p.payload);
          req.payload_len = static_cast<uint32_t>(p.payload.size());
          AppendCondition cond;
          cond.filter.has_entity = true;
          cond.filter.exact_entity = true;
          cond.filter.entity = p.entity;
          cond.filter.has_scope = true;
          cond.filter.scope = p.scope;
          cond.filter.kind_mode = RegionFilter::Kind::kExact;
          cond.filter.kind = 8;  // nothing of kind 8 on this entity yet: the condition holds
          Receipt rc;
          Status st = s->AppendBatch(&req, 1, &rc, &cond);
          if (!st.ok()) fail("conditional append: " + st.message());
          // The same condition again now matches the event just appended.
          if (s->AppendBatch(&req, 1, &rc, &cond).code() != Status::Code::kConditionFailed) fail("condition not seen");
        }
        if (i % 5 != 0) continue;
        std::vector<AppendRequest> reqs(kBatch);
        std::vector<std::string> payloads(kBatch);
        uint32_t e, sc;
        if (!s->InternEntity("batch:" + std::to_string(t), &e).ok() || !s->InternScope("b", &sc).ok()) fail("intern");
        for (int k = 0; k < kBatch; k++) {
          payloads[k] = "b" + std::to_string(t) + ":" + std::to_string(i) + ":" + std::to_string(k);
          reqs[k].entity = e;
          reqs[k].scope = sc;
          reqs[k].kind = 9;
          reqs[k].payload = U8(payloads[k]);
          reqs[k].payload_len = static_cast<uint32_t>(payloads[k].size());
          if (k > 0) reqs[k].causation_prior_item = 0;
        }
        std::vector<Receipt> out(kBatch);
        if (!s->AppendBatch(reqs.data(), reqs.size(), out.data()).ok()) fail("batch failed");
        std::array<uint8_t, 16> id;
        std::memcpy(id.data(), out[0].event_id, 16);
        std::lock_guard<std::mutex> g(first_ids_mu);
        first_ids.push_back(id);
      }
      writers_left--;
    });
  }
  auto alloc_into = [](std::vector<uint8_t>* buf) {
    return [buf](size_t n) {
      buf->resize(n);
      return buf->data();
    };
  };
  for (int t = 0; t < 2; t++) {
    ts.emplace_back([&, t] {
      uint64_t sub = s->BroadcastHead(), lagged = 0;
      int passes = 0;
      while (writers_left.load() > 0 || passes < 2) {
        passes++;
        std::vector<Ev> evs;
        Status st = ReadAll(s.get(), &evs);
        if (!st.ok()) fail("scan: " + st.message());
        std::map<std::string, int> per_batch;
        for (size_t i = 0; i < evs.size(); i++) {
          if (evs[i].sequence != i) {
            fail("scan: sequence " + std::to_string(evs[i].sequence) + " at " + std::to_string(i));
            break;
          }
          if (evs[i].kind == 9) per_batch[evs[i].payload.substr(0, evs[i].payload.rfind(':'))]++;
        }
        for (const auto& [b, n] : per_batch)
          if (n != kBatch) fail("scan: batch " + b + " seen with " + std::to_string(n) + " items");
        RegionFilter f;
        f.has_entity = true;
        f.entity = "batch";
        std::vector<uint8_t> buf;
        size_t count = 0;
        if (!s->QueryRecords(f, alloc_into(&buf), &count).ok() || count % kBatch != 0)
          fail("query by entity: " + std::to_string(count) + " events");
        std::array<uint8_t, 16> id{};
        bool have = false;
        {
          std::lock_guard<std::mutex> g(first_ids_mu);
          if (!first_ids.empty()) {
            id = first_ids[(passes * 7 + t) % first_ids.size()];
            have = true;
          }
        }
        if (have) {
          if (!s->EffectRecords(id.data(), alloc_into(&buf), &count).ok() || count != size_t(kBatch - 1))
            fail("effects: " + std::to_string(count));
          bool found = false;
          if (!s->GetRecord(id.data(), alloc_into(&buf), &found).ok() || !found) fail("get: a batch's first event");
        }
        RegionFilter all;
        if (!s->SubscriptionPoll(all, &sub, 500, alloc_into(&buf), &lagged, &count).ok()) fail("subscription poll");
        // A listener joins, is armed and leaves while the writer notifies.
        struct Counting : Listener {
          std::atomic<int> n{0};
          void Notify() override { n++; }
        } listener;
        s->AddListener(&listener);
        s->Arm(&listener, s->NextSequence());
        std::this_thread::yield();
        s->RemoveListener(&listener);
        if (passes % 8 == 0) {
          StoreStats stats;
          if (!s->Stats(&stats).ok() || stats.events < evs.size()) fail("stats");
        }
      }
    });
  }
  for (auto& th : ts) th.join();
  CHECK_EQ(errors.load(), 0);
  std::vector<Ev> evs;
  CHECK_OK(ReadAll(s.get(), &evs));
  size_t conditional = 0;
  for (int i = 0; i < kRounds; i++) conditional += i % 7 == 3;
  CHECK_EQ(evs.size(), size_t(kWriters * kRounds + kWriters * (kRounds / 5) * kBatch + kWriters * conditional));
}

}  // namespace
}  // namespace causeway::test
