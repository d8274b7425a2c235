#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>

#include "platform.h"

namespace causeway {

// Makes the next pages of a growing buffer writable before they are
// written: one MADV_POPULATE_WRITE per step instead of one page fault per
// 4 KiB. On a virtual machine a fault on fresh anonymous memory costs about
// 10 µs (bench/RESULTS.md, "Page faults off the append path"), and the
// index and footer buffers of an appending store take fresh pages at every
// step they grow. Populating only faults pages in: no byte changes, so it
// may cover the start of the page the buffer shares with its neighbour.
// Best effort; Linux 5.14+ (elsewhere, or after a refusal, a no-op).
class WarmAhead {
 public:
  static constexpr size_t kStep = 64 * 1024;

  // `used` bytes of the buffer at `base`, which has room for `cap`, are in
  // use: the next kStep past them are made resident. A moved buffer (new
  // `base`) starts over.
  void Cover(const void* base, size_t used, size_t cap) {
    const uintptr_t b = reinterpret_cast<uintptr_t>(base);
    if (b != base_) {
      base_ = b;
      warm_ = 0;
    }
    if (off_ || used + kStep / 2 <= warm_ || warm_ >= cap) return;
    Populate(used, cap);
  }

  // The whole of [base, base + n), at once (a table about to be filled).
  static void All(const void* base, size_t n) {
    const uintptr_t page = platform::PageSize();
    const uintptr_t from = reinterpret_cast<uintptr_t>(base) / page * page;
    const uintptr_t to = (reinterpret_cast<uintptr_t>(base) + n) / page * page;
    if (to > from) (void)platform::PopulateMappedForWrite(reinterpret_cast<void*>(from), to - from);
  }

 private:
  void Populate(size_t used, size_t cap) {
    const uintptr_t page = platform::PageSize();
    const size_t want = used + kStep < cap ? used + kStep : cap;
    const uintptr_t from = (base_ + (warm_ > used ? warm_ : used)) / page * page;
    const uintptr_t to = (base_ + want) / page * page;
    if (to > from && !platform::PopulateMappedForWrite(reinterpret_cast<void*>(from), to - from)) {
      off_ = true;
      return;
    }
    warm_ = want;
  }

  uintptr_t base_ = 0;
  size_t warm_ = 0;  // bytes from base_ already resident
  bool off_ = false;
};

// An array of `n` value-initialised T (zeroed atomics, slots) whose pages
// were made resident in one call before they were initialised: a large
// table is fresh memory, and initialising it faulted page by page.
template <typename T>
struct ResidentArray {
  static_assert(std::is_trivially_destructible_v<T>, "no destructor runs");
  struct Free {
    void operator()(T* p) const { ::operator delete[](p, std::align_val_t(alignof(T))); }
  };
  using Ptr = std::unique_ptr<T[], Free>;
  static Ptr New(size_t n) {
    void* raw = ::operator new[](n * sizeof(T), std::align_val_t(alignof(T)));
    WarmAhead::All(raw, n * sizeof(T));
    T* items = static_cast<T*>(raw);
    for (size_t i = 0; i < n; i++) new (items + i) T();
    return Ptr(items);
  }
};

}  // namespace causeway
