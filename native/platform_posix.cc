// platform.h on Linux and macOS.
#include "platform.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#if defined(__linux__)
#include <sys/prctl.h>
#elif defined(__APPLE__)
#include <pthread.h>
#endif
#include <sys/random.h>  // getrandom (Linux), getentropy (macOS)
#if defined(__linux__)
#include <sys/syscall.h>  // SYS_newfstatat
#endif

namespace causeway::platform {
namespace {

int Fd(File f) { return static_cast<int>(f); }

// stat and fstat. glibc 2.33 turned them into exported functions (symbol
// version GLIBC_2.33); before, its headers made them calls to __xstat. On
// 64-bit Linux glibc's struct stat is the kernel's, and glibc 2.33 itself
// fills it with the newfstatat system call, which is what this does too,
// so the binary keeps loading on glibc 2.28 (glibc_floor.cc says why).
// Only where that layout is known to match: x86_64 and aarch64.
#if defined(__GLIBC__) && defined(SYS_newfstatat) && (defined(__x86_64__) || defined(__aarch64__))
#if defined(__x86_64__)
static_assert(sizeof(struct stat) == 144, "glibc's struct stat is not the kernel's");
#else
static_assert(sizeof(struct stat) == 128, "glibc's struct stat is not the kernel's");
#endif
int StatPath(const char* path, struct stat* st) {
  return ::syscall(SYS_newfstatat, AT_FDCWD, path, st, 0) == 0 ? 0 : errno;
}
int StatFd(int fd, struct stat* st) {
  return ::syscall(SYS_newfstatat, fd, "", st, AT_EMPTY_PATH) == 0 ? 0 : errno;
}
#else
int StatPath(const char* path, struct stat* st) { return ::stat(path, st) == 0 ? 0 : errno; }
int StatFd(int fd, struct stat* st) { return ::fstat(fd, st) == 0 ? 0 : errno; }
#endif

}  // namespace

int OpenFile(const std::string& path, OpenMode mode, File* out, uint32_t perm) {
  int flags = O_CLOEXEC;
  switch (mode) {
    case OpenMode::kRead: flags |= O_RDONLY; break;
    case OpenMode::kReadWrite: flags |= O_RDWR; break;
    case OpenMode::kCreate: flags |= O_RDWR | O_CREAT | O_TRUNC; break;
    case OpenMode::kCreateNew: flags |= O_WRONLY | O_CREAT | O_EXCL; break;
    case OpenMode::kOpenOrCreate: flags |= O_RDWR | O_CREAT | O_NOFOLLOW; break;
  }
  int fd = ::open(path.c_str(), flags, static_cast<mode_t>(perm));
  if (fd < 0) return errno;
  *out = fd;
  return 0;
}

void CloseFile(File f) {
  if (f != kNoFile) ::close(Fd(f));
}

int FileSize(File f, uint64_t* out) {
  struct stat st;
  if (int err = StatFd(Fd(f), &st)) return err;
  *out = static_cast<uint64_t>(st.st_size);
  return 0;
}

int SetFileSize(File f, uint64_t bytes) {
  return ::ftruncate(Fd(f), static_cast<off_t>(bytes)) == 0 ? 0 : errno;
}

int Preallocate(File f, uint64_t bytes) {
#if defined(__APPLE__)
  // Contiguous first, then any blocks; F_PEOFPOSMODE counts from the
  // allocated end, so only the missing blocks are asked for.
  struct stat st;
  if (int err = StatFd(Fd(f), &st)) return err;
  if (static_cast<uint64_t>(st.st_size) < bytes) {
    fstore_t fs;
    std::memset(&fs, 0, sizeof fs);
    fs.fst_flags = F_ALLOCATECONTIG;
    fs.fst_posmode = F_PEOFPOSMODE;
    fs.fst_offset = 0;
    fs.fst_length = static_cast<off_t>(bytes - static_cast<uint64_t>(st.st_size));
    if (::fcntl(Fd(f), F_PREALLOCATE, &fs) == -1) {
      fs.fst_flags = F_ALLOCATEALL;
      if (::fcntl(Fd(f), F_PREALLOCATE, &fs) == -1) return errno;
    }
    if (::ftruncate(Fd(f), static_cast<off_t>(bytes)) != 0) return errno;
  }
  return 0;
#else
  // posix_fallocate returns the error number instead of setting errno.
  return ::posix_fallocate(Fd(f), 0, static_cast<off_t>(bytes));
#endif
}

int WriteAll(File f, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(Fd(f), p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return 0;
}

int WriteAt(File f, const void* data, size_t n, uint64_t offset) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::pwrite(Fd(f), p, n, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    p += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
  return 0;
}

int Read(File f, void* buf, size_t n, size_t* got) {
  for (;;) {
    ssize_t r = ::read(Fd(f), buf, n);
    if (r >= 0) {
      *got = static_cast<size_t>(r);
      return 0;
    }
    if (errno != EINTR) return errno;
  }
}

int SyncFile(File f, bool metadata) {
#if defined(__APPLE__)
  (void)metadata;
  if (::fcntl(Fd(f), F_FULLFSYNC) == 0) return 0;
  // Some file systems (network, FUSE) refuse F_FULLFSYNC: fsync is the best they offer.
  if (errno != ENOTSUP && errno != ENOTTY && errno != EINVAL) return errno;
  return ::fsync(Fd(f)) == 0 ? 0 : errno;
#else
  return (metadata ? ::fsync(Fd(f)) : ::fdatasync(Fd(f))) == 0 ? 0 : errno;
#endif
}

int LockExclusive(File f) {
  if (::flock(Fd(f), LOCK_EX | LOCK_NB) == 0) return 0;
  return errno == EWOULDBLOCK ? EWOULDBLOCK : errno;
}

int MapFile(File f, uint64_t n, bool writable, uint8_t** out) {
  const int prot = PROT_READ | (writable ? PROT_WRITE : 0);
  void* p = ::mmap(nullptr, n, prot, MAP_SHARED, Fd(f), 0);
  if (p == MAP_FAILED) return errno;
  *out = static_cast<uint8_t*>(p);
  return 0;
}

void Unmap(uint8_t* p, uint64_t n) {
  if (p) ::munmap(p, n);
}

int SyncMapped(File f, uint8_t* p, uint64_t n, bool metadata) {
  (void)p;
  (void)n;
  // Dirty MAP_SHARED pages live in the page cache, which fdatasync writes back.
  return SyncFile(f, metadata);
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

bool PopulateMappedForWrite(void* p, size_t n) {
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
  return ::madvise(p, n, MADV_POPULATE_WRITE) == 0;
#else
  (void)p;
  (void)n;
  return false;
#endif
}

uint64_t PageSize() {
  static const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  return page;
}

int SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  int rc = SyncFile(fd, true);
  ::close(fd);
  return rc;
}

int MakeDir(const std::string& dir, uint32_t perm) { return ::mkdir(dir.c_str(), static_cast<mode_t>(perm)) == 0 ? 0 : errno; }

int RemoveDir(const std::string& dir) { return ::rmdir(dir.c_str()) == 0 ? 0 : errno; }

int ListDir(const std::string& dir, std::vector<std::string>* names) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return errno;
  names->clear();
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names->push_back(std::move(n));
  }
  ::closedir(d);
  return 0;
}

