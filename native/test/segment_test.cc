// Segment files: names, creation, header checks, the two frontier slots, resizing.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../crc32c.h"
#include "fixture.h"

namespace causeway::test {
namespace {

// ===========================================================================
// Segment

TEST(SegmentFileNameRoundTripBroken) {
  for (uint64_t id : {uint64_t(0), uint64_t(1), uint64_t(0xabcdef), UINT64_MAX}) {
    uint64_t back = 12345;
    const std::string n = Segment::FileName(id);
    CHECK_EQ(n.size(), size_t(22));
    CHECK(Segment::ParseFileName(n, &back));
    CHECK_EQ(back, id);
  }
  CHECK_EQ(Segment::FileName(1), std::string("0000000000000001.cwseg"));
  uint64_t id;
  CHECK(!Segment::ParseFileName("0000000000000001.cwseg.tmp", &id));
  CHECK(!Segment::ParseFileName("000000000000000A.cwseg", &id));
  CHECK(!Segment::ParseFileName("000000000000001.cwseg", &id));
  CHECK(!Segment::ParseFileName("0000000000000001.cwsex", &id));
  CHECK(!Segment::ParseFileName("LOCK", &id));
}

TEST(CreateLeavesSparseOrWrongSizedFile) {
  TempDir d;
  std::unique_ptr<Segment> s;
  const uint64_t cap = 1 << 20;
  CHECK_OK(Segment::Create(d.path(), 3, 500, cap, &s));
  const std::string path = d.Sub(Segment::FileName(3));
  CHECK_EQ(s->path(), path);
  CHECK_EQ(s->size(), cap);
  struct stat st;
  CHECK(::stat(path.c_str(), &st) == 0);
  CHECK_EQ(static_cast<uint64_t>(st.st_size), cap);
  // posix_fallocate, not a sparse ftruncate: the blocks are allocated.
  CHECK(static_cast<uint64_t>(st.st_blocks) * 512 >= cap);
  CHECK_EQ(FileSize(path + ".tmp"), UINT64_MAX);  // renamed into place
  CHECK(std::memcmp(s->data(), kSegmentMagic, 8) == 0);
  CHECK_EQ(LoadLE<uint32_t>(s->data() + 8), kFormatVersion);
  CHECK_EQ(LoadLE<uint32_t>(s->data() + 12), uint32_t(kSegmentHeaderSize));
  CHECK_EQ(LoadLE<uint64_t>(s->data() + 16), uint64_t(3));
  CHECK_EQ(LoadLE<uint64_t>(s->data() + 24), uint64_t(500));
  CHECK(LoadLE<int64_t>(s->data() + 32) > 0);
  CHECK_EQ(s->id(), uint64_t(3));
  CHECK_EQ(s->base_sequence(), uint64_t(500));
  CHECK_EQ(s->frontier().generation, uint64_t(1));
  CHECK_EQ(s->frontier().end, uint64_t(kSegmentHeaderSize));
  CHECK_EQ(s->frontier().next_sequence, uint64_t(500));
  CHECK_EQ(s->frontier().state, kFrontierOpen);
  // Everything after the header reads as zero.
  for (uint64_t i = kSegmentHeaderSize; i < cap; i += 4093) CHECK_EQ(s->data()[i], uint8_t(0));
  s.reset();
  std::unique_ptr<Segment> r;
  CHECK_OK(Segment::Open(d.path(), 3, false, &r));
  CHECK_EQ(r->size(), cap);
  CHECK_EQ(r->base_sequence(), uint64_t(500));
  CHECK_EQ(r->frontier().generation, uint64_t(1));
}

TEST(OpenAcceptsDamagedHeader) {
  TempDir d;
  const std::string path = d.Sub(Segment::FileName(1));
  auto fresh = [&]() {
    std::unique_ptr<Segment> s;
    Status st = Segment::Create(d.path(), 1, 0, 8192, &s);
    return st;
  };
  std::unique_ptr<Segment> s;
  // Bad magic.
  CHECK_OK(fresh());
  CHECK(WriteAt(path, 0, "XWSEGv01", 8));
  Status st = Segment::Open(d.path(), 1, false, &s);
  CHECK_EQ(st.code(), Status::Code::kCorruption);
  CHECK(Contains(st.message(), "magic"));
  CHECK(Contains(st.message(), Segment::FileName(1)));
  // A flipped header byte (base sequence): checksum.
  CHECK_OK(fresh());
  CHECK(XorByte(path, 24, 0x01));
  st = Segment::Open(d.path(), 1, true, &s);
  CHECK_EQ(st.code(), Status::Code::kCorruption);
  CHECK(Contains(st.message(), "checksum"));
  // A future format version with a valid CRC.
  CHECK_OK(fresh());
  {
    std::vector<uint8_t> h;
    CHECK(ReadAllBytes(path, &h));
    StoreLE<uint32_t>(h.data() + 8, kFormatVersion + 1);
    StoreLE<uint32_t>(h.data() + kHeaderCrcOffset, crc32c::Mask(crc32c::Value(h.data(), kHeaderCrcOffset)));
    CHECK(WriteAt(path, 0, h.data(), kSegmentHeaderSize));
  }
  st = Segment::Open(d.path(), 1, false, &s);
  CHECK_EQ(st.code(), Status::Code::kCorruption);
  CHECK(Contains(st.message(), "version"));
  // A file renamed to another id.
  CHECK_OK(fresh());
  CHECK(::rename(path.c_str(), d.Sub(Segment::FileName(2)).c_str()) == 0);
  st = Segment::Open(d.path(), 2, false, &s);
  CHECK_EQ(st.code(), Status::Code::kCorruption);
  CHECK(Contains(st.message(), "another segment"));
  // Shorter than a header.
  CHECK_OK(fresh());
  CHECK(::truncate(path.c_str(), 100) == 0);
  st = Segment::Open(d.path(), 1, false, &s);
  CHECK_EQ(st.code(), Status::Code::kCorruption);
  CHECK(Contains(st.message(), "shorter"));
  // Missing: an I/O error, not corruption.
  st = Segment::Open(d.path(), 9, false, &s);
  CHECK_EQ(st.code(), Status::Code::kIoError);
  // And a good one opens.
  CHECK_OK(fresh());
  CHECK_OK(Segment::Open(d.path(), 1, true, &s));
}

TEST(FrontierSlotsDoNotAlternate) {
  TempDir d;
  std::unique_ptr<Segment> s;
  CHECK_OK(Segment::Create(d.path(), 1, 100, 65536, &s));
  const uint8_t* slot0 = s->data() + kFrontierSlot0;
  const uint8_t* slot1 = s->data() + kFrontierSlot0 + kFrontierSlotSize;
  CHECK_EQ(LoadLE<uint64_t>(slot0), uint64_t(1));
  CHECK_EQ(LoadLE<uint64_t>(slot1), uint64_t(0));
  CHECK_OK(s->WriteFrontier(1024, 110, kFrontierOpen));
  CHECK_EQ(LoadLE<uint64_t>(slot0), uint64_t(1));  // untouched
  CHECK_EQ(LoadLE<uint64_t>(slot1), uint64_t(2));
  CHECK_EQ(LoadLE<uint64_t>(slot1 + 8), uint64_t(1024));
  CHECK_EQ(LoadLE<uint64_t>(slot1 + 16), uint64_t(110));
  CHECK_EQ(LoadLE<uint32_t>(slot1 + 24), kFrontierOpen);
  CHECK_OK(s->WriteFrontier(2048, 120, kFrontierSealed));
  CHECK_EQ(LoadLE<uint64_t>(slot0), uint64_t(3));
  CHECK_EQ(LoadLE<uint64_t>(slot1), uint64_t(2));
  CHECK_EQ(s->frontier().generation, uint64_t(3));
  CHECK_EQ(s->frontier().end, uint64_t(2048));
  CHECK_OK(s->Sync(SyncMode::kAll));
  s.reset();
  // The newest valid slot wins after reopen.
  CHECK_OK(Segment::Open(d.path(), 1, true, &s));
  CHECK_EQ(s->frontier().generation, uint64_t(3));
  CHECK_EQ(s->frontier().end, uint64_t(2048));
  CHECK_EQ(s->frontier().next_sequence, uint64_t(120));
  CHECK_EQ(s->frontier().state, kFrontierSealed);
  // Writing after reopen goes to the other slot (slot 1, generation 4).
  CHECK_OK(s->WriteFrontier(4096, 130, kFrontierOpen));
  CHECK_EQ(LoadLE<uint64_t>(s->data() + kFrontierSlot0 + kFrontierSlotSize), uint64_t(4));
  CHECK_EQ(LoadLE<uint64_t>(s->data() + kFrontierSlot0), uint64_t(3));
  s.reset();
  CHECK_OK(Segment::Open(d.path(), 1, false, &s));
  CHECK_EQ(s->frontier().generation, uint64_t(4));
  CHECK_EQ(s->frontier().end, uint64_t(4096));
}

TEST(CorruptFrontierSlotNotSkipped) {
  TempDir d;
  const std::string path = d.Sub(Segment::FileName(1));
  {
    std::unique_ptr<Segment> s;
    CHECK_OK(Segment::Create(d.path(), 1, 100, 65536, &s));  // gen 1 in slot 0
    CHECK_OK(s->WriteFrontier(1024, 110, kFrontierOpen));    // gen 2 in slot 1
    CHECK_OK(s->WriteFrontier(2048, 120, kFrontierOpen));    // gen 3 in slot 0
    CHECK_OK(s->Sync(SyncMode::kAll));
  }
  // Torn newest slot (slot 0): the other slot's frontier.
  CHECK(XorByte(path, kFrontierSlot0 + 9, 0x10));
  std::unique_ptr<Segment> s;
  CHECK_OK(Segment::Open(d.path(), 1, true, &s));
  CHECK_EQ(s->frontier().generation, uint64_t(2));
  CHECK_EQ(s->frontier().end, uint64_t(1024));
  CHECK_EQ(s->frontier().next_sequence, uint64_t(110));
  // The next write replaces the damaged slot, not the good one.
  CHECK_OK(s->WriteFrontier(3072, 125, kFrontierOpen));
  CHECK_OK(s->Sync(SyncMode::kAll));
  s.reset();
  CHECK_OK(Segment::Open(d.path(), 1, false, &s));
  CHECK_EQ(s->frontier().generation, uint64_t(3));
  CHECK_EQ(s->frontier().end, uint64_t(3072));
  s.reset();
  // Both slots damaged: no frontier (generation 0, nothing durable, base sequence).
  CHECK(XorByte(path, kFrontierSlot0 + 1, 0x01));
  CHECK(XorByte(path, kFrontierSlot0 + kFrontierSlotSize + 1, 0x01));
  CHECK_OK(Segment::Open(d.path(), 1, false, &s));
  CHECK_EQ(s->frontier().generation, uint64_t(0));
  CHECK_EQ(s->frontier().end, uint64_t(kSegmentHeaderSize));
  CHECK_EQ(s->frontier().next_sequence, uint64_t(100));
}

// A valid slot whose end lies past the file is not a torn slot: the file
// lost synced bytes. Segment::Open keeps it so that recovery can say so
// (falling back to the older slot would silently drop acknowledged events).
TEST(FrontierPastFileEndSilentlyDropped) {
  TempDir d;
  {
    std::unique_ptr<Segment> s;
    CHECK_OK(Segment::Create(d.path(), 1, 0, 8192, &s));  // gen 1
    CHECK_OK(s->WriteFrontier(4096, 5, kFrontierOpen));  // gen 2, slot 1
    CHECK_OK(s->WriteFrontier(8192 + 8, 9, kFrontierOpen));  // gen 3, slot 0: past the file
    CHECK_OK(s->Sync(SyncMode::kAll));
  }
  std::unique_ptr<Segment> s;
  CHECK_OK(Segment::Open(d.path(), 1, false, &s));
  CHECK_EQ(s->frontier().generation, uint64_t(3));
  CHECK_EQ(s->frontier().end, uint64_t(8192 + 8));
}

// The store's view of the same damage: a sealed newest segment cut short
// (mid-frame) after a clean close must not reopen as a merely torn tail.
TEST(TruncatedSealedSegmentReopensAsTornTail) {
  TempDir d;
  const std::string dir = d.Sub("db");
  {
    std::unique_ptr<Store> s;
    CHECK_OK(Store::Open(Options(dir), &s));
    for (int i = 0; i < 3; i++) {
      Receipt r;
      Put p;
      p.payload = "acknowledged-" + std::to_string(i);
      CHECK_OK(Append(s.get(), p, &r));
    }
    CHECK_OK(s->Sync());
    CHECK_OK(s->Sync());
    Receipt r;
    CHECK_OK(Append(s.get(), Put(), &r));
    CHECK_OK(s->Close());  // synced and sealed: all four are durable
  }
  const std::string seg = dir + "/" + Segment::FileName(1);
  std::vector<uint64_t> offs = FrameOffsets(seg);
  CHECK_EQ(offs.size(), size_t(4));
  CHECK(::truncate(seg.c_str(), static_cast<off_t>(offs[3] + 40)) == 0);
  std::unique_ptr<Store> s;
  Status st = Store::Open(Options(dir), &s);
  CHECK_EQ(st.code(), Status::Code::kCorruption);
  CHECK(Contains(st.message(), Segment::FileName(1)));
  // Nothing was cut or regrown by the refused open.
  CHECK_EQ(FileSize(seg), offs[3] + 40);
}

TEST(ResizeLosesDataOrSize) {
  TempDir d;
  const std::string path = d.Sub(Segment::FileName(1));
  std::unique_ptr<Segment> s;
  CHECK_OK(Segment::Create(d.path(), 1, 0, 65536, &s));
  for (uint64_t i = kSegmentHeaderSize; i < 4096; i++) s->mutable_data()[i] = static_cast<uint8_t>(i * 7);
  s->mutable_data()[60000] = 0x77;  // beyond the cut
  CHECK_OK(s->Resize(4096));
  CHECK_EQ(s->size(), uint64_t(4096));
  CHECK_EQ(FileSize(path), uint64_t(4096));
  for (uint64_t i = kSegmentHeaderSize; i < 4096; i++) CHECK_EQ(s->data()[i], static_cast<uint8_t>(i * 7));
  CHECK(std::memcmp(s->data(), kSegmentMagic, 8) == 0);
  CHECK_OK(s->Resize(1 << 17));
  CHECK_EQ(s->size(), uint64_t(1 << 17));
  CHECK_EQ(FileSize(path), uint64_t(1 << 17));
  struct stat st;
  CHECK(::stat(path.c_str(), &st) == 0);
  CHECK(static_cast<uint64_t>(st.st_blocks) * 512 >= (1u << 17));
  for (uint64_t i = kSegmentHeaderSize; i < 4096; i++) CHECK_EQ(s->data()[i], static_cast<uint8_t>(i * 7));
  // The grown part reads as zero: no stale byte from before the cut.
  for (uint64_t i = 4096; i < (1u << 17); i++) CHECK_EQ(s->data()[i], uint8_t(0));
  // Writable after the remap.
  s->mutable_data()[(1 << 17) - 1] = 9;
  CHECK_OK(s->Sync(SyncMode::kData));
  s.reset();
  std::vector<uint8_t> bytes;
  CHECK(ReadAllBytes(path, &bytes));
  CHECK_EQ(bytes.back(), uint8_t(9));
  // A read-only segment refuses to resize.
  CHECK_OK(Segment::Open(d.path(), 1, false, &s));
  CHECK_CODE(s->Resize(8192), Status::Code::kInvalidArgument);
  CHECK_EQ(FileSize(path), uint64_t(1 << 17));
}

// Minor faults this thread has taken so far.
long ThreadFaults() {
  struct rusage u;
  ::getrusage(RUSAGE_THREAD, &u);
  return u.ru_minflt;
}

// Whether an fdatasync in `dir` write-protects the mapped pages it writes
// back (a disk file system does; tmpfs keeps them writable): a shared
// mapping of a file there, stored to, synced, and stored to again.
bool FileBackedWriteback(const std::string& dir) {
  const size_t page = platform::PageSize();
  const std::string path = dir + "/writeback-probe";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0600);
  if (fd < 0) return false;
  bool faulted = false;
  if (::ftruncate(fd, page) == 0) {
    void* p = ::mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p != MAP_FAILED) {
      volatile uint8_t* b = static_cast<uint8_t*>(p);
      b[0] = 1;
      ::fdatasync(fd);
      const uint8_t seen = b[1];
      const long before = ThreadFaults();
      b[1] = static_cast<uint8_t>(seen + 1);
      faulted = ThreadFaults() - before >= 1;
      ::munmap(p, page);
    }
  }
  ::close(fd);
  ::unlink(path.c_str());
  return faulted;
}

