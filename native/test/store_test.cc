// The store's API: the directory lock, batches (whole or not at all, across a
// crash too), idempotency keys, expected clocks, options and names it refuses.

#include <fcntl.h>
#include <unistd.h>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "fixture.h"

namespace causeway::test {
namespace {

TEST(SecondOpenInProcessNotLocked) {
  TempDir d;
  const std::string dir = d.Sub("db");
  std::unique_ptr<Store> a;
  CHECK_OK(Store::Open(Options(dir), &a));
  std::unique_ptr<Store> b;
  Status st = Store::Open(Options(dir), &b);
  CHECK_EQ(st.code(), Status::Code::kLocked);
  CHECK(b == nullptr);
  // Through another spelling of the same directory.
  st = Store::Open(Options(d.path() + "/./db/"), &b);
  CHECK_EQ(st.code(), Status::Code::kLocked);
  // A read-only open is refused while a writer holds it.
  StoreOptions ro = Options(dir);
  ro.read_only = true;
  st = Store::Open(ro, &b);
  CHECK_EQ(st.code(), Status::Code::kLocked);
  // The failed opens did not disturb the writer.
  Receipt r;
  CHECK_OK(Append(a.get(), Put(), &r));
  CHECK_OK(a->Close());
  // After close the directory opens again.
  CHECK_OK(Store::Open(Options(dir), &b));
  StoreStats stats;
  CHECK_OK(b->Stats(&stats));
  CHECK_EQ(stats.events, uint64_t(1));
  CHECK_OK(b->Close());
  // Two readers together are fine; a writer is not, while they are open.
  std::unique_ptr<Store> r1, r2, w;
  CHECK_OK(Store::Open(ro, &r1));
  CHECK_OK(Store::Open(ro, &r2));
  CHECK_CODE(Store::Open(Options(dir), &w), Status::Code::kLocked);
  CHECK_CODE(Append(r1.get(), Put(), &r), Status::Code::kInvalidArgument);
}

TEST(BatchPartiallyApplied) {
  TempDir d;
  const std::string dir = d.Sub("db");
  std::unique_ptr<Store> s;
  CHECK_OK(Store::Open(Options(dir), &s));
  Receipt r0;
  CHECK_OK(Append(s.get(), Put(), &r0));  // acct:1 at clock 1
  StoreStats before;
  CHECK_OK(s->Stats(&before));
  std::vector<Receipt> rs;
  // The third item's expectation fails: nothing of the batch is written.
  std::vector<Put> batch(3);
  batch[0].entity = "acct:1";
  batch[1].entity = "acct:2";
  batch[2].entity = "acct:1";
  batch[2].expected = 1;  // but item 0 moves acct:1 to clock 2
  AppendError err;
  Status st = AppendMany(s.get(), batch, &rs, &err);
  CHECK_EQ(st.code(), Status::Code::kSequenceMismatch);
  CHECK_EQ(err.actual, 2u);  // the clock item 2 would have found
  CHECK_EQ(err.item, 2u);    // which item
  // A payload over the limit in the last item.
  StoreOptions o = Options(dir);
  batch[2].expected = -1;
  batch[2].payload = std::string(o.max_payload_bytes + 1, 'x');
  CHECK_CODE(AppendMany(s.get(), batch, &rs), Status::Code::kFull);
  // A causation pointing forward.
  {
    std::vector<AppendRequest> reqs(2);
    CHECK_OK(s->InternEntity("acct:1", &reqs[0].entity));
    CHECK_OK(s->InternScope("bank", &reqs[0].scope));
    reqs[1] = reqs[0];
    reqs[0].causation_prior_item = 1;
    std::vector<Receipt> out(2);
    CHECK_CODE(s->AppendBatch(reqs.data(), 2, out.data()), Status::Code::kInvalidArgument);
    // An unknown entity id.
    reqs[0].causation_prior_item = -1;
    reqs[1].entity = 999;
    CHECK_CODE(s->AppendBatch(reqs.data(), 2, out.data()), Status::Code::kInvalidArgument);
    CHECK_CODE(s->AppendBatch(reqs.data(), 0, out.data()), Status::Code::kInvalidArgument);
  }
  StoreStats after;
  CHECK_OK(s->Stats(&after));
  CHECK_EQ(after.events, before.events);
  CHECK_EQ(after.next_sequence, before.next_sequence);
  // Nothing half-written sits in the segment either: the next frame follows r0.
  // A good batch commits whole, chained through its own items.
  batch[2].payload = "ok";
  batch[2].expected = 2;
  CHECK_OK(AppendMany(s.get(), batch, &rs));
  CHECK_EQ(rs[0].sequence, uint64_t(1));
  CHECK_EQ(rs[2].sequence, uint64_t(3));
  CHECK_EQ(rs[0].clock, 2u);
  CHECK_EQ(rs[1].clock, 1u);
  CHECK_EQ(rs[2].clock, 3u);
  CHECK(rs[0].timestamp_us == rs[2].timestamp_us);
  CHECK(std::memcmp(rs[0].prev_hash, r0.content_hash, 32) == 0);
  CHECK(std::memcmp(rs[2].prev_hash, rs[0].content_hash, 32) == 0);
  CHECK_OK(s->Close());
  s.reset();
  CHECK_OK(Store::Open(Options(dir), &s));
  std::vector<Ev> evs;
  CHECK_OK(ReadAll(s.get(), &evs));
  CHECK_EQ(evs.size(), size_t(4));
  CHECK_EQ(evs[1].flags & (kFlagBatchMember | kFlagBatchEnd), int(kFlagBatchMember));
  CHECK_EQ(evs[3].flags & (kFlagBatchMember | kFlagBatchEnd), int(kFlagBatchMember | kFlagBatchEnd));
  CHECK_EQ(evs[0].flags & kFlagBatchMember, 0);
}

TEST(BatchWithoutEndFrameSurvivesCrash) {
  TempDir d;
  const std::string dir = d.Sub("db"), copy = d.Sub("crash");
  std::vector<Receipt> rs;
  {
    std::unique_ptr<Store> s;
    CHECK_OK(Store::Open(Options(dir), &s));
    Receipt r0;
    CHECK_OK(Append(s.get(), Put(), &r0));
    CHECK_OK(s->Sync());
    CHECK_OK(s->Sync());
    std::vector<Put> batch(3);
    batch[1].entity = "acct:2";
    CHECK_OK(AppendMany(s.get(), batch, &rs));
    CHECK(CopyDir(dir, copy));
  }
  const std::string seg = copy + "/" + Segment::FileName(1);
  std::vector<uint64_t> offs = FrameOffsets(seg);
  CHECK_EQ(offs.size(), size_t(4));
  // The batch's end frame never fully made it to disk.
  CHECK(XorByte(seg, offs[3] + frame::kVariable + 1, 0x02));
  {
    std::unique_ptr<Store> s;
    CHECK_OK(Store::Open(Options(copy), &s));
    StoreStats st;
    CHECK_OK(s->Stats(&st));
    CHECK_EQ(st.events, uint64_t(1));  // none of the batch, not the first two items
    CHECK_EQ(st.next_sequence, uint64_t(1));
    CHECK(st.recovered_torn_bytes > 0);
    // Clocks are back where they were before the batch.
    Receipt r;
    Put p;
    p.entity = "acct:2";
    p.expected = 0;
    CHECK_OK(Append(s.get(), p, &r));
    CHECK_EQ(r.clock, 1u);
    CHECK_EQ(r.sequence, uint64_t(1));
    CHECK_OK(s->Close());
  }
  std::unique_ptr<Store> s;
  CHECK_OK(Store::Open(Options(copy), &s));
  std::vector<Ev> evs;
  CHECK_OK(ReadAll(s.get(), &evs));
  CHECK_EQ(evs.size(), size_t(2));
  CHECK_EQ(evs[1].entity, std::string("acct:2"));
}

TEST(IdempotencyKeyForgottenAfterReopen) {
  TempDir d;
  const std::string dir = d.Sub("db");
  Receipt first;
  std::vector<Receipt> batch_first;
  {
    std::unique_ptr<Store> s;
    CHECK_OK(Store::Open(Options(dir), &s));
    Put p;
    p.key = "payment-7";
    p.payload = "charge 10";
    CHECK_OK(Append(s.get(), p, &first));
    CHECK(!first.deduplicated);
    // The same key again while open: the first receipt.
    Receipt again;
    p.payload = "charge 10 (retry)";
    CHECK_OK(Append(s.get(), p, &again));
    CHECK(again.deduplicated);
    CHECK_EQ(again.sequence, first.sequence);
    std::vector<Put> b(2);
    b[0].key = "b-1";
    b[1].key = "b-2";
    b[1].entity = "acct:9";
    CHECK_OK(AppendMany(s.get(), b, &batch_first));
    CHECK_OK(s->Close());
  }
  std::unique_ptr<Store> s;
  CHECK_OK(Store::Open(Options(dir), &s));
  Receipt r;
  Put p;
  p.key = "payment-7";
  p.payload = "something else entirely";
  CHECK_OK(Append(s.get(), p, &r));
  CHECK(r.deduplicated);
  CHECK_EQ(r.sequence, first.sequence);
  CHECK_EQ(r.clock, first.clock);
  CHECK_EQ(r.timestamp_us, first.timestamp_us);
  CHECK(std::memcmp(r.event_id, first.event_id, 16) == 0);
  CHECK(std::memcmp(r.content_hash, first.content_hash, 32) == 0);
  CHECK(r.durable);
  // The batch dedups as a whole.
  std::vector<Put> b(2);
  b[0].key = "b-1";
  b[1].key = "b-2";
  b[1].entity = "acct:9";
  std::vector<Receipt> rs;
  CHECK_OK(AppendMany(s.get(), b, &rs));
  CHECK(rs[0].deduplicated && rs[1].deduplicated);
  CHECK_EQ(rs[1].sequence, batch_first[1].sequence);
  CHECK(std::memcmp(rs[1].event_id, batch_first[1].event_id, 16) == 0);
  // Mixing known and new keys is refused, and writes nothing.
  b[1].key = "b-3";
  CHECK_CODE(AppendMany(s.get(), b, &rs), Status::Code::kInvalidArgument);
  // Two items of one batch with one key.
  b[0].key = b[1].key = "dup";
  CHECK_CODE(AppendMany(s.get(), b, &rs), Status::Code::kInvalidArgument);
  StoreStats st;
  CHECK_OK(s->Stats(&st));
  CHECK_EQ(st.events, uint64_t(3));
  // A new key appends.
  p.key = "payment-8";
  CHECK_OK(Append(s.get(), p, &r));
  CHECK(!r.deduplicated);
  CHECK_EQ(r.sequence, uint64_t(3));
}

TEST(WrongExpectedClockAccepted) {
  TempDir d;
  std::unique_ptr<Store> s;
  CHECK_OK(Store::Open(Options(d.Sub("db")), &s));
  Receipt r;
  Put p;
  p.expected = 0;  // a new entity is at clock 0
  CHECK_OK(Append(s.get(), p, &r));
  CHECK_EQ(r.clock, 1u);
  p.expected = 1;
  CHECK_OK(Append(s.get(), p, &r));
  CHECK_EQ(r.clock, 2u);
  for (int64_t wrong : {int64_t(0), int64_t(1), int64_t(3), int64_t(100)}) {
    p.expected = wrong;
    Receipt bad;
    AppendError err;
    Status st = Append(s.get(), p, &bad, &err);
    CHECK_EQ(st.code(), Status::Code::kSequenceMismatch);
    CHECK_EQ(err.actual, 2u);  // the actual clock
    CHECK(Contains(st.message(), "acct:1"));
  }
  StoreStats st;
  CHECK_OK(s->Stats(&st));
  CHECK_EQ(st.events, uint64_t(2));
  p.expected = 2;
  CHECK_OK(Append(s.get(), p, &r));
  CHECK_EQ(r.clock, 3u);
  CHECK_EQ(r.sequence, uint64_t(2));
  // An unrelated entity is not affected.
  Put q;
  q.entity = "acct:1:sub";
  q.expected = 0;
  CHECK_OK(Append(s.get(), q, &r));
  CHECK_EQ(r.clock, 1u);
}

TEST(StaleTmpSegmentSurvivesOpen) {
  TempDir d;
  const std::string dir = d.Sub("db");
  {
    std::unique_ptr<Store> s;
    CHECK_OK(Store::Open(Options(dir), &s));
    Receipt r;
    CHECK_OK(Append(s.get(), Put(), &r));
  }
  // A segment whose creation never reached its rename.
  const std::string tmp = dir + "/" + Segment::FileName(2) + ".tmp";
  {
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT, 0644);
    CHECK(fd >= 0);
    CHECK(::write(fd, "junk", 4) == 4);
    ::close(fd);
  }
  std::unique_ptr<Store> s;
  CHECK_OK(Store::Open(Options(dir), &s));
  CHECK_EQ(FileSize(tmp), UINT64_MAX);
  StoreStats st;
  CHECK_OK(s->Stats(&st));
  CHECK_EQ(st.events, uint64_t(1));
  CHECK_EQ(st.segments, uint64_t(1));
}

TEST(BadOptionsAccepted) {
  TempDir d;
  std::unique_ptr<Store> s;
  StoreOptions o = Options(d.Sub("db"));
  o.segment_max_bytes = 4095;
  CHECK_CODE(Store::Open(o, &s), Status::Code::kInvalidArgument);
  o.segment_max_bytes = 1ull << 32;
  CHECK_CODE(Store::Open(o, &s), Status::Code::kInvalidArgument);
  o = Options(d.Sub("db"));
  o.max_payload_bytes = 0;
  CHECK_CODE(Store::Open(o, &s), Status::Code::kInvalidArgument);
  o.max_payload_bytes = kMaxPayloadBytesLimit + 1;
  CHECK_CODE(Store::Open(o, &s), Status::Code::kInvalidArgument);
  // An event bigger than a segment.
  o = Options(d.Sub("db"));
  o.segment_max_bytes = 4096;
  CHECK_OK(Store::Open(o, &s));
  Receipt r;
  Put p;
  p.payload = std::string(4096, 'x');
  CHECK_CODE(Append(s.get(), p, &r), Status::Code::kFull);
  StoreStats st;
  CHECK_OK(s->Stats(&st));
  CHECK_EQ(st.events, uint64_t(0));
}

TEST(InvalidEntityNameWritesUndecodableFrame) {
  // The frame format allows names of 1..1024 bytes; the core must refuse
  // others with a Status instead of writing a frame DecodeFrame rejects.
  TempDir d;
  const std::string dir = d.Sub("db");
  {
    std::unique_ptr<Store> s;
    CHECK_OK(Store::Open(Options(dir), &s));
    Receipt r;
    Put p;
    p.entity = "";
    CHECK_CODE(Append(s.get(), p, &r), Status::Code::kInvalidArgument);
    p.entity = std::string(1025, 'n');
    CHECK_CODE(Append(s.get(), p, &r), Status::Code::kInvalidArgument);
    p.entity = "ok";
    p.scope = "";
    CHECK_CODE(Append(s.get(), p, &r), Status::Code::kInvalidArgument);
    p.scope = "fine";
    CHECK_OK(Append(s.get(), p, &r));
  }
  std::unique_ptr<Store> s;
  CHECK_OK(Store::Open(Options(dir), &s));
  StoreStats st;
  CHECK_OK(s->Stats(&st));
  CHECK_EQ(st.events, uint64_t(1));
}

}  // namespace
}  // namespace causeway::test
