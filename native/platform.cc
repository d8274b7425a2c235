#include "platform.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <sys/random.h>  // getrandom (Linux), getentropy (macOS)

namespace causeway::platform {

int Preallocate(int fd, uint64_t bytes) {
#if defined(__APPLE__)
  // Contiguous first, then any blocks; F_PEOFPOSMODE counts from the
  // allocated end, so only the missing blocks are asked for.
  struct stat st;
  if (::fstat(fd, &st) != 0) return errno;
  if (static_cast<uint64_t>(st.st_size) < bytes) {
    fstore_t fs;
    std::memset(&fs, 0, sizeof fs);
    fs.fst_flags = F_ALLOCATECONTIG;
    fs.fst_posmode = F_PEOFPOSMODE;
    fs.fst_offset = 0;
    fs.fst_length = static_cast<off_t>(bytes - static_cast<uint64_t>(st.st_size));
    if (::fcntl(fd, F_PREALLOCATE, &fs) == -1) {
      fs.fst_flags = F_ALLOCATEALL;
      if (::fcntl(fd, F_PREALLOCATE, &fs) == -1) return errno;
    }
    if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0) return errno;
  }
  return 0;
#else
  // posix_fallocate returns the error number instead of setting errno.
  return ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));
#endif
}

int SyncFile(int fd, bool metadata) {
#if defined(__APPLE__)
  (void)metadata;
  if (::fcntl(fd, F_FULLFSYNC) == 0) return 0;
  // Some file systems (network, FUSE) refuse F_FULLFSYNC: fsync is the best they offer.
  if (errno != ENOTSUP && errno != ENOTTY && errno != EINVAL) return errno;
  return ::fsync(fd) == 0 ? 0 : errno;
#else
  return (metadata ? ::fsync(fd) : ::fdatasync(fd)) == 0 ? 0 : errno;
#endif
}

bool RandomBytes(void* out, size_t n) {
  auto* p = static_cast<unsigned char*>(out);
  while (n > 0) {
#if defined(__APPLE__)
    const size_t k = n < 256 ? n : 256;  // getentropy's limit per call
    if (::getentropy(p, k) != 0) return false;
#else
    const ssize_t got = ::getrandom(p, n, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    const size_t k = static_cast<size_t>(got);
#endif
    p += k;
    n -= k;
  }
  return true;
}

bool ReleaseMapped(void* p, size_t n) {
#if defined(__linux__)
  return ::madvise(p, n, MADV_DONTNEED) == 0;
#else
  (void)p;
  (void)n;
  return false;
#endif
}

bool PopulateMapped(void* p, size_t n) {
#if defined(__linux__) && defined(MADV_POPULATE_READ)
  return ::madvise(p, n, MADV_POPULATE_READ) == 0;
#else
  (void)p;
  (void)n;
  return false;
#endif
}

}  // namespace causeway::platform