int Rename(const std::string& from, const std::string& to) {
  return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : errno;
}

int RemoveFile(const std::string& path) { return ::unlink(path.c_str()) == 0 ? 0 : errno; }

bool InUseByOther(int err) {
  (void)err;
  return false;
}

int HardLink(const std::string& existing, const std::string& link) {
  return ::link(existing.c_str(), link.c_str()) == 0 ? 0 : errno;
}

int GetPathKind(const std::string& path, PathKind* out) {
  struct stat st;
  if (int err = StatPath(path.c_str(), &st)) {
    if (err != ENOENT && err != ENOTDIR) return err;
    *out = PathKind::kNone;
    return 0;
  }
  *out = S_ISREG(st.st_mode) ? PathKind::kFile : S_ISDIR(st.st_mode) ? PathKind::kDirectory : PathKind::kOther;
  return 0;
}

int RealPath(const std::string& path, std::string* out) {
  char buf[PATH_MAX];
  if (!::realpath(path.c_str(), buf)) return errno;
  *out = buf;
  return 0;
}

std::string Parent(const std::string& path) {
  size_t slash = path.find_last_of(kPathSeparators);
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
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

int ProcessId() { return static_cast<int>(::getpid()); }

void KillSelf() {
  ::kill(::getpid(), SIGKILL);
  std::abort();  // not reached: SIGKILL cannot be caught
}

void NameThisThread(const char* name) {
#if defined(__APPLE__)
  pthread_setname_np(name);
#elif defined(__linux__)
  // prctl, not pthread_setname_np: glibc 2.34 gave that one a new symbol
  // version, above the floor this binary keeps (glibc_floor.cc).
  prctl(PR_SET_NAME, name, 0, 0, 0);
#else
  (void)name;
#endif
}

}  // namespace causeway::platform
