// Unit tests of causeway's C++ core (no Node-API): CRC32C, the BLAKE3
// wrapper, the frame codec, the frame scanner, segment files and the store.
//
// A single self-contained program, no test framework. Each test is named
// after the failure it catches (LevelDB log_test style) and runs in a forked
// child by default, so a crash or a sanitizer abort in one test is reported
// as that test's failure and the others still run.
//
//   core_test                 run every test, one line per test
//   core_test NAME...         run the tests whose name contains one of NAME
//   core_test --no-fork ...   run in this process (for a debugger)
//   core_test --list          print the test names
//
// The exit code is non-zero when any test fails. Store tests work in a fresh
// directory under /tmp that is removed afterwards (kept when
// CAUSEWAY_KEEP_TEST_DIRS is set, for post-mortems).
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <array>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "../checkpoint.h"
#include "../crc32c.h"
#include "../footer.h"
#include "../format.h"
#include "../frame.h"
#include "../hash.h"
#include "../index.h"
#include "../log_reader.h"
#include "../ring.h"
#include "../segment.h"
#include "../status.h"
#include "../store.h"

namespace causeway {
namespace {

// ---------------------------------------------------------------------------
// A tiny harness.

bool g_failed = false;  // the current test failed (each test runs alone)

void Fail(const char* file, int line, const std::string& what) {
  g_failed = true;
  std::fprintf(stderr, "    %s:%d: %s\n", file, line, what.c_str());
  std::fflush(stderr);
}

std::string Str(const std::string& s) { return "\"" + s + "\""; }
std::string Str(const char* s) { return s ? Str(std::string(s)) : "null"; }
template <typename T>
std::string Str(const T& v) {
  if constexpr (std::is_enum_v<T>) {
    return std::to_string(static_cast<long long>(v));
  } else if constexpr (std::is_same_v<T, bool>) {
    return v ? "true" : "false";
  } else if constexpr (std::is_signed_v<T>) {
    return std::to_string(static_cast<long long>(v));
  } else {
    return std::to_string(static_cast<unsigned long long>(v));
  }
}
std::string Str(FrameCheck c) { return std::string(FrameCheckName(c)); }
std::string Str(Status::Code c) { return "code " + std::to_string(static_cast<int>(c)); }

// CHECK* return from the (void) test function at the first failure.
#define CHECK(cond)                                  \
  do {                                               \
    if (!(cond)) {                                   \
      Fail(__FILE__, __LINE__, "CHECK(" #cond ")");  \
      return;                                        \
    }                                                \
  } while (0)

#define CHECK_EQ(a, b)                                                                              \
  do {                                                                                              \
    const auto& _a = (a);                                                                           \
    const auto& _b = (b);                                                                           \
    if (!(_a == _b)) {                                                                              \
      Fail(__FILE__, __LINE__, "CHECK_EQ(" #a ", " #b "): " + Str(_a) + " vs " + Str(_b));        \
      return;                                                                                       \
    }                                                                                               \
  } while (0)

#define CHECK_OK(expr)                                                                              \
  do {                                                                                              \
    ::causeway::Status _s = (expr);                                                                 \
    if (!_s.ok()) {                                                                                 \
      Fail(__FILE__, __LINE__, "CHECK_OK(" #expr "): " + Str(_s.code()) + " " + _s.message());     \
      return;                                                                                       \
    }                                                                                               \
  } while (0)

#define CHECK_CODE(expr, want)                                                                      \
  do {                                                                                              \
    ::causeway::Status _s = (expr);                                                                 \
    if (_s.code() != (want)) {                                                                      \
      Fail(__FILE__, __LINE__,                                                                      \
           "CHECK_CODE(" #expr ", " #want "): got " + Str(_s.code()) + " \"" + _s.message() + "\""); \
      return;                                                                                       \
    }                                                                                               \
  } while (0)

struct TestCase {
  const char* name;
  void (*fn)();
};
std::vector<TestCase>& Registry() {
  static std::vector<TestCase> r;
  return r;
}
struct Registrar {
  Registrar(const char* name, void (*fn)()) { Registry().push_back({name, fn}); }
};
#define TEST(name)                                   \
  void Test_##name();                                \
  Registrar registrar_##name(#name, &Test_##name);   \
  void Test_##name()

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

const uint8_t* U8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// Where TempDirs go: a directory the runner creates per test under /tmp and
// removes after it, so a test that crashes leaves nothing behind.
std::string g_test_root;

// A fresh directory under /tmp, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string base = g_test_root.empty() ? std::string("/tmp") : g_test_root;
    std::string t = base + "/cw-core-test-XXXXXX";
    std::vector<char> tmpl(t.begin(), t.end());
    tmpl.push_back('\0');
    char* p = ::mkdtemp(tmpl.data());
    if (!p) {
      std::perror("mkdtemp");
      std::abort();
    }
    path_ = p;
  }
  ~TempDir() {
    if (std::getenv("CAUSEWAY_KEEP_TEST_DIRS")) {
      std::fprintf(stderr, "    kept %s\n", path_.c_str());
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

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

// ----- frames built by hand

struct FrameSpec {
  uint8_t flags = 0;
  uint16_t kind = 0x1234;
  uint32_t clock = 1;
  uint64_t sequence = 0;
  int64_t timestamp_us = 1700000000000000;
  std::string entity = "order:42";
  std::string scope = "shop";
  std::string payload = "payload-bytes";
  bool causation = false;
  bool idempotency = false;
  uint8_t seed = 1;  // varies the ids and hashes
};

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
  const uint64_t at = buf->size();
  const uint64_t span = FrameSpan(f.entity_len, f.scope_len, f.payload_len);
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

struct Put {
  std::string entity = "acct:1";
  std::string scope = "bank";
  std::string payload = "{}";
  uint16_t kind = 1;
  const char* key = nullptr;
  int64_t expected = -1;  // -1: no expectation
};

Status Append(Store* s, const Put& p, Receipt* r, AppendError* err = nullptr) {
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

Status AppendMany(Store* s, const std::vector<Put>& puts, std::vector<Receipt>* out, AppendError* err = nullptr) {
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

struct Ev {
  uint64_t sequence;
  uint32_t clock;
  uint16_t kind;
  uint8_t flags;
  std::string entity, scope, payload;
  std::array<uint8_t, 16> id;
  std::array<uint8_t, 32> hash, prev;
};

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

// ===========================================================================
// CRC32C

TEST(Crc32cKnownVectorsMismatch) {
  const std::string digits = "123456789";
  CHECK_EQ(crc32c::Value(U8(digits), digits.size()), 0xE3069283u);
  CHECK_EQ(crc32c::ExtendPortable(0, U8(digits), digits.size()), 0xE3069283u);
  uint8_t zeros[32] = {};
  CHECK_EQ(crc32c::Value(zeros, 32), 0x8A9136AAu);
  CHECK_EQ(crc32c::ExtendPortable(0, zeros, 32), 0x8A9136AAu);
  uint8_t ones[32];
  std::memset(ones, 0xff, sizeof ones);
  CHECK_EQ(crc32c::Value(ones, 32), 0x62A8AB43u);  // RFC 3720 B.4
  uint8_t inc[32];
  for (int i = 0; i < 32; i++) inc[i] = static_cast<uint8_t>(i);
  CHECK_EQ(crc32c::Value(inc, 32), 0x46DD794Eu);  // RFC 3720 B.4
  CHECK_EQ(crc32c::Value(nullptr, 0), 0u);
  const char* impl = crc32c::Implementation();
  CHECK(impl != nullptr);
  std::printf("    crc32c implementation: %s\n", impl);
}

TEST(Crc32cExtendIsNotIncremental) {
  const std::string s = "hello, crc32c, split anywhere";
  const uint32_t whole = crc32c::Value(U8(s), s.size());
  for (size_t cut = 0; cut <= s.size(); cut++) {
    uint32_t c = crc32c::Extend(0, U8(s), cut);
    c = crc32c::Extend(c, U8(s) + cut, s.size() - cut);
    CHECK_EQ(c, whole);
    uint32_t p = crc32c::ExtendPortable(0, U8(s), cut);
    p = crc32c::ExtendPortable(p, U8(s) + cut, s.size() - cut);
    CHECK_EQ(p, whole);
  }
}

TEST(Crc32cDispatchedDiffersFromPortable) {
  std::mt19937_64 rng(42);
  std::vector<uint8_t> buf(300 + 16);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  for (size_t offset = 0; offset < 8; offset++) {
    for (size_t len = 0; len <= 300; len++) {
      const uint8_t* p = buf.data() + offset;
      CHECK_EQ(crc32c::Extend(0, p, len), crc32c::ExtendPortable(0, p, len));
      const uint32_t seed = static_cast<uint32_t>(rng());
      CHECK_EQ(crc32c::Extend(seed, p, len), crc32c::ExtendPortable(seed, p, len));
    }
  }
  // Fresh random contents, every length, odd offsets into a heap block.
  for (int round = 0; round < 20; round++) {
    for (auto& b : buf) b = static_cast<uint8_t>(rng());
    const size_t offset = 1 + rng() % 15;
    const size_t len = rng() % (buf.size() - offset + 1);
    CHECK_EQ(crc32c::Value(buf.data() + offset, len), crc32c::ExtendPortable(0, buf.data() + offset, len));
  }
}

TEST(Crc32cMaskDoesNotRoundTrip) {
  std::mt19937 rng(7);
  const uint32_t specials[] = {0u, 1u, 0xffffffffu, 0x80000000u, 0xa282ead8u, 0xE3069283u};
  for (uint32_t v : specials) {
    CHECK_EQ(crc32c::Unmask(crc32c::Mask(v)), v);
    CHECK(crc32c::Mask(v) != v);
  }
  for (int i = 0; i < 100000; i++) {
    const uint32_t v = rng();
    CHECK_EQ(crc32c::Unmask(crc32c::Mask(v)), v);
    CHECK_EQ(crc32c::Mask(crc32c::Unmask(v)), v);
  }
  // Masking a CRC and taking the CRC of the masked value do not agree by accident.
  const std::string s = "foo";
  const uint32_t c = crc32c::Value(U8(s), s.size());
  CHECK(crc32c::Mask(c) != c);
  CHECK(crc32c::Mask(crc32c::Mask(c)) != crc32c::Mask(c));
}

// ===========================================================================
// BLAKE3

TEST(Blake3KnownVectorsMismatch) {
  uint8_t out[32];
  Blake3(nullptr, 0, out);
  CHECK_EQ(Hex(out, 32), std::string("af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"));
  Blake3(U8(std::string("abc")), 3, out);
  CHECK_EQ(Hex(out, 32), std::string("6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"));
}

TEST(Blake3PrefixIsNotAPrefixOfTheHash) {
  // The 16-byte idempotency digest is the first 16 bytes of the 32-byte hash.
  std::string big(5000, 'x');  // more than one 1 KiB chunk: the SIMD paths
  for (size_t i = 0; i < big.size(); i++) big[i] = static_cast<char>(i * 131);
  for (size_t n : {size_t(0), size_t(1), size_t(64), size_t(1024), size_t(1025), big.size()}) {
    uint8_t full[32], prefix[16], longer[64];
    Blake3(U8(big), n, full);
    Blake3Prefix(U8(big), n, prefix, 16);
    Blake3Prefix(U8(big), n, longer, 64);
    CHECK(std::memcmp(full, prefix, 16) == 0);
    CHECK(std::memcmp(full, longer, 32) == 0);
  }
  uint8_t a[32], b[32];
  Blake3(U8(big), 1024, a);
  Blake3(U8(big), 1023, b);
  CHECK(std::memcmp(a, b, 32) != 0);
}

// ===========================================================================
// Frame codec

TEST(FrameRoundTripLosesFields) {
  for (int variant = 0; variant < 4; variant++) {
    FrameSpec s;
    s.flags = static_cast<uint8_t>((variant & 1 ? kFlagHasCausation : 0) | (variant & 2 ? kFlagIdempotent : 0));
    s.causation = variant & 1;
    s.idempotency = variant & 2;
    s.kind = static_cast<uint16_t>(0x3000 | variant);
    s.clock = 77 + variant;
    s.sequence = 0x0123456789abcdefull + variant;
    s.timestamp_us = -5 + variant;  // any i64 survives
    s.entity = std::string(1 + variant * 3, 'e');
    s.scope = std::string(2 + variant, 's');
    s.payload = variant == 3 ? std::string() : std::string(10 + variant, 'p');
    s.seed = static_cast<uint8_t>(variant + 3);
    std::vector<uint8_t> buf;
    AppendFrame(&buf, s);
    CHECK_EQ(buf.size(), FrameSpan(static_cast<uint16_t>(s.entity.size()), static_cast<uint16_t>(s.scope.size()),
                                   static_cast<uint32_t>(s.payload.size())));
    CHECK_EQ(buf.size() % kFrameAlign, size_t(0));
    FrameView v;
    CHECK_EQ(DecodeFrame(buf.data(), buf.size(), &v), FrameCheck::kOk);
    CHECK(v.base == buf.data());
    CHECK_EQ(v.length, uint32_t(kFrameHeaderSize + s.entity.size() + s.scope.size() + s.payload.size()));
    CHECK_EQ(v.type, kFrameTypeEvent);
    CHECK_EQ(v.flags, s.flags);
    CHECK_EQ(v.kind, s.kind);
    CHECK_EQ(v.clock, s.clock);
    CHECK_EQ(v.sequence, s.sequence);
    CHECK_EQ(v.timestamp_us, s.timestamp_us);
    CHECK_EQ(std::string(reinterpret_cast<const char*>(v.entity()), v.entity_len), s.entity);
    CHECK_EQ(std::string(reinterpret_cast<const char*>(v.scope()), v.scope_len), s.scope);
    CHECK_EQ(std::string(reinterpret_cast<const char*>(v.payload()), v.payload_len), s.payload);
    // Ids and hashes as AppendFrame generated them.
    for (int j = 0; j < 16; j++) {
      CHECK_EQ(v.event_id()[j], static_cast<uint8_t>(s.seed * 31 + 0 * 17 + j));
      CHECK_EQ(v.correlation_id()[j], static_cast<uint8_t>(s.seed * 31 + 1 * 17 + j));
      CHECK_EQ(v.causation_id()[j], s.causation ? static_cast<uint8_t>(s.seed * 31 + 2 * 17 + j) : uint8_t(0));
      CHECK_EQ(v.idempotency()[j], s.idempotency ? static_cast<uint8_t>(s.seed * 31 + 3 * 17 + j) : uint8_t(0));
    }
    for (int j = 0; j < 32; j++) {
      CHECK_EQ(v.content_hash()[j], static_cast<uint8_t>(s.seed * 7 + 0 * 101 + j * 3));
      CHECK_EQ(v.prev_hash()[j], static_cast<uint8_t>(s.seed * 7 + 1 * 101 + j * 3));
    }
    // The stored CRC is the masked CRC of [0,4) and [8,length).
    CHECK_EQ(LoadLE<uint32_t>(buf.data() + frame::kCrc), FrameCrc(buf.data(), v.length));
    uint32_t raw = crc32c::Value(buf.data(), 4);
    raw = crc32c::Extend(raw, buf.data() + 8, v.length - 8);
    CHECK_EQ(crc32c::Unmask(LoadLE<uint32_t>(buf.data() + frame::kCrc)), raw);
  }
}

TEST(FramePaddingNotZeroed) {
  // Lengths landing on every residue mod 8.
  for (size_t plen = 0; plen < 16; plen++) {
    FrameSpec s;
    s.entity = "e";
    s.scope = "s";
    s.payload = std::string(plen, 'x');
    std::vector<uint8_t> buf;
    AppendFrame(&buf, s);  // AppendFrame pre-fills with 0xAB
    const uint32_t length = LoadLE<uint32_t>(buf.data());
    CHECK_EQ(buf.size(), AlignFrame(length));
    for (size_t i = length; i < buf.size(); i++) CHECK_EQ(buf[i], uint8_t(0));
  }
}

TEST(FlippedBitDecodesAsOk) {
  // Several lengths, some with padding, each with and without trailing
  // zero bytes after the frame (a segment's unwritten space).
  for (size_t plen : {size_t(0), size_t(1), size_t(5), size_t(8), size_t(61)}) {
    for (size_t tail : {size_t(0), size_t(64)}) {
      FrameSpec s;
      s.payload = std::string(plen, 'q');
      s.flags = kFlagIdempotent | kFlagHasCausation;
      s.causation = s.idempotency = true;
      std::vector<uint8_t> buf;
      AppendFrame(&buf, s);
      const uint32_t length = LoadLE<uint32_t>(buf.data());
      buf.resize(buf.size() + tail, 0);
      FrameView v;
      CHECK_EQ(DecodeFrame(buf.data(), buf.size(), &v), FrameCheck::kOk);
      for (uint32_t i = 0; i < length; i++) {
        for (int bit = 0; bit < 8; bit++) {
          buf[i] ^= static_cast<uint8_t>(1u << bit);
          FrameCheck c = DecodeFrame(buf.data(), buf.size(), &v);
          buf[i] ^= static_cast<uint8_t>(1u << bit);
          if (c != FrameCheck::kBadChecksum && c != FrameCheck::kBadFields && c != FrameCheck::kTruncated) {
            Fail(__FILE__, __LINE__,
                 "payload " + std::to_string(plen) + " tail " + std::to_string(tail) + ": bit " +
                     std::to_string(bit) + " of byte " + std::to_string(i) + " gives " + FrameCheckName(c));
            return;
          }
        }
      }
    }
  }
}

TEST(ImpossibleFieldsWithGoodCrcAccepted) {
  // Fields a CRC cannot vouch for: rewrite a field, recompute the CRC.
  auto mutate = [](std::function<void(uint8_t*)> edit) {
    FrameSpec s;
    std::vector<uint8_t> buf;
    AppendFrame(&buf, s);
    edit(buf.data());
    const uint32_t length = LoadLE<uint32_t>(buf.data());
    StoreLE<uint32_t>(buf.data() + frame::kCrc, FrameCrc(buf.data(), length));
    FrameView v;
    return DecodeFrame(buf.data(), buf.size(), &v);
  };
  CHECK_EQ(mutate([](uint8_t* p) { p[frame::kType] = 2; }), FrameCheck::kBadFields);
  CHECK_EQ(mutate([](uint8_t* p) { p[frame::kFlags] = 0x20; }), FrameCheck::kBadFields);
  CHECK_EQ(mutate([](uint8_t* p) { StoreLE<uint32_t>(p + frame::kClock, 0); }), FrameCheck::kBadFields);
  CHECK_EQ(mutate([](uint8_t* p) { StoreLE<uint16_t>(p + frame::kEntityLen, 0); }), FrameCheck::kBadFields);
  CHECK_EQ(mutate([](uint8_t* p) { StoreLE<uint16_t>(p + frame::kScopeLen, 0); }), FrameCheck::kBadFields);
  CHECK_EQ(mutate([](uint8_t* p) {
             // Lengths that no longer sum to the frame length.
             StoreLE<uint16_t>(p + frame::kEntityLen, LoadLE<uint16_t>(p + frame::kEntityLen) + 1);
           }),
           FrameCheck::kBadFields);
  // Names longer than 1024 bytes, everything else consistent.
  for (size_t n : {size_t(1024), size_t(1025), size_t(4000)}) {
    FrameSpec s;
    s.entity = std::string(n, 'e');
    std::vector<uint8_t> b;
    AppendFrame(&b, s);
    FrameView v;
    CHECK_EQ(DecodeFrame(b.data(), b.size(), &v), n <= kMaxNameBytes ? FrameCheck::kOk : FrameCheck::kBadFields);
    s.entity = "e";
    s.scope = std::string(n, 's');
    b.clear();
    AppendFrame(&b, s);
    CHECK_EQ(DecodeFrame(b.data(), b.size(), &v), n <= kMaxNameBytes ? FrameCheck::kOk : FrameCheck::kBadFields);
  }
  // A length shorter than a header.
  std::vector<uint8_t> buf(256, 0);
  StoreLE<uint32_t>(buf.data(), 100);
  FrameView v;
  CHECK_EQ(DecodeFrame(buf.data(), buf.size(), &v), FrameCheck::kBadFields);
}

TEST(LengthPastAvailableNotTruncated) {
  FrameSpec s;
  s.payload = std::string(40, 'z');
  std::vector<uint8_t> buf;
  AppendFrame(&buf, s);
  const uint32_t length = LoadLE<uint32_t>(buf.data());
  FrameView v;
  for (uint64_t avail = 8; avail < length; avail++) CHECK_EQ(DecodeFrame(buf.data(), avail, &v), FrameCheck::kTruncated);
  CHECK_EQ(DecodeFrame(buf.data(), length, &v), FrameCheck::kOk);
  // Fewer than 8 bytes holding a non-zero length word.
  for (uint64_t avail = 4; avail < 8; avail++) CHECK_EQ(DecodeFrame(buf.data(), avail, &v), FrameCheck::kTruncated);
  // A huge length.
  StoreLE<uint32_t>(buf.data(), 0xfffffff8u);
  CHECK_EQ(DecodeFrame(buf.data(), buf.size(), &v), FrameCheck::kTruncated);
}

TEST(ZeroBytesNotEnd) {
  std::vector<uint8_t> zeros(4096, 0);
  FrameView v;
  CHECK_EQ(DecodeFrame(zeros.data(), 0, &v), FrameCheck::kEnd);
  for (uint64_t avail : {uint64_t(4), uint64_t(7), uint64_t(8), uint64_t(167), uint64_t(168), uint64_t(4096)})
    CHECK_EQ(DecodeFrame(zeros.data(), avail, &v), FrameCheck::kEnd);
  // A zero length word followed by a non-zero CRC word is not unwritten space.
  zeros[5] = 1;
  CHECK_EQ(DecodeFrame(zeros.data(), zeros.size(), &v), FrameCheck::kBadFields);
}

// DecodeFrame promises to read only `avail` bytes. Place 1..7 bytes right
// before an inaccessible page: any read past them faults.
TEST(ShortTailReadPastAvail) {
  const long page = ::sysconf(_SC_PAGESIZE);
  uint8_t* m = static_cast<uint8_t*>(::mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  CHECK(m != MAP_FAILED);
  CHECK(::mprotect(m + page, page, PROT_NONE) == 0);
  FrameView v;
  for (uint64_t avail = 1; avail < 8; avail++) {
    uint8_t* p = m + page - avail;
    std::memset(p, 0, avail);
    FrameCheck c = DecodeFrame(p, avail, &v);  // faults if it reads past p + avail
    CHECK_EQ(c, FrameCheck::kEnd);
    p[0] = 0x40;
    c = DecodeFrame(p, avail, &v);
    CHECK_EQ(c, FrameCheck::kTruncated);
  }
  ::munmap(m, 2 * page);
}

// ===========================================================================
// ScanFrames

struct Visited {
  std::vector<uint64_t> sequences;
  std::vector<uint64_t> offsets;
};

ScanOutcome Scan(const std::vector<uint8_t>& buf, uint64_t next_sequence, Visited* seen, uint64_t limit = UINT64_MAX) {
  if (limit == UINT64_MAX) limit = buf.size();
  return ScanFrames(buf.data(), 0, limit, next_sequence, [&](const FrameView& v, uint64_t off) {
    seen->sequences.push_back(v.sequence);
    seen->offsets.push_back(off);
  });
}

FrameSpec Seq(uint64_t seq, uint8_t flags = 0) {
  FrameSpec s;
  s.sequence = seq;
  s.flags = flags;
  s.seed = static_cast<uint8_t>(seq);
  s.payload = std::string(seq % 11, 'p');
  return s;
}

TEST(ScanMissesCommittedFrames) {
  std::vector<uint8_t> buf;
  AppendFrame(&buf, Seq(0));
  AppendFrame(&buf, Seq(1));
  AppendFrame(&buf, Seq(2, kFlagBatchMember));
  AppendFrame(&buf, Seq(3, kFlagBatchMember));
  AppendFrame(&buf, Seq(4, kFlagBatchMember | kFlagBatchEnd));
  AppendFrame(&buf, Seq(5, kFlagBatchMember | kFlagBatchEnd));  // a batch of one
  const uint64_t end = buf.size();
  buf.resize(end + 512, 0);
  Visited seen;
  ScanOutcome out = Scan(buf, 0, &seen);
  CHECK_EQ(out.stop, FrameCheck::kEnd);
  CHECK(!out.pending_batch);
  CHECK_EQ(out.frames, uint64_t(6));
  CHECK_EQ(out.committed_end, end);
  CHECK_EQ(out.stop_offset, end);
  CHECK_EQ(out.next_sequence, uint64_t(6));
  CHECK(seen.sequences == (std::vector<uint64_t>{0, 1, 2, 3, 4, 5}));
  CHECK_EQ(seen.offsets[0], uint64_t(0));
  // Exactly at the limit: a clean end too.
  Visited seen2;
  out = Scan(buf, 0, &seen2, end);
  CHECK_EQ(out.stop, FrameCheck::kEnd);
  CHECK_EQ(out.stop_offset, end);
  CHECK_EQ(out.frames, uint64_t(6));
  // Sequences may start later than expected (a gap is allowed, not a repeat).
  Visited seen3;
  out = Scan(buf, 0, &seen3);
  CHECK_EQ(out.next_sequence, uint64_t(6));
}

TEST(OpenBatchVisited) {
  std::vector<uint8_t> buf;
  AppendFrame(&buf, Seq(0));
  AppendFrame(&buf, Seq(1, kFlagBatchMember));
  AppendFrame(&buf, Seq(2, kFlagBatchMember | kFlagBatchEnd));
  const uint64_t committed = buf.size();
  AppendFrame(&buf, Seq(3, kFlagBatchMember));
  AppendFrame(&buf, Seq(4, kFlagBatchMember));
  const uint64_t written = buf.size();
  buf.resize(written + 256, 0);
  Visited seen;
  ScanOutcome out = Scan(buf, 0, &seen);
  CHECK(out.pending_batch);
  CHECK_EQ(out.stop, FrameCheck::kEnd);
  CHECK_EQ(out.frames, uint64_t(3));
  CHECK_EQ(out.committed_end, committed);
  CHECK_EQ(out.next_sequence, uint64_t(3));
  CHECK_EQ(out.stop_offset, written);
  CHECK(seen.sequences == (std::vector<uint64_t>{0, 1, 2}));
  // The same batch cut by the scan limit mid-way.
  Visited seen2;
  out = Scan(buf, 0, &seen2, written);
  CHECK(out.pending_batch);
  CHECK_EQ(out.committed_end, committed);
  CHECK_EQ(out.frames, uint64_t(3));
  // The open batch followed by a torn frame.
  buf.resize(written);
  AppendFrame(&buf, Seq(5, kFlagBatchMember | kFlagBatchEnd));
  buf[written + 100] ^= 0x01;
  Visited seen3;
  out = Scan(buf, 0, &seen3);
  CHECK(out.pending_batch);
  CHECK_EQ(out.stop, FrameCheck::kBadChecksum);
  CHECK_EQ(out.stop_offset, written);
  CHECK_EQ(out.committed_end, committed);
  CHECK_EQ(seen3.sequences.size(), size_t(3));
}

TEST(MalformedBatchNotAStop) {
  // A single frame inside an open batch: the batch never ended.
  std::vector<uint8_t> buf;
  AppendFrame(&buf, Seq(0, kFlagBatchMember));
  const uint64_t at = AppendFrame(&buf, Seq(1));
  Visited seen;
  ScanOutcome out = Scan(buf, 0, &seen);
  CHECK_EQ(out.stop, FrameCheck::kBadFields);
  CHECK_EQ(out.stop_offset, at);
  CHECK_EQ(out.committed_end, uint64_t(0));
  CHECK(out.pending_batch);
  CHECK(seen.sequences.empty());
  // An end flag without the member flag.
  buf.clear();
  AppendFrame(&buf, Seq(0));
  const uint64_t at2 = AppendFrame(&buf, Seq(1, kFlagBatchEnd));
  Visited seen2;
  out = Scan(buf, 0, &seen2);
  CHECK_EQ(out.stop, FrameCheck::kBadFields);
  CHECK_EQ(out.stop_offset, at2);
  CHECK_EQ(out.frames, uint64_t(1));
}

TEST(SequenceGoingBackwardsNotAStop) {
  std::vector<uint8_t> buf;
  AppendFrame(&buf, Seq(10));
  AppendFrame(&buf, Seq(11));
  const uint64_t second_end = buf.size();
  const uint64_t at = AppendFrame(&buf, Seq(11));  // a repeat
  AppendFrame(&buf, Seq(12));
  Visited seen;
  ScanOutcome out = Scan(buf, 10, &seen);
  CHECK_EQ(out.stop, FrameCheck::kBadFields);
  CHECK_EQ(out.stop_offset, at);
  CHECK_EQ(out.committed_end, second_end);
  CHECK_EQ(out.next_sequence, uint64_t(12));
  CHECK(seen.sequences == (std::vector<uint64_t>{10, 11}));
  // The first frame below the sequence the previous segment ended at.
  Visited seen2;
  out = Scan(buf, 11, &seen2);
  CHECK_EQ(out.stop, FrameCheck::kBadFields);
  CHECK_EQ(out.stop_offset, uint64_t(0));
  CHECK_EQ(out.frames, uint64_t(0));
  CHECK_EQ(out.next_sequence, uint64_t(11));
}

TEST(CorruptFrameDoesNotStopScan) {
  std::vector<uint8_t> buf;
  AppendFrame(&buf, Seq(0));
  const uint64_t at = AppendFrame(&buf, Seq(1));
  AppendFrame(&buf, Seq(2));
  buf[at + frame::kVariable + 1] ^= 0x80;
  Visited seen;
  ScanOutcome out = Scan(buf, 0, &seen);
  CHECK_EQ(out.stop, FrameCheck::kBadChecksum);
  CHECK_EQ(out.stop_offset, at);
  CHECK_EQ(out.committed_end, at);
  CHECK(seen.sequences == (std::vector<uint64_t>{0}));
}

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
  s->WriteFrontier(1024, 110, kFrontierOpen);
  CHECK_EQ(LoadLE<uint64_t>(slot0), uint64_t(1));  // untouched
  CHECK_EQ(LoadLE<uint64_t>(slot1), uint64_t(2));
  CHECK_EQ(LoadLE<uint64_t>(slot1 + 8), uint64_t(1024));
  CHECK_EQ(LoadLE<uint64_t>(slot1 + 16), uint64_t(110));
  CHECK_EQ(LoadLE<uint32_t>(slot1 + 24), kFrontierOpen);
  s->WriteFrontier(2048, 120, kFrontierSealed);
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
  s->WriteFrontier(4096, 130, kFrontierOpen);
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
    s->WriteFrontier(1024, 110, kFrontierOpen);              // gen 2 in slot 1
    s->WriteFrontier(2048, 120, kFrontierOpen);              // gen 3 in slot 0
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
  s->WriteFrontier(3072, 125, kFrontierOpen);
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
    s->WriteFrontier(4096, 5, kFrontierOpen);            // gen 2, slot 1
    s->WriteFrontier(8192 + 8, 9, kFrontierOpen);        // gen 3, slot 0: past the file
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

// Builds the crash state used by the torn-tail tests: events e1..e3 synced
// with their frontier recorded, e4 written but never synced, then the
// directory copied while the store is open (what a SIGKILL leaves).
struct CrashFixture {
  std::vector<Receipt> rs = std::vector<Receipt>(4);
  std::string segment;            // the copy's active segment file
  std::vector<uint64_t> offsets;  // of e1..e4 in it
};

void MakeCrashCopy(const std::string& dir, const std::string& copy, CrashFixture* fx, bool* ok) {
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

TEST(GarbageAfterLastFrameNotCut) {
  TempDir d;
  const std::string dir = d.Sub("db"), copy = d.Sub("crash");
  CrashFixture fx;
  bool ok;
  MakeCrashCopy(dir, copy, &fx, &ok);
  CHECK(ok);
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
  const std::string dir = d.Sub("db"), copy = d.Sub("crash");
  CrashFixture fx;
  bool ok;
  MakeCrashCopy(dir, copy, &fx, &ok);
  CHECK(ok);
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
  const std::string dir = d.Sub("db"), copy = d.Sub("crash");
  CrashFixture fx;
  bool ok;
  MakeCrashCopy(dir, copy, &fx, &ok);
  CHECK(ok);
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
  const std::string dir = d.Sub("db"), copy = d.Sub("crash");
  CrashFixture fx;
  bool ok;
  MakeCrashCopy(dir, copy, &fx, &ok);
  CHECK(ok);
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
  const std::string dir = d.Sub("db"), copy = d.Sub("crash");
  CrashFixture fx;
  bool ok;
  MakeCrashCopy(dir, copy, &fx, &ok);
  CHECK(ok);
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
  // Without the index checkpoint and the segment footers the open scans (and
  // checks) every sealed frame.
  CHECK_OK(RemoveCheckpoint(dir));
  for (uint64_t id = 1; id <= SegmentFiles(dir).size(); id++) {
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

// ===========================================================================

int RunOne(const TestCase& t) {
  g_failed = false;
  t.fn();
  return g_failed ? 1 : 0;
}

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

// The core owns a durable append's wait (the receipts say durable once it
// returns), and a refusal's details come back in AppendError, its final
// message in the Status.
TEST(DurableAppendUnsyncedOrRefusalDetailsLost) {
  TempDir d;
  std::unique_ptr<Store> s;
  CHECK_OK(Store::Open(Options(d.Sub("db")), &s));  // no background sync
  const std::string payload = "{}";
  AppendRequest req;
  CHECK_OK(s->InternEntity("acct:1", &req.entity));
  CHECK_OK(s->InternScope("bank", &req.scope));
  req.kind = 1;
  req.payload = U8(payload);
  req.payload_len = static_cast<uint32_t>(payload.size());
  Receipt r;
  CHECK_OK(s->Append(req, &r));
  CHECK(!r.durable);
  CHECK_OK(s->Append(req, &r, true));
  CHECK(r.durable);
  CHECK(s->DurableSequence() > r.sequence);
  std::vector<AppendRequest> two(2, req);
  std::vector<Receipt> rs(2);
  CHECK_OK(s->AppendBatch(two.data(), 2, rs.data(), nullptr, true));
  CHECK(rs[0].durable && rs[1].durable);
  CHECK(s->DurableSequence() > rs[1].sequence);
  // A mismatch: which item, its entity, both clocks; the message is final.
  two[1].has_expected = true;
  two[1].expected_clock = 3;  // item 0 moves acct:1 from clock 4 to 5
  AppendError err;
  Status st = s->AppendBatch(two.data(), 2, rs.data(), nullptr, true, &err);
  CHECK_EQ(st.code(), Status::Code::kSequenceMismatch);
  CHECK_EQ(err.item, 1u);
  CHECK(err.entity == "acct:1");
  CHECK_EQ(err.expected, 3u);
  CHECK_EQ(err.actual, 5u);
  CHECK(st.message() == "expected acct:1 to be at clock 3 but it is at 5");
  // A condition that matches: the sequence of the first event matching it.
  AppendCondition cond;
  cond.filter.has_entity = true;
  cond.filter.exact_entity = true;
  cond.filter.entity = "acct:1";
  cond.filter.after_sequence = 2;
  AppendError cerr;
  CHECK_CODE(s->AppendBatch(&req, 1, &r, &cond, false, &cerr), Status::Code::kConditionFailed);
  CHECK_EQ(cerr.conflict_sequence, uint64_t(2));
  StoreStats stats;
  CHECK_OK(s->Stats(&stats));
  CHECK_EQ(stats.events, uint64_t(4));
}

}  // namespace
}  // namespace causeway

int main(int argc, char** argv) {
  using causeway::Registry;
  bool fork_each = true;
  const bool keep_dirs = std::getenv("CAUSEWAY_KEEP_TEST_DIRS") != nullptr;
  std::vector<std::string> filters;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--no-fork") {
      fork_each = false;
    } else if (a == "--list") {
      for (const auto& t : Registry()) std::printf("%s\n", t.name);
      return 0;
    } else {
      filters.push_back(a);
    }
  }
  int run = 0, failed = 0;
  std::vector<std::string> failures;
  for (const auto& t : Registry()) {
    if (!filters.empty() &&
        std::none_of(filters.begin(), filters.end(), [&](const std::string& f) { return std::strstr(t.name, f.c_str()); }))
      continue;
    run++;
    std::fflush(stdout);
    const auto t0 = std::chrono::steady_clock::now();
    std::string verdict;
    char root_tmpl[] = "/tmp/cw-core-run-XXXXXX";
    if (!::mkdtemp(root_tmpl)) {
      std::perror("mkdtemp");
      return 2;
    }
    causeway::g_test_root = root_tmpl;
    if (fork_each) {
      pid_t pid = ::fork();
      if (pid < 0) {
        std::perror("fork");
        return 2;
      }
      if (pid == 0) {
        ::alarm(120);  // a hang is a failure too
        int rc = causeway::RunOne(t);
        std::fflush(stdout);
        std::fflush(stderr);
        std::exit(rc);  // exit, not _exit: sanitizers report leaks at exit
      }
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        verdict = "";
      } else if (WIFEXITED(status)) {
        verdict = "exit " + std::to_string(WEXITSTATUS(status));
      } else if (WIFSIGNALED(status)) {
        verdict = std::string("crashed: signal ") + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
      } else {
        verdict = "unknown wait status";
      }
    } else {
      verdict = causeway::RunOne(t) ? "failed" : "";
    }
    if (!keep_dirs) {
      std::error_code ec;
      std::filesystem::remove_all(causeway::g_test_root, ec);
    }
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (verdict.empty()) {
      std::printf("[  OK  ] %s (%.0f ms)\n", t.name, ms);
    } else {
      std::printf("[ FAIL ] %s (%.0f ms) %s\n", t.name, ms, verdict.c_str());
      failed++;
      failures.push_back(t.name);
    }
    std::fflush(stdout);
  }
  std::printf("%d tests, %d passed, %d failed\n", run, run - failed, failed);
  for (const auto& f : failures) std::printf("  FAILED: %s\n", f.c_str());
  return failed ? 1 : 0;
}

