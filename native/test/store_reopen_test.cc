// The store across a clean close and reopen: events, chains, id lookups, segment
// rolls and the sealed segments' footers.

#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "../footer.h"
#include "../log_reader.h"
#include "fixture.h"

namespace causeway::test {
namespace {

// ===========================================================================
// Store

TEST(ReopenLosesEventsOrChain) {
  TempDir d;
  const std::string dir = d.Sub("db");
  std::vector<Receipt> rs(4);
  {
    std::unique_ptr<Store> s;
    CHECK_OK(Store::Open(Options(dir), &s));
    Put p;
    p.payload = "first";
    CHECK_OK(Append(s.get(), p, &rs[0]));
    p.payload = "second";
    CHECK_OK(Append(s.get(), p, &rs[1]));
    Put other;
    other.entity = "acct:2";
    other.scope = "other";
    other.kind = 0x2001;
    other.payload = std::string(1000, 'x');
    CHECK_OK(Append(s.get(), other, &rs[2]));
    p.payload = "";
    CHECK_OK(Append(s.get(), p, &rs[3]));
    CHECK_EQ(rs[0].sequence, uint64_t(0));
    CHECK_EQ(rs[3].sequence, uint64_t(3));
    CHECK_EQ(rs[0].clock, 1u);
    CHECK_EQ(rs[1].clock, 2u);
    CHECK_EQ(rs[2].clock, 1u);
    CHECK_EQ(rs[3].clock, 3u);
    std::array<uint8_t, 32> zero{};
    CHECK(std::memcmp(rs[0].prev_hash, zero.data(), 32) == 0);
    CHECK(std::memcmp(rs[1].prev_hash, rs[0].content_hash, 32) == 0);
    CHECK(std::memcmp(rs[3].prev_hash, rs[1].content_hash, 32) == 0);
    CHECK(std::memcmp(rs[2].prev_hash, zero.data(), 32) == 0);
    CHECK(std::memcmp(rs[0].content_hash, Blake3Of("first").data(), 32) == 0);
    // Correlation defaults to the event's own id; timestamps never go back.
    CHECK(std::memcmp(rs[0].correlation_id, rs[0].event_id, 16) == 0);
    CHECK(rs[1].timestamp_us >= rs[0].timestamp_us);
    CHECK_EQ(rs[0].event_id[6] >> 4, 7);  // UUIDv7
    CHECK_EQ(rs[0].event_id[8] >> 6, 2);  // RFC 9562 variant
    CHECK_OK(s->Sync());
    CHECK_OK(s->Close());
    CHECK(s->closed());
    CHECK_CODE(Append(s.get(), p, &rs[0]), Status::Code::kClosed);
  }
  std::unique_ptr<Store> s;
  CHECK_OK(Store::Open(Options(dir), &s));
  std::vector<Ev> evs;
  CHECK_OK(ReadAll(s.get(), &evs));
  CHECK_EQ(evs.size(), size_t(4));
  CHECK_EQ(evs[0].payload, std::string("first"));
  CHECK_EQ(evs[1].payload, std::string("second"));
  CHECK_EQ(evs[2].payload, std::string(1000, 'x'));
  CHECK_EQ(evs[2].entity, std::string("acct:2"));
  CHECK_EQ(evs[2].scope, std::string("other"));
  CHECK_EQ(evs[2].kind, uint16_t(0x2001));
  CHECK_EQ(evs[3].payload, std::string());
  for (size_t i = 0; i < 4; i++) {
    CHECK_EQ(evs[i].sequence, uint64_t(i));
    CHECK_EQ(evs[i].clock, rs[i].clock);
    CHECK(std::memcmp(evs[i].id.data(), rs[i].event_id, 16) == 0);
    CHECK(std::memcmp(evs[i].hash.data(), rs[i].content_hash, 32) == 0);
    CHECK(evs[i].hash == Blake3Of(evs[i].payload));
  }
  // The chain: prev_hash of event 2 is the content hash of event 1.
  CHECK(evs[1].prev == evs[0].hash);
  CHECK(evs[3].prev == evs[1].hash);
  // Lookups by id after reopen.
  bool found = false;
  std::vector<uint8_t> rec;
  CHECK_OK(s->GetRecord(rs[2].event_id, [&](size_t n) { rec.resize(n); return rec.data(); }, &found));
  CHECK(found);
  // The entity continues its clock and chain after reopen.
  Receipt r;
  Put p;
  p.payload = "after reopen";
  CHECK_OK(Append(s.get(), p, &r));
  CHECK_EQ(r.sequence, uint64_t(4));
  CHECK_EQ(r.clock, 4u);
  CHECK(std::memcmp(r.prev_hash, rs[3].content_hash, 32) == 0);
  CHECK(r.timestamp_us >= rs[3].timestamp_us);
  StoreStats st;
  CHECK_OK(s->Stats(&st));
  CHECK_EQ(st.events, uint64_t(5));
  CHECK_EQ(st.next_sequence, uint64_t(5));
  CHECK_EQ(st.segments, uint64_t(1));
  CHECK_EQ(st.recovered_torn_bytes, uint64_t(0));
}

TEST(ReopenCrashesPastIdTableGrowth) {
  // The event-id table grows (rehashing through the id resolver) at 769
  // events; during recovery that happens while the segment being scanned is
  // not yet in the store's segment list.
  TempDir d;
  const std::string dir = d.Sub("db");
  const int kEvents = 2000;
  std::vector<std::array<uint8_t, 16>> ids;
  {
    std::unique_ptr<Store> s;
    CHECK_OK(Store::Open(Options(dir), &s));
    for (int i = 0; i < kEvents; i++) {
      Put p;
      p.entity = "e:" + std::to_string(i % 7);
      p.payload = std::to_string(i);
      Receipt r;
      CHECK_OK(Append(s.get(), p, &r));
      std::array<uint8_t, 16> id;
      std::memcpy(id.data(), r.event_id, 16);
      ids.push_back(id);
    }
    // Lookups work while the store that wrote them is open.
    bool found = false;
    std::vector<uint8_t> rec;
    CHECK_OK(s->GetRecord(ids[5].data(), [&](size_t n) { rec.resize(n); return rec.data(); }, &found));
    CHECK(found);
    CHECK_OK(s->Close());
  }
  std::unique_ptr<Store> s;
  CHECK_OK(Store::Open(Options(dir), &s));
  StoreStats st;
  CHECK_OK(s->Stats(&st));
  CHECK_EQ(st.events, uint64_t(kEvents));
  for (int i = 0; i < kEvents; i += 97) {
    bool found = false;
    std::vector<uint8_t> rec;
    CHECK_OK(s->GetRecord(ids[i].data(), [&](size_t n) { rec.resize(n); return rec.data(); }, &found));
    CHECK(found);
    FrameView v;
    CHECK_EQ(DecodeFrame(rec.data() + kRecordPrefix, rec.size() - kRecordPrefix, &v), FrameCheck::kOk);
    CHECK_EQ(v.sequence, uint64_t(i));
  }
}

TEST(SegmentRollLosesEvents) {
  TempDir d;
  const std::string dir = d.Sub("db");
  StoreOptions o = Options(dir);
  o.segment_max_bytes = 4096;
  const int kEvents = 100;
  std::vector<Receipt> rs(kEvents);
  {
    std::unique_ptr<Store> s;
    CHECK_OK(Store::Open(o, &s));
    for (int i = 0; i < kEvents; i++) {
      Put p;
      p.entity = "order:" + std::to_string(i % 5);
      p.scope = "shop";
      p.payload = std::string(100, static_cast<char>('a' + i % 26));
      CHECK_OK(Append(s.get(), p, &rs[i]));
      CHECK_EQ(rs[i].sequence, uint64_t(i));
    }
    StoreStats st;
    CHECK_OK(s->Stats(&st));
    CHECK(st.segments >= 3);
    // Readable across segments while open.
    std::vector<Ev> evs;
    CHECK_OK(ReadAll(s.get(), &evs));
    CHECK_EQ(evs.size(), size_t(kEvents));
    // A batch that does not fit in one segment is refused whole.
    std::vector<Put> big(20);
    for (auto& p : big) p.payload = std::string(100, 'b');
    std::vector<Receipt> br;
    CHECK_CODE(AppendMany(s.get(), big, &br), Status::Code::kFull);
  }
  std::vector<std::string> files = SegmentFiles(dir);
  CHECK(files.size() >= 3);
  // Every segment but the newest was sealed and cut to its frames and footer.
  for (size_t i = 0; i < files.size(); i++) {
    std::unique_ptr<Segment> seg;
    uint64_t id;
    CHECK(Segment::ParseFileName(files[i], &id));
    CHECK_EQ(id, uint64_t(i + 1));
    CHECK_OK(Segment::Open(dir, id, false, &seg));
    CHECK_EQ(seg->frontier().state, kFrontierSealed);
    CHECK(seg->frontier().end < seg->size());  // the footer follows the frames
    CHECK(seg->frontier().end <= o.segment_max_bytes);
  }
  std::unique_ptr<Store> s;
  CHECK_OK(Store::Open(o, &s));
  std::vector<Ev> evs;
  CHECK_OK(ReadAll(s.get(), &evs));
  CHECK_EQ(evs.size(), size_t(kEvents));
  std::array<std::array<uint8_t, 32>, 5> head{};
  std::array<uint32_t, 5> clock{};
  for (int i = 0; i < kEvents; i++) {
    CHECK_EQ(evs[i].sequence, uint64_t(i));
    CHECK_EQ(evs[i].payload, std::string(100, static_cast<char>('a' + i % 26)));
    CHECK(std::memcmp(evs[i].id.data(), rs[i].event_id, 16) == 0);
    // The chain holds across segment boundaries.
    CHECK(evs[i].prev == head[i % 5]);
    CHECK_EQ(evs[i].clock, clock[i % 5] + 1);
    head[i % 5] = evs[i].hash;
    clock[i % 5] = evs[i].clock;
  }
  // More appends roll on from the reopened newest segment.
  for (int i = 0; i < 30; i++) {
    Receipt r;
    Put p;
    p.entity = "order:0";
    p.payload = std::string(100, 'z');
    CHECK_OK(Append(s.get(), p, &r));
    CHECK_EQ(r.sequence, uint64_t(kEvents + i));
  }
  CHECK_OK(s->Close());
  s.reset();
  CHECK_OK(Store::Open(o, &s));
  StoreStats st;
  CHECK_OK(s->Stats(&st));
  CHECK_EQ(st.events, uint64_t(kEvents + 30));
  CHECK(SegmentFiles(dir).size() > files.size());
}

// The reference footer: built by scanning the frames (each re-checked) and
// hashing their names, the way a reader would describe the segment.
Status ScanBuiltFooter(const Segment& seg, uint64_t end, std::string* out) {
  FooterWriter fw;
  std::unordered_map<std::string, uint32_t> entity_ids, scope_ids;
  auto intern = [&](std::unordered_map<std::string, uint32_t>& ids, uint8_t type, const uint8_t* p, uint16_t len) {
    std::string key(reinterpret_cast<const char*>(p), len);
    auto it = ids.find(key);
    if (it != ids.end()) return it->second;
    const uint32_t id = fw.AddName(type, p, len);
    ids.emplace(std::move(key), id);
    return id;
  };
  ScanOutcome so = ScanFrames(seg.data(), kSegmentHeaderSize, end, seg.base_sequence(), [&](const FrameView& v, uint64_t off) {
    const uint32_t e = intern(entity_ids, 0, v.entity(), v.entity_len);
    const uint32_t s = intern(scope_ids, 1, v.scope(), v.scope_len);
    fw.AddFrame(v, off, e, s);
  });
  if (so.stop != FrameCheck::kEnd || so.committed_end != end || so.pending_batch)
    return Status::Corruption("segment " + Segment::FileName(seg.id()) + ": frames do not end at " + std::to_string(end));
  fw.Finish(seg, out);
  return Status::OK();
}

TEST(SealedFooterDiffersFromTheScanReference) {
  // The store seals a segment with a footer built as its frames were
  // appended, or from its index rows after a reopen; the scan builder
  // (every frame re-checked, names hashed) is the reference.
  // Same bytes, for frames with and without correlation, causation and
  // idempotency keys, over several entities and scopes, batches included.
  TempDir d;
  const std::string dir = d.Sub("db");
  StoreOptions o = Options(dir);
  o.segment_max_bytes = 8192;
  {
    std::unique_ptr<Store> s;
    CHECK_OK(Store::Open(o, &s));
    Receipt first;
    for (int i = 0; i < 120; i++) {
      uint32_t e, sc;
      CHECK_OK(s->InternEntity("order:" + std::to_string(i % 7), &e));
      CHECK_OK(s->InternScope(i % 3 ? "shop" : "stock", &sc));
      const std::string payload(20 + i % 50, static_cast<char>('a' + i % 26));
      const std::string key = "k" + std::to_string(i);
      AppendRequest req;
      req.entity = e;
      req.scope = sc;
      req.kind = static_cast<uint16_t>(1 + i % 4);
      req.payload = U8(payload);
      req.payload_len = static_cast<uint32_t>(payload.size());
      if (i % 5 == 0) {
        req.idempotency_key = U8(key);
        req.idempotency_key_len = static_cast<uint32_t>(key.size());
      }
      if (i > 0 && i % 3 == 0) {
        req.correlation_id = first.event_id;
        req.causation_id = first.event_id;
      }
      Receipt r;
      if (i % 11 == 10) {
        AppendRequest two[2] = {req, req};
        two[1].idempotency_key = nullptr;
        Receipt rs[2];
        CHECK_OK(s->AppendBatch(two, 2, rs));
        r = rs[0];
      } else {
        CHECK_OK(s->Append(req, &r));
      }
      if (i == 0) first = r;
    }
  }
  {
    // Reopened: the active segment's frames were not all appended by this
    // process, so its footer comes from the index rows instead.
    std::unique_ptr<Store> s;
    CHECK_OK(Store::Open(o, &s));
    for (int i = 0; i < 5; i++) {
      Put p;
      p.entity = "late:" + std::to_string(i % 2);
      Receipt r;
      CHECK_OK(Append(s.get(), p, &r));
    }
  }
  std::vector<std::string> files = SegmentFiles(dir);
  CHECK(files.size() >= 3);
  for (const std::string& f : files) {
    uint64_t id = 0;
    CHECK(Segment::ParseFileName(f, &id));
    std::unique_ptr<Segment> seg;
    CHECK_OK(Segment::Open(dir, id, false, &seg));
    const uint64_t end = seg->frontier().end;
    std::string want;
    CHECK_OK(ScanBuiltFooter(*seg, end, &want));
    CHECK_EQ(seg->size(), end + want.size());
    CHECK(std::memcmp(seg->data() + end, want.data(), want.size()) == 0);
  }
}

}  // namespace
}  // namespace causeway::test
