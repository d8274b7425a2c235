// Recovery after a crash (MakeCrashCopy's copy of a store killed mid-write) and
// after damage to the files: what is cut as a torn tail, what is refused as corruption.

#include <unistd.h>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../checkpoint.h"
#include "../index_part.h"
#include "fixture.h"

namespace causeway::test {
namespace {

TEST(GarbageAfterLastFrameNotCut) {
  TempDir d;
  CrashFixture fx;
  CHECK(MakeCrashCopy(d, &fx));
  const std::string& copy = fx.copy;
  const uint64_t end4 = FrameEnd(fx.segment, fx.offsets[3]);
  CHECK(end4 > fx.offsets[3]);
  std::vector<uint8_t> junk(100, 0x5a);
  CHECK(WriteAt(fx.segment, end4, junk.data(), junk.size()));
  {
    std::unique_ptr<Store> s;
    CHECK_OK(Store::Open(Options(copy), &s));
    StoreStats st;
    CHECK_OK(s->Stats(&st));
    CHECK_EQ(st.events, uint64_t(4));  // e4 checks, it only sits past the frontier
    CHECK(st.recovered_torn_bytes >= 100 && st.recovered_torn_bytes <= 104);
    Receipt r;
    Put p;
    p.payload = "event-5";
    CHECK_OK(Append(s.get(), p, &r));
    CHECK_EQ(r.sequence, uint64_t(4));
    CHECK_EQ(r.clock, 5u);
    CHECK(std::memcmp(r.prev_hash, fx.rs[3].content_hash, 32) == 0);
    CHECK_OK(s->Close());
  }
  std::unique_ptr<Store> s;
  CHECK_OK(Store::Open(Options(copy), &s));
  StoreStats st;
  CHECK_OK(s->Stats(&st));
  CHECK_EQ(st.events, uint64_t(5));
  CHECK_EQ(st.recovered_torn_bytes, uint64_t(0));
  std::vector<Ev> evs;
  CHECK_OK(ReadAll(s.get(), &evs));
  CHECK_EQ(evs[4].payload, std::string("event-5"));
  CHECK(evs[4].prev == evs[3].hash);
}

TEST(TornLastFrameNotCut) {
  TempDir d;
  CrashFixture fx;
  CHECK(MakeCrashCopy(d, &fx));
  const std::string& copy = fx.copy;
  // e4 half on disk: its second half never made it.
  const uint64_t at = fx.offsets[3];
  std::vector<uint8_t> zeros(100, 0);
  CHECK(WriteAt(fx.segment, at + 100, zeros.data(), zeros.size()));
  {
    std::unique_ptr<Store> s;
    CHECK_OK(Store::Open(Options(copy), &s));
    StoreStats st;
    CHECK_OK(s->Stats(&st));
    CHECK_EQ(st.events, uint64_t(3));
    CHECK_EQ(st.next_sequence, uint64_t(3));
    CHECK(st.recovered_torn_bytes > 0);
    // The store keeps accepting appends, continuing clock and chain from e3.
    Receipt r;
    Put p;
    p.payload = "event-4-again";
    CHECK_OK(Append(s.get(), p, &r));
    CHECK_EQ(r.sequence, uint64_t(3));
    CHECK_EQ(r.clock, 4u);
    CHECK(std::memcmp(r.prev_hash, fx.rs[2].content_hash, 32) == 0);
    bool found = true;
    std::vector<uint8_t> rec;
    CHECK_OK(s->GetRecord(fx.rs[3].event_id, [&](size_t n) { rec.resize(n); return rec.data(); }, &found));
    CHECK(!found);
    CHECK_OK(s->Close());
  }
  // The cut is final: the torn bytes are gone from the file, the new event stays.
  std::unique_ptr<Store> s;
  CHECK_OK(Store::Open(Options(copy), &s));
  std::vector<Ev> evs;
  CHECK_OK(ReadAll(s.get(), &evs));
  CHECK_EQ(evs.size(), size_t(4));
  CHECK_EQ(evs[3].payload, std::string("event-4-again"));
  CHECK(evs[3].prev == evs[2].hash);
  StoreStats st;
  CHECK_OK(s->Stats(&st));
  CHECK_EQ(st.recovered_torn_bytes, uint64_t(0));
}

TEST(UnsyncedTailOfCrashCopyLost) {
  // Nothing damaged: a crash copy keeps every frame that made it to the page
  // cache, synced or not, and reopens writable.
  TempDir d;
  CrashFixture fx;
  CHECK(MakeCrashCopy(d, &fx));
  const std::string& copy = fx.copy;
  std::unique_ptr<Store> s;
  CHECK_OK(Store::Open(Options(copy), &s));
  std::vector<Ev> evs;
  CHECK_OK(ReadAll(s.get(), &evs));
  CHECK_EQ(evs.size(), size_t(4));
  CHECK_EQ(evs[3].payload, std::string("event-4-never-synced"));
  StoreStats st;
  CHECK_OK(s->Stats(&st));
  CHECK_EQ(st.recovered_torn_bytes, uint64_t(0));
  CHECK_EQ(st.durable_sequence, uint64_t(4));
}

TEST(ReadOnlyOpenRewritesCrashedSegment) {
  // A reader of a crashed store sees the committed events and changes no byte:
  // cutting the torn tail is the next writer's job.
  TempDir d;
  CrashFixture fx;
  CHECK(MakeCrashCopy(d, &fx));
  const std::string& copy = fx.copy;
  const uint64_t end4 = FrameEnd(fx.segment, fx.offsets[3]);
  std::vector<uint8_t> junk(64, 0xee);
  CHECK(WriteAt(fx.segment, end4, junk.data(), junk.size()));
  std::vector<uint8_t> before;
  CHECK(ReadAllBytes(fx.segment, &before));
  {
    StoreOptions ro = Options(copy);
    ro.read_only = true;
    std::unique_ptr<Store> s;
    CHECK_OK(Store::Open(ro, &s));
    std::vector<Ev> evs;
    CHECK_OK(ReadAll(s.get(), &evs));
    CHECK_EQ(evs.size(), size_t(4));
    Receipt r;
    CHECK_CODE(Append(s.get(), Put(), &r), Status::Code::kInvalidArgument);
    CHECK_OK(s->Sync());
    CHECK_OK(s->Close());
  }
  std::vector<uint8_t> after;
  CHECK(ReadAllBytes(fx.segment, &after));
  CHECK(after == before);
  // The writer then cuts it.
  std::unique_ptr<Store> s;
  CHECK_OK(Store::Open(Options(copy), &s));
  StoreStats st;
  CHECK_OK(s->Stats(&st));
  CHECK_EQ(st.events, uint64_t(4));
  CHECK_EQ(st.recovered_torn_bytes, uint64_t(64));
}

TEST(DamageBelowFrontierTreatedAsTornTail) {
  TempDir d;
  CrashFixture fx;
  CHECK(MakeCrashCopy(d, &fx));
  const std::string& copy = fx.copy;
  // e2 was synced and recorded durable: a changed byte is corruption, never a cut.
  CHECK(XorByte(fx.segment, fx.offsets[1] + frame::kVariable + 2, 0x04));
  std::vector<uint8_t> damaged;
  CHECK(ReadAllBytes(fx.segment, &damaged));
  std::unique_ptr<Store> s;
  Status st = Store::Open(Options(copy), &s);
  CHECK_EQ(st.code(), Status::Code::kCorruption);
  CHECK(Contains(st.message(), Segment::FileName(1)));
  CHECK(Contains(st.message(), "offset " + std::to_string(fx.offsets[1])));
  CHECK(Contains(st.message(), "durable frontier"));
  // Refusing to open must not have cut or rewritten anything.
  std::vector<uint8_t> after;
  CHECK(ReadAllBytes(fx.segment, &after));
  CHECK(after == damaged);
}

TEST(FlippedByteInSealedSegmentAccepted) {
  TempDir d;
  const std::string dir = d.Sub("db");
  StoreOptions o = Options(dir);
  o.segment_max_bytes = 4096;
  {
    std::unique_ptr<Store> s;
    CHECK_OK(Store::Open(o, &s));
    for (int i = 0; i < 40; i++) {
      Receipt r;
      Put p;
      p.payload = std::string(100, 'k');
      CHECK_OK(Append(s.get(), p, &r));
    }
  }
  CHECK(SegmentFiles(dir).size() >= 3);
  // Without the index checkpoint, the segment footers and the index files
  // the open scans (and checks) every sealed frame.
  CHECK_OK(RemoveCheckpoint(dir));
  for (uint64_t id = 1; id <= SegmentFiles(dir).size(); id++) {
    ::unlink(IndexPartPath(dir, Segment::FileName(id)).c_str());
    std::unique_ptr<Segment> seg;
    CHECK_OK(Segment::Open(dir, id, false, &seg));
    const uint64_t end = seg->frontier().end;
    seg.reset();
    CHECK(::truncate((dir + "/" + Segment::FileName(id)).c_str(), static_cast<off_t>(end)) == 0);
  }
  const std::string seg1 = dir + "/" + Segment::FileName(1);
  std::vector<uint64_t> offs = FrameOffsets(seg1);
  CHECK(offs.size() >= 3);
  std::vector<uint8_t> pristine;
  CHECK(ReadAllBytes(seg1, &pristine));
  // Flip one byte of the second frame, in turn in the header fields, the
  // names and the payload: the store refuses to open, naming where.
  const uint64_t at = offs[1];
  for (uint64_t rel : {uint64_t(0), uint64_t(2), uint64_t(frame::kCrc), uint64_t(frame::kFlags),
                       uint64_t(frame::kSequence), uint64_t(frame::kContentHash + 5), uint64_t(frame::kVariable),
                       uint64_t(frame::kVariable + 50)}) {
    CHECK(WriteAt(seg1, 0, pristine.data(), pristine.size()));
    CHECK(XorByte(seg1, at + rel, 0x01));
    std::unique_ptr<Store> s;
    Status st = Store::Open(o, &s);
    if (st.code() != Status::Code::kCorruption) {
      Fail(__FILE__, __LINE__, "byte " + std::to_string(rel) + " of frame 2 flipped: " + Str(st.code()) + " " + st.message());
      return;
    }
    if (!Contains(st.message(), Segment::FileName(1)) || !Contains(st.message(), "offset " + std::to_string(at))) {
      Fail(__FILE__, __LINE__, "byte " + std::to_string(rel) + ": message lacks segment/offset " + std::to_string(at) +
                                   ": " + st.message());
      return;
    }
  }
  // The newest segment, sealed by Close, is checked the same way.
  CHECK(WriteAt(seg1, 0, pristine.data(), pristine.size()));
  const std::vector<std::string> files = SegmentFiles(dir);
  const std::string last = dir + "/" + files.back();
  std::vector<uint64_t> last_offs = FrameOffsets(last);
  CHECK(!last_offs.empty());
  CHECK(XorByte(last, last_offs.back() + frame::kVariable + 20, 0x40));
  std::unique_ptr<Store> s;
  Status st = Store::Open(o, &s);
  CHECK_EQ(st.code(), Status::Code::kCorruption);
  CHECK(Contains(st.message(), files.back()));
  CHECK(Contains(st.message(), "offset " + std::to_string(last_offs.back())));
}

TEST(MissingMiddleSegmentAccepted) {
  TempDir d;
  const std::string dir = d.Sub("db");
  StoreOptions o = Options(dir);
  o.segment_max_bytes = 4096;
  {
    std::unique_ptr<Store> s;
    CHECK_OK(Store::Open(o, &s));
    for (int i = 0; i < 40; i++) {
      Receipt r;
      Put p;
      p.payload = std::string(100, 'k');
      CHECK_OK(Append(s.get(), p, &r));
    }
  }
  const std::vector<std::string> files = SegmentFiles(dir);
  CHECK(files.size() >= 3);
  CHECK(::unlink((dir + "/" + files[1]).c_str()) == 0);
  std::unique_ptr<Store> s;
  Status st = Store::Open(o, &s);
  CHECK_EQ(st.code(), Status::Code::kCorruption);
  CHECK(Contains(st.message(), files[2]));
}

}  // namespace
}  // namespace causeway::test
