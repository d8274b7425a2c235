#include "dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <mutex>

namespace causeway {
namespace {

// Directories this process holds: how many shared holders, or -1 for a writer.
// Process-wide on purpose: worker threads of one process share it.
std::mutex g_registry_mu;
std::map<std::string, int>& Registry() {
  static auto* m = new std::map<std::string, int>();  // never destroyed: used by cleanup hooks at exit
  return *m;
}

}  // namespace

Status DirLock::Acquire(const std::string& dir, bool exclusive) {
  std::lock_guard<std::mutex> g(g_registry_mu);
  {
    auto& reg = Registry();
    auto it = reg.find(dir);
    if (it != reg.end() && (exclusive || it->second < 0))
      return Status::Locked("the store at " + dir + " is already open in this process" +
                            (it->second < 0 ? " for writing" : " read-only"));
    if (!exclusive) {
      // Readers take no flock: they never block a writer in another process,
      // nor wait for one (they follow it with refresh()).
      reg[dir] += 1;
      dir_ = dir;
      exclusive_ = false;
      fd_ = -2;
      return Status::OK();
    }
    std::string path = dir + "/LOCK";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return Status::FromErrno("open " + path, errno);
#ifdef CAUSEWAY_CANARY_NO_LOCK
    if (false) {  // planted bug (reliability canary): no flock, only the in-process registry
#else
    if (::flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
#endif
      int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK)
        return Status::Locked("the store at " + dir + " is locked by another process");
      return Status::FromErrno("flock " + path, err);
    }
    if (exclusive) reg[dir] = -1;
    else reg[dir] += 1;
    fd_ = fd;
  }
  dir_ = dir;
  exclusive_ = exclusive;
  return Status::OK();
}

void DirLock::Release() {
  if (fd_ == -1) return;
  std::lock_guard<std::mutex> g(g_registry_mu);
  auto& reg = Registry();
  auto it = reg.find(dir_);
  if (it != reg.end()) {
    if (exclusive_ || --it->second <= 0) reg.erase(it);
  }
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor drops the flock
  fd_ = -1;
}

}  // namespace causeway
