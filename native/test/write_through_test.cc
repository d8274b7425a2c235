// Requests of 4 KiB to 1 MiB of frames go through the file (one pwrite)
// while smaller ones are stored through the mapping
// (Store::WritesThroughFile). Both land in the one page cache, which every
// reader sees through its mapping.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "fixture.h"

namespace causeway::test {
namespace {

// `n` events of `bytes`-byte payloads, each payload naming its place in the whole run.
std::vector<Put> Events(size_t n, size_t bytes, size_t* counter) {
  std::vector<Put> out(n);
  for (Put& p : out) {
    p.entity = "acct:" + std::to_string(*counter % 7);
    p.payload = "#" + std::to_string((*counter)++) + ":";
    p.payload.resize(bytes, static_cast<char>('a' + *counter % 26));
  }
  return out;
}

// Singles and batches on either side of 4 KiB and of 1 MiB, interleaved,
// so pages hold frames written both ways; every payload is checked in
// order, before and after a reopen.
TEST(FramesWrittenThroughTheFileBesideMappedOnesReadBackWrong) {
  TempDir d;
  StoreOptions o = Options(d.Sub("db"));
  o.segment_max_bytes = 8 << 20;
  std::vector<std::string> want;
  {
    std::unique_ptr<Store> s;
    CHECK_OK(Store::Open(o, &s));
    size_t counter = 0;
    // Batch sizes in frames' bytes: 1.2 KiB and 3 KiB (mapping), just over 4 KiB, 64 KiB, 1 MiB (file), 1.3 MiB (mapping).
    for (const auto& [n, bytes] : std::vector<std::pair<size_t, size_t>>{
             {1, 40}, {4, 100}, {1, 40}, {10, 100}, {1, 40}, {16, 100}, {2, 40}, {200, 150}, {1, 40}, {4, 1000},
             {1, 3}, {1540, 500}, {1, 40}, {2000, 500}, {3, 40}}) {
      std::vector<Put> puts = Events(n, bytes, &counter);
      std::vector<Receipt> rs;
      if (n == 1) {
        Receipt r;
        CHECK_OK(Append(s.get(), puts[0], &r));
      } else {
        CHECK_OK(AppendMany(s.get(), puts, &rs));
      }
      for (const Put& p : puts) want.push_back(p.payload);
    }
    std::vector<Ev> evs;
    CHECK_OK(ReadAll(s.get(), &evs));
    CHECK_EQ(evs.size(), want.size());
    for (size_t i = 0; i < evs.size(); i++) CHECK(evs[i].payload == want[i]);
  }
  std::unique_ptr<Store> s;
  CHECK_OK(Store::Open(o, &s));
  std::vector<Ev> evs;
  CHECK_OK(ReadAll(s.get(), &evs));
  CHECK_EQ(evs.size(), want.size());
  for (size_t i = 0; i < evs.size(); i++) CHECK(evs[i].payload == want[i]);
}

#if defined(__linux__)
// Where this process maps `file` (/proc/self/maps), or 0.
uintptr_t MappingOf(const std::string& file) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line))
    if (line.size() > file.size() && line.compare(line.size() - file.size(), file.size(), file) == 0)
      return static_cast<uintptr_t>(std::stoull(line.substr(0, line.find('-')), nullptr, 16));
  return 0;
}

// Pages of [addr, addr + n) present in this process's page table
// (/proc/self/pagemap, bit 63), or SIZE_MAX when that cannot be read.
size_t PresentPages(uintptr_t addr, size_t n) {
  const size_t page = platform::PageSize();
  const int fd = ::open("/proc/self/pagemap", O_RDONLY);
  if (fd < 0) return SIZE_MAX;
  std::vector<uint64_t> e(n / page);
  const ssize_t got = ::pread(fd, e.data(), e.size() * 8, static_cast<off_t>(addr / page * 8));
  ::close(fd);
  if (got != static_cast<ssize_t>(e.size() * 8)) return SIZE_MAX;
  size_t k = 0;
  for (uint64_t v : e) k += v >> 63;
  return k;
}

// A 700 KiB batch goes through the file: its pages past the mapping's
// populated window never enter the writer's page table. Singles after it
// are stored through the mapping, so theirs do (which also shows the probe
// sees pages at all).
TEST(BatchOfManyKiBStoredPageByPageThroughTheMapping) {
  if (!PopulateTakesEffect()) return;  // an emulator's page table is not the host's
  TempDir d;
  StoreOptions o = Options(d.Sub("db"));
  o.segment_max_bytes = 4 << 20;
  std::unique_ptr<Store> s;
  CHECK_OK(Store::Open(o, &s));
  size_t counter = 0;
  Receipt r;
  CHECK_OK(Append(s.get(), Events(1, 40, &counter)[0], &r));
  std::vector<Receipt> rs;
  CHECK_OK(AppendMany(s.get(), Events(1000, 500, &counter), &rs));
  const uintptr_t base = MappingOf("0000000000000001.cwseg");
  CHECK(base != 0);
  // Frames are over 600 bytes each: the batch covers [page 0, 600 KiB) at least.
  const size_t in_batch = PresentPages(base + 256 * 1024, 256 * 1024);
  if (in_batch == SIZE_MAX) return;  // no pagemap here
  CHECK_EQ(in_batch, size_t(0));
  StoreStats st;
  CHECK_OK(s->Stats(&st));
  const uint64_t batch_end = st.bytes;
  for (const Put& p : Events(400, 500, &counter)) CHECK_OK(Append(s.get(), p, &r));
  const size_t page = platform::PageSize();
  const uintptr_t from = (base + batch_end + page - 1) / page * page;
  CHECK(PresentPages(from, 64 * 1024) >= 64 * 1024 / page - 1);
}
#endif

}  // namespace
}  // namespace causeway::test