// The writer fills [page, 15 pages), a sync cleans every page made ready,
// and the writer goes on from there: stores into the next `pages` pages,
// faults counted. Reads them first: they are mapped (reads take no fault),
// and a sanitizer's shadow of them faults in there, not in the count.
long FaultsAfterASync(uint64_t resume, uint64_t pages) {
  TempDir d;
  std::unique_ptr<Segment> s;
  const uint64_t page = platform::PageSize();
  if (!Segment::Create(d.path(), 1, 0, 1 << 20, &s).ok()) return -1;
  uint8_t* m = s->mutable_data();
  s->PrepareWrite(page, 15 * page);
  std::memset(m + page, 0xab, 14 * page);
  if (!s->Sync(SyncMode::kData).ok()) return -1;  // writeback write-protects every page made ready
  s->PrepareWrite(resume, resume + 64);
  volatile uint8_t sum = 0;
  for (uint64_t k = 0; k < pages; k++) sum = sum + m[resume + k * page];
  const long before = ThreadFaults();
  for (uint64_t k = 0; k < pages; k++) m[resume + k * page] = 1;
  const long faults = ThreadFaults() - before;
  return m[page + 10] == 0xab ? faults : -1;
}

TEST(PrepareWriteLeavesPagesASyncCleanedToFaultOneByOne) {
  const uint64_t page = platform::PageSize();
  // A writer that filled 14 pages in the interval goes on: 14 more pages ready.
  const long faults = FaultsAfterASync(15 * page, 14);
  CHECK(faults >= 0);
  // Where populating takes effect, the stores take no fault; else one a page.
  if (PopulateTakesEffect()) CHECK(faults <= 1);
}

