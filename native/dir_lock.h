// Single writer per directory: an exclusive lock (flock, LockFileEx) on "<dir>/LOCK" held for the store's
// life, plus a process-wide registry of locked directories, because a lock
// held by this process does not stop this process from taking it again.
#pragma once

#include <string>

#include "platform.h"
#include "status.h"

namespace causeway {

class DirLock {
 public:
  DirLock() = default;
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  ~DirLock() { Release(); }

  // `dir` must be a canonical path (realpath). exclusive=false (read-only
  // opens) only registers in this process: readers never block a writer.
  // A writer creates "<dir>/LOCK" with `file_mode` when it is missing.
  Status Acquire(const std::string& dir, bool exclusive, uint32_t file_mode = platform::kPrivateFileMode);
  // A shared holder (a client of the writer) takes the exclusive lock: it
  // becomes the writer. Locked while another process still holds it.
  Status Upgrade(uint32_t file_mode = platform::kPrivateFileMode);
  // Back to a shared holder (a promotion that failed): drops the lock.
  void Downgrade();
  bool exclusive() const { return exclusive_; }
  void Release();

 private:
  std::string dir_;
  bool held_ = false;
  platform::File fd_ = platform::kNoFile;  // the LOCK file (writers only)
  bool exclusive_ = false;
};

}  // namespace causeway
