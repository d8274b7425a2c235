#include "fixture.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>

#include "../hash.h"

namespace causeway::test {

bool g_failed = false;

void Fail(const char* file, int line, const std::string& what) {
  g_failed = true;
  std::fprintf(stderr, "    %s:%d: %s\n", file, line, what.c_str());
  std::fflush(stderr);
}

std::vector<TestCase>& Registry() {
  static std::vector<TestCase> r;
  return r;
}

int RunOne(const TestCase& t) {
  g_failed = false;
  t.fn();
  return g_failed ? 1 : 0;
}

// ---------------------------------------------------------------------------
// Helpers.

std::string Hex(const uint8_t* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; i++) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

// Where TempDirs go: a directory the runner creates per test under /tmp and
// removes after it, so a test that crashes leaves nothing behind.
std::string g_test_root;

uint64_t FileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return UINT64_MAX;
  return static_cast<uint64_t>(st.st_size);
}

bool ReadAllBytes(const std::string& path, std::vector<uint8_t>* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out->clear();
  uint8_t buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    out->insert(out->end(), buf, buf + n);
  }
  ::close(fd);
  return true;
}

bool WriteAt(const std::string& path, uint64_t offset, const void* data, size_t n) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::pwrite(fd, data, n, static_cast<off_t>(offset)) == static_cast<ssize_t>(n);
  ::close(fd);
  return ok;
}

bool XorByte(const std::string& path, uint64_t offset, uint8_t mask) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  uint8_t b;
  bool ok = ::pread(fd, &b, 1, static_cast<off_t>(offset)) == 1;
  b ^= mask;
  ok = ok && ::pwrite(fd, &b, 1, static_cast<off_t>(offset)) == 1;
  ::close(fd);
  return ok;
}

// Byte-for-byte copy of every regular file of `src` into a new `dst`. Taken
// while a store is open, the copy is what a SIGKILL leaves behind: what the
// page cache holds, with the active segment unsealed.
bool CopyDir(const std::string& src, const std::string& dst) {
  if (::mkdir(dst.c_str(), 0755) != 0) return false;
  for (const auto& e : std::filesystem::directory_iterator(src)) {
    if (!e.is_regular_file()) continue;
    std::vector<uint8_t> bytes;
    if (!ReadAllBytes(e.path().string(), &bytes)) return false;
    std::string to = dst + "/" + e.path().filename().string();
    int fd = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
      if (n <= 0) {
        ::close(fd);
        return false;
      }
      off += static_cast<size_t>(n);
    }
    ::close(fd);
  }
  return true;
}

std::vector<std::string> SegmentFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    uint64_t id;
    std::string n = e.path().filename().string();
    if (Segment::ParseFileName(n, &id)) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Offsets of the frames of a segment file, walking from the header while they decode.
std::vector<uint64_t> FrameOffsets(const std::string& path) {
  std::vector<uint8_t> b;
  std::vector<uint64_t> out;
  if (!ReadAllBytes(path, &b)) return out;
  uint64_t pos = kSegmentHeaderSize;
  while (pos < b.size()) {
    FrameView v;
    if (DecodeFrame(b.data() + pos, b.size() - pos, &v) != FrameCheck::kOk) break;
    out.push_back(pos);
    pos += AlignFrame(v.length);
  }
  return out;
}

// Offset just past the frame at `offset` of a segment file, 0 when it does not decode.
uint64_t FrameEnd(const std::string& path, uint64_t offset) {
  std::vector<uint8_t> b;
  if (!ReadAllBytes(path, &b) || offset >= b.size()) return 0;
  FrameView v;
  if (DecodeFrame(b.data() + offset, b.size() - offset, &v) != FrameCheck::kOk) return 0;
  return offset + AlignFrame(v.length);
}