TEST(PrepareWriteDirtiesPagesASlowWriterWillNotReachBeforeTheNextSync) {
  const uint64_t page = platform::PageSize();
  // Sync again at once: the writer moved no page since the last look, so
  // only its own page is made writable; the next ones fault when reached.
  TempDir d;
  std::unique_ptr<Segment> s;
  CHECK_OK(Segment::Create(d.path(), 1, 0, 1 << 20, &s));
  uint8_t* m = s->mutable_data();
  s->PrepareWrite(page, page + 64);
  m[page] = 1;
  CHECK_OK(s->Sync(SyncMode::kData));
  s->PrepareWrite(page + 64, page + 128);  // moved 64 bytes (from 0: the whole ready range once)
  m[page + 64] = 1;
  CHECK_OK(s->Sync(SyncMode::kData));
  s->PrepareWrite(page + 128, page + 192);  // moved 64 bytes: the head page only
  volatile uint8_t sum = 0;
  for (uint64_t k = 2; k < 8; k++) sum = sum + m[k * page];
  const long before = ThreadFaults();
  for (uint64_t k = 2; k < 8; k++) m[k * page] = 1;
  const long faults = ThreadFaults() - before;
  if (PopulateTakesEffect() && FileBackedWriteback(d.path())) CHECK(faults >= 5);
}

}  // namespace
}  // namespace causeway::test
