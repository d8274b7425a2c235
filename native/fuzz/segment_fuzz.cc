// libFuzzer target: a whole segment file through the store's read-only open
// (header and frontier checks, recovery's scan, index build) and a read of
// every event (FrameAt's CRC re-check). Built by scripts/reliability-fuzz.mjs.
// The input is written as segment 1 of a store directory on tmpfs.
// Invariants beyond "no crash, no UB": an open either succeeds or returns a
// Status; every record a read returns lies within its buffer and its frame
// checks.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../frame.h"
#include "../store.h"
#include "check.h"

using namespace causeway;

static std::string Dir() {
  static std::string dir;
  if (dir.empty()) {
    char tmpl[] = "/dev/shm/causeway-fuzz-XXXXXX";
    char tmpl2[] = "/tmp/causeway-fuzz-XXXXXX";
    char* d = mkdtemp(tmpl);
    if (!d) d = mkdtemp(tmpl2);
    CHECK(d != nullptr);
    dir = d;
  }
  return dir;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string dir = Dir();
  const std::string file = dir + "/0000000000000001.cwseg";
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  CHECK(fd >= 0);
  size_t off = 0;
  while (off < size) {
    ssize_t w = ::write(fd, data + off, size - off);
    CHECK(w > 0);
    off += size_t(w);
  }
  ::close(fd);

  StoreOptions o;
  o.dir = dir;
  o.read_only = true;
  std::unique_ptr<Store> s;
  Status st = Store::Open(o, &s);
  if (!st.ok()) return 0;
  std::vector<uint8_t> buf;
  size_t count = 0;
  RegionFilter all;
  Status q = s->QueryRecords(all, [&](size_t n) { buf.resize(n); return buf.data(); }, &count);
  if (q.ok()) {
    size_t at = 0;
    for (size_t i = 0; i < count; i++) {
      CHECK(at + kRecordPrefix <= buf.size());
      uint32_t span = LoadLE<uint32_t>(buf.data() + at);
      CHECK(span >= kRecordPrefix + kFrameHeaderSize && at + span <= buf.size());
      FrameView v;
      CHECK(DecodeFrame(buf.data() + at + kRecordPrefix, span - kRecordPrefix, &v) == FrameCheck::kOk);
      at += span;
    }
    CHECK(at == buf.size());
  }
  (void)s->Close();
  return 0;
}