// Appends the encoded frame to `buf` (at an 8-aligned end); returns its offset.
uint64_t AppendFrame(std::vector<uint8_t>* buf, const FrameSpec& s) {
  uint8_t ids[4][16];
  uint8_t hashes[2][32];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 16; j++) ids[i][j] = static_cast<uint8_t>(s.seed * 31 + i * 17 + j);
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 32; j++) hashes[i][j] = static_cast<uint8_t>(s.seed * 7 + i * 101 + j * 3);
  FrameFields f;
  f.flags = s.flags;
  f.kind = s.kind;
  f.clock = s.clock;
  f.sequence = s.sequence;
  f.timestamp_us = s.timestamp_us;
  f.event_id = ids[0];
  f.correlation_id = ids[1];
  f.causation_id = s.causation ? ids[2] : nullptr;
  f.idempotency = s.idempotency ? ids[3] : nullptr;
  f.content_hash = hashes[0];
  f.prev_hash = hashes[1];
  f.entity = U8(s.entity);
  f.entity_len = static_cast<uint16_t>(s.entity.size());
  f.scope = U8(s.scope);
  f.scope_len = static_cast<uint16_t>(s.scope.size());
  f.payload = s.payload.empty() ? nullptr : U8(s.payload);
  f.payload_len = static_cast<uint32_t>(s.payload.size());
  f.extension = s.extension.empty() ? nullptr : U8(s.extension);
  f.ext_len = static_cast<uint16_t>(s.extension.size());
  const uint64_t at = buf->size();
  const uint64_t span = FrameSpan(f.entity_len, f.scope_len, f.payload_len, f.ext_len);
  buf->resize(at + span, 0xAB);  // garbage where the padding goes: EncodeFrame must zero it
  EncodeFrame(f, buf->data() + at);
  return at;
}

// ----- store helpers

StoreOptions Options(const std::string& dir) {
  StoreOptions o;
  o.dir = dir;
  o.segment_max_bytes = 1 << 20;
  // No background sync: the tests decide when a sync happens.
  o.sync_every_events = 1ull << 40;
  o.sync_every_ms = 3600 * 1000;
  return o;
}

Status Append(Store* s, const Put& p, Receipt* r, AppendError* err) {
  uint32_t e, sc;
  CW_RETURN_IF_ERROR(s->InternEntity(p.entity, &e));
  CW_RETURN_IF_ERROR(s->InternScope(p.scope, &sc));
  AppendRequest req;
  req.entity = e;
  req.scope = sc;
  req.kind = p.kind;
  req.payload = U8(p.payload);
  req.payload_len = static_cast<uint32_t>(p.payload.size());
  if (p.key) {
    req.idempotency_key = reinterpret_cast<const uint8_t*>(p.key);
    req.idempotency_key_len = static_cast<uint32_t>(std::strlen(p.key));
  }
  if (p.expected >= 0) {
    req.has_expected = true;
    req.expected_clock = static_cast<uint32_t>(p.expected);
  }
  return s->Append(req, r, false, err);
}

Status AppendMany(Store* s, const std::vector<Put>& puts, std::vector<Receipt>* out, AppendError* err) {
  std::vector<AppendRequest> reqs(puts.size());
  for (size_t i = 0; i < puts.size(); i++) {
    const Put& p = puts[i];
    CW_RETURN_IF_ERROR(s->InternEntity(p.entity, &reqs[i].entity));
    CW_RETURN_IF_ERROR(s->InternScope(p.scope, &reqs[i].scope));
    reqs[i].kind = p.kind;
    reqs[i].payload = U8(p.payload);
    reqs[i].payload_len = static_cast<uint32_t>(p.payload.size());
    if (p.key) {
      reqs[i].idempotency_key = reinterpret_cast<const uint8_t*>(p.key);
      reqs[i].idempotency_key_len = static_cast<uint32_t>(std::strlen(p.key));
    }
    if (p.expected >= 0) {
      reqs[i].has_expected = true;
      reqs[i].expected_clock = static_cast<uint32_t>(p.expected);
    }
  }
  out->assign(puts.size(), Receipt());
  return s->AppendBatch(reqs.data(), reqs.size(), out->data(), nullptr, false, err);
}

