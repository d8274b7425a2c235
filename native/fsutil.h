// File helpers shared by the segment, lock and store code, on platform.h's calls,
// returning Status (with the path in the message).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "platform.h"
#include "status.h"

namespace causeway::fsutil {

// fsync the directory itself, so a created, renamed or removed entry survives a crash.
Status SyncDir(const std::string& dir);
// mkdir -p for one level (the parent must exist); ok when it already exists
// (its mode then stays as it is). A new directory gets DirModeFor(file_mode).
Status EnsureDir(const std::string& dir, uint32_t file_mode = platform::kPrivateFileMode);
// Names (not paths) of the entries of `dir`, unsorted.
Status ListDir(const std::string& dir, std::vector<std::string>* names);
// Canonical absolute path (realpath); the directory must exist.
Status RealPath(const std::string& path, std::string* out);
// Ok when it does not exist.
Status RemoveFile(const std::string& path);
// Replaces `to` when it exists.
Status Rename(const std::string& from, const std::string& to);
bool Exists(const std::string& path);
// Creates `path` (must_be_new: refused when it exists; otherwise emptied),
// writes `data` and fsyncs it; removes it again on failure. A created file
// gets `file_mode` (less the umask).
Status WriteFile(const std::string& path, const void* data, size_t n, bool must_be_new,
                 uint32_t file_mode = platform::kPrivateFileMode);
// Write `data` to `path` via "<path>.tmp", fsync, rename, fsync(dir).
Status WriteFileAtomic(const std::string& dir, const std::string& name, const std::string& data,
                       uint32_t file_mode = platform::kPrivateFileMode);
// The same without either fsync, for a cache that is checked whole before
// every use: after a power loss it is the old file, the new one, or one that
// fails its check, never a wrong answer. Costs the writer no sync. A
// leftover ".tmp" (a crash mid-write) is replaced, never reused, so the
// file gets `file_mode` whatever mode the leftover had. `written`, when
// given, is called between the write and the rename (a test's kill point).
Status WriteCacheFileAtomic(const std::string& dir, const std::string& name, const std::string& data,
                            uint32_t file_mode = platform::kPrivateFileMode, void (*written)() = nullptr);
// Read a whole file; NotFound when it does not exist.
Status ReadFile(const std::string& path, std::string* out);

}  // namespace causeway::fsutil
