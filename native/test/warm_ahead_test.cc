// WarmAhead (native/warm_ahead.h): pages made resident ahead of a growing
// buffer, without a byte of it changing.

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "../warm_ahead.h"
#include "fixture.h"

namespace causeway::test {
namespace {

// Pages of [p, p + n) resident now (mincore), counted.
size_t Resident(const uint8_t* p, size_t n) {
  const size_t page = platform::PageSize();
  std::vector<unsigned char> in((n + page - 1) / page);
  if (::mincore(const_cast<uint8_t*>(p), n, in.data()) != 0) return SIZE_MAX;
  size_t k = 0;
  for (unsigned char c : in) k += c & 1;
  return k;
}

// A fresh anonymous mapping: no page resident until touched or populated.
struct Fresh {
  explicit Fresh(size_t n) : n(n) {
    p = static_cast<uint8_t*>(::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  }
  ~Fresh() { ::munmap(p, n); }
  uint8_t* p;
  size_t n;
};

TEST(WarmAheadLeavesTheNextPagesToFaultOneByOne) {
  const size_t page = platform::PageSize();
  Fresh m(64 * page + WarmAhead::kStep * 4);
  CHECK(m.p != MAP_FAILED);
  if (!PopulateTakesEffect()) return;  // refused or ignored here: nothing to see
  WarmAhead w;
  w.Cover(m.p, 0, m.n);
  const size_t after = Resident(m.p, m.n);
  CHECK(after >= WarmAhead::kStep / page - 1);
  CHECK(after <= WarmAhead::kStep / page + 1);
  // Past half the step: the next step is made resident.
  w.Cover(m.p, WarmAhead::kStep * 3 / 4, m.n);
  CHECK(Resident(m.p, m.n) >= (WarmAhead::kStep * 7 / 4) / page - 1);
}

TEST(WarmAheadChangesBytesOfTheBufferOrItsNeighbour) {
  const size_t page = platform::PageSize();
  Fresh m(16 * page);
  CHECK(m.p != MAP_FAILED);
  for (size_t i = 0; i < m.n; i++) m.p[i] = static_cast<uint8_t>(i * 7 + 1);
  // A buffer that starts mid-page: the page it shares is covered too, untouched.
  WarmAhead w;
  w.Cover(m.p + 100, 0, m.n - 100);
  w.Cover(m.p + 100, 5 * page, m.n - 100);
  WarmAhead::All(m.p + 3, m.n - 3);
  for (size_t i = 0; i < m.n; i++)
    if (m.p[i] != static_cast<uint8_t>(i * 7 + 1)) CHECK(false);
}

TEST(WarmAheadKeepsTheOldBufferWhenTheBufferMoves) {
  const size_t page = platform::PageSize();
  Fresh a(WarmAhead::kStep * 2), b(WarmAhead::kStep * 2);
  WarmAhead w;
  if (!PopulateTakesEffect()) return;
  w.Cover(a.p, 0, a.n);
  CHECK(Resident(a.p, a.n) >= WarmAhead::kStep / page - 1);
  w.Cover(b.p, 0, b.n);
  CHECK(Resident(b.p, b.n) >= WarmAhead::kStep / page - 1);
}

TEST(WarmAheadPopulatesBeyondTheBufferEnd) {
  const size_t page = platform::PageSize();
  Fresh m(WarmAhead::kStep * 4);
  if (!PopulateTakesEffect()) return;
  WarmAhead w;
  // A buffer of 3 pages inside the mapping: nothing past its last whole page.
  w.Cover(m.p, 0, 3 * page);
  CHECK_EQ(Resident(m.p + 3 * page, m.n - 3 * page), size_t(0));
  CHECK_EQ(Resident(m.p, 3 * page), size_t(3));
}

}  // namespace
}  // namespace causeway::test