// Every event of the store in sequence order, through the public read path.
Status ReadAll(Store* s, std::vector<Ev>* out) {
  std::vector<uint8_t> buf;
  size_t count = 0;
  CW_RETURN_IF_ERROR(s->RecordsBySequence(0, UINT64_MAX,
                                          [&](size_t n) {
                                            buf.resize(n);
                                            return buf.data();
                                          },
                                          &count));
  out->clear();
  size_t pos = 0;
  for (size_t i = 0; i < count; i++) {
    if (pos + kRecordPrefix > buf.size()) return Status::Corruption("record " + std::to_string(i) + " past the buffer");
    const uint32_t span = LoadLE<uint32_t>(buf.data() + pos);
    FrameView v;
    FrameCheck c = DecodeFrame(buf.data() + pos + kRecordPrefix, span - kRecordPrefix, &v);
    if (c != FrameCheck::kOk) return Status::Corruption("record " + std::to_string(i) + ": " + FrameCheckName(c));
    Ev e;
    e.sequence = v.sequence;
    e.clock = v.clock;
    e.kind = v.kind;
    e.flags = v.flags;
    e.entity.assign(reinterpret_cast<const char*>(v.entity()), v.entity_len);
    e.scope.assign(reinterpret_cast<const char*>(v.scope()), v.scope_len);
    e.payload.assign(reinterpret_cast<const char*>(v.payload()), v.payload_len);
    std::memcpy(e.id.data(), v.event_id(), 16);
    std::memcpy(e.hash.data(), v.content_hash(), 32);
    std::memcpy(e.prev.data(), v.prev_hash(), 32);
    out->push_back(e);
    pos += span;
  }
  if (pos != buf.size()) return Status::Corruption("records do not fill the buffer");
  return Status::OK();
}

std::array<uint8_t, 32> Blake3Of(const std::string& s) {
  std::array<uint8_t, 32> h;
  Blake3(U8(s), s.size(), h.data());
  return h;
}

bool Contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

// ----- the crash copy

namespace {

void BuildCrashCopy(const std::string& dir, const std::string& copy, CrashFixture* fx, bool* ok) {
  *ok = false;
  std::unique_ptr<Store> s;
  CHECK_OK(Store::Open(Options(dir), &s));
  for (int i = 0; i < 3; i++) {
    Put p;
    p.payload = "event-" + std::to_string(i + 1);
    CHECK_OK(Append(s.get(), p, &fx->rs[i]));
  }
  CHECK_OK(s->Sync());  // the data of e1..e3
  CHECK_OK(s->Sync());  // the frontier recording it
  Put p;
  p.payload = "event-4-never-synced";
  CHECK_OK(Append(s.get(), p, &fx->rs[3]));
  CHECK(CopyDir(dir, copy));
  CHECK_OK(s->Close());
  fx->segment = copy + "/" + Segment::FileName(1);
  fx->offsets = FrameOffsets(fx->segment);
  CHECK_EQ(fx->offsets.size(), size_t(4));
  // The copy is unsealed, its durable frontier just past e3.
  std::unique_ptr<Segment> seg;
  CHECK_OK(Segment::Open(copy, 1, false, &seg));
  CHECK_EQ(seg->frontier().state, kFrontierOpen);
  CHECK_EQ(seg->frontier().end, fx->offsets[3]);
  CHECK_EQ(seg->frontier().next_sequence, uint64_t(3));
  *ok = true;
}

}  // namespace

bool MakeCrashCopy(const TempDir& d, CrashFixture* fx) {
  fx->dir = d.Sub("db");
  fx->copy = d.Sub("crash");
  bool ok = false;
  BuildCrashCopy(fx->dir, fx->copy, fx, &ok);
  return ok;
}

bool PopulateTakesEffect() {
#if defined(MADV_POPULATE_WRITE)
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  void* p = ::mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return false;
  unsigned char in = 0;
  const bool ok = ::madvise(p, page, MADV_POPULATE_WRITE) == 0 && ::mincore(p, page, &in) == 0 && (in & 1);
  ::munmap(p, page);
  return ok;
#else
  return false;
#endif
}

}  // namespace causeway::test
