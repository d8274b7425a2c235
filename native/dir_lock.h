// Single writer per directory: an flock on "<dir>/LOCK" held for the store's
// life, plus a process-wide registry of locked directories, because a lock
// held by this process does not stop this process from taking it again.
#pragma once

#include <string>

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
  Status Acquire(const std::string& dir, bool exclusive);
  void Release();

 private:
  std::string dir_;
  int fd_ = -1;  // -1: not held; -2: held without a file (reader)
  bool exclusive_ = false;
};

}  // namespace causeway
