// Small POSIX helpers shared by the segment, lock and store code.
#pragma once

#include <string>
#include <vector>

#include "status.h"

namespace causeway::fsutil {

// fsync the directory itself, so a created, renamed or removed entry survives a crash.
Status SyncDir(const std::string& dir);
// mkdir -p for one level (the parent must exist); ok when it already exists.
Status EnsureDir(const std::string& dir);
// Names (not paths) of the entries of `dir`, unsorted.
Status ListDir(const std::string& dir, std::vector<std::string>* names);
// Canonical absolute path (realpath); the directory must exist.
Status RealPath(const std::string& path, std::string* out);
Status RemoveFile(const std::string& path);
// Write `data` to `path` via "<path>.tmp", fsync, rename, fsync(dir).
Status WriteFileAtomic(const std::string& dir, const std::string& name, const std::string& data);
// Read a whole file; NotFound when it does not exist.
Status ReadFile(const std::string& path, std::string* out);

}  // namespace causeway::fsutil
