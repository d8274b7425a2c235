#include "dir_lock.h"

#include <cerrno>
#include <map>
#include <mutex>

#include "platform.h"

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

Status DirLock::Acquire(const std::string& dir, bool exclusive, uint32_t file_mode) {
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
      held_ = true;
      return Status::OK();
    }
    std::string path = dir + "/LOCK";
    platform::File fd;
    if (int err = platform::OpenFile(path, platform::OpenMode::kOpenOrCreate, &fd, file_mode); err != 0)
      return Status::FromErrno("open " + path, err);
#ifdef CAUSEWAY_CANARY_NO_LOCK
    if (int err = 0; false) {  // planted bug (reliability canary): no flock, only the in-process registry
#else
    if (int err = platform::LockExclusive(fd); err != 0) {
#endif
      platform::CloseFile(fd);
      if (err == EWOULDBLOCK)
        return Status::Locked("the store at " + dir + " is locked by another process");
      return Status::FromErrno("flock " + path, err);
    }
    reg[dir] = -1;
    fd_ = fd;
  }
  dir_ = dir;
  exclusive_ = true;
  held_ = true;
  return Status::OK();
}

Status DirLock::Upgrade(uint32_t file_mode) {
  if (!held_ || exclusive_) return Status::OK();
  std::string path = dir_ + "/LOCK";
  platform::File fd;
  if (int err = platform::OpenFile(path, platform::OpenMode::kOpenOrCreate, &fd, file_mode); err != 0)
    return Status::FromErrno("open " + path, err);
  if (int err = platform::LockExclusive(fd); err != 0) {
    platform::CloseFile(fd);
    if (err == EWOULDBLOCK) return Status::Locked("the store at " + dir_ + " is locked by another process");
    return Status::FromErrno("flock " + path, err);
  }
  std::lock_guard<std::mutex> g(g_registry_mu);
  Registry()[dir_] = -1;  // one store per directory per process: this shared holder was the only one
  fd_ = fd;
  exclusive_ = true;
  return Status::OK();
}

void DirLock::Downgrade() {
  if (!held_ || !exclusive_) return;
  std::lock_guard<std::mutex> g(g_registry_mu);
  Registry()[dir_] = 1;
  platform::CloseFile(fd_);
  fd_ = platform::kNoFile;
  exclusive_ = false;
}

void DirLock::Release() {
  if (!held_) return;
  std::lock_guard<std::mutex> g(g_registry_mu);
  auto& reg = Registry();
  auto it = reg.find(dir_);
  if (it != reg.end()) {
    if (exclusive_ || --it->second <= 0) reg.erase(it);
  }
  platform::CloseFile(fd_);  // closing the file drops the lock
  fd_ = platform::kNoFile;
  held_ = false;
}

}  // namespace causeway
