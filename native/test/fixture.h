// The harness and helpers shared by the C++ core tests (native/test/*_test.cc,
// run by runner.cc): the test registry and TEST macro, the CHECK macros,
// temporary directories, file surgery, frames built by hand, store helpers
// and the crash copy of a store.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include "../format.h"
#include "../frame.h"
#include "../segment.h"
#include "../status.h"
#include "../store.h"

namespace causeway::test {

// ---------------------------------------------------------------------------
// A tiny harness.

extern bool g_failed;  // the current test failed (each test runs alone)

// Reports a failed check of the current test (and marks it failed).
void Fail(const char* file, int line, const std::string& what);

// How CHECK_EQ prints a value.
inline std::string Str(const std::string& s) { return "\"" + s + "\""; }
inline std::string Str(const char* s) { return s ? Str(std::string(s)) : "null"; }
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
inline std::string Str(FrameCheck c) { return std::string(FrameCheckName(c)); }
inline std::string Str(Status::Code c) { return "code " + std::to_string(static_cast<int>(c)); }

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
// Every TEST of the program, in registration order (the order of the files
// on the link line, then of the tests in each file).
std::vector<TestCase>& Registry();
struct Registrar {
  Registrar(const char* name, void (*fn)()) { Registry().push_back({name, fn}); }
};
// Defines and registers a test; used inside an anonymous namespace, so that
// each file's tests and helpers stay its own.
#define TEST(name)                                   \
  void Test_##name();                                \
  Registrar registrar_##name(#name, &Test_##name);   \
  void Test_##name()

// Runs one test in this process; 0 when it passed.
int RunOne(const TestCase& t);

// ---------------------------------------------------------------------------
// Helpers.

std::string Hex(const uint8_t* p, size_t n);

inline const uint8_t* U8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// Where TempDirs go: a directory the runner creates per test under /tmp and
// removes after it, so a test that crashes leaves nothing behind.
extern std::string g_test_root;

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

// Size of a file, UINT64_MAX when it does not exist.
uint64_t FileSize(const std::string& path);
bool ReadAllBytes(const std::string& path, std::vector<uint8_t>* out);
bool WriteAt(const std::string& path, uint64_t offset, const void* data, size_t n);
bool XorByte(const std::string& path, uint64_t offset, uint8_t mask);
// Byte-for-byte copy of every regular file of `src` into a new `dst`. Taken
// while a store is open, the copy is what a SIGKILL leaves behind: what the
// page cache holds, with the active segment unsealed.
bool CopyDir(const std::string& src, const std::string& dst);
// The segment files of a store directory, sorted.
std::vector<std::string> SegmentFiles(const std::string& dir);
// Offsets of the frames of a segment file, walking from the header while they decode.
std::vector<uint64_t> FrameOffsets(const std::string& path);
// Offset just past the frame at `offset` of a segment file, 0 when it does not decode.
uint64_t FrameEnd(const std::string& path, uint64_t offset);

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
  std::string extension;  // an extension block (format version 2), or empty: none
};

uint64_t AppendFrame(std::vector<uint8_t>* buf, const FrameSpec& s);

// ----- store helpers

// Options for a test store in `dir`: 1 MiB segments, no background sync.
StoreOptions Options(const std::string& dir);

struct Put {
  std::string entity = "acct:1";
  std::string scope = "bank";
  std::string payload = "{}";
  uint16_t kind = 1;
  const char* key = nullptr;
  int64_t expected = -1;  // -1: no expectation
};

Status Append(Store* s, const Put& p, Receipt* r, AppendError* err = nullptr);
Status AppendMany(Store* s, const std::vector<Put>& puts, std::vector<Receipt>* out, AppendError* err = nullptr);

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
Status ReadAll(Store* s, std::vector<Ev>* out);

std::array<uint8_t, 32> Blake3Of(const std::string& s);

bool Contains(const std::string& hay, const std::string& needle);
// Whether MADV_POPULATE_WRITE takes effect here (Linux 5.14+, and not an
// emulator that accepts and ignores it): a fresh page it is asked for is
// then resident (mincore). Tests of populating assert only where it does.
bool PopulateTakesEffect();

// ----- the crash copy

// The crash state used by the torn-tail tests: events e1..e3 synced with
// their frontier recorded, e4 written but never synced, then the directory
// copied while the store is open (what a SIGKILL leaves).
struct CrashFixture {
  std::string dir;                // the store that was running: <TempDir>/db
  std::string copy;               // its crash copy: <TempDir>/crash
  std::vector<Receipt> rs = std::vector<Receipt>(4);
  std::string segment;            // the copy's active segment file
  std::vector<uint64_t> offsets;  // of e1..e4 in it
};

// Builds that state in `d` and fills `fx`. False (the failure already
// reported, so the caller only has to CHECK it) when it could not. A test
// starts with
//   TempDir d;
//   CrashFixture fx;
//   CHECK(MakeCrashCopy(d, &fx));
bool MakeCrashCopy(const TempDir& d, CrashFixture* fx);

// The rows Index::Query answers; a failed query gives a row no index has,
// so the comparison of its caller fails.
inline std::vector<Row> QueryRows(const Index& index, const RegionFilter& f) {
  std::vector<Row> out;
  if (!index.Query(f, &out).ok()) out.assign(1, UINT32_MAX);
  return out;
}

}  // namespace causeway::test
