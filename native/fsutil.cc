#include "fsutil.h"

#include <cerrno>

#include "platform.h"

namespace causeway::fsutil {

Status SyncDir(const std::string& dir) {
#ifdef CAUSEWAY_CANARY_NO_DIR_FSYNC
  int rc = 0;  // planted bug (reliability canary): the directory entry is never made durable
#else
  int rc = platform::SyncDir(dir);
#endif
  if (rc != 0) return Status::FromErrno("fsync directory " + dir, rc);
  return Status::OK();
}

Status EnsureDir(const std::string& dir, uint32_t file_mode) {
  int rc = platform::MakeDir(dir, platform::DirModeFor(file_mode));
  if (rc != 0 && rc != EEXIST) return Status::FromErrno("mkdir " + dir, rc);
  platform::PathKind kind;
  if (int err = platform::GetPathKind(dir, &kind); err != 0) return Status::FromErrno("stat " + dir, err);
  if (kind != platform::PathKind::kDirectory) return Status::InvalidArgument(dir + " exists and is not a directory");
  return Status::OK();
}

Status ListDir(const std::string& dir, std::vector<std::string>* names) {
  if (int rc = platform::ListDir(dir, names); rc != 0) return Status::FromErrno("opendir " + dir, rc);
  return Status::OK();
}

Status RealPath(const std::string& path, std::string* out) {
  if (int rc = platform::RealPath(path, out); rc != 0) return Status::FromErrno("realpath " + path, rc);
  return Status::OK();
}

Status RemoveFile(const std::string& path) {
  int rc = platform::RemoveFile(path);
  if (rc != 0 && rc != ENOENT) return Status::FromErrno("unlink " + path, rc);
  return Status::OK();
}

Status Rename(const std::string& from, const std::string& to) {
  if (int rc = platform::Rename(from, to); rc != 0) return Status::FromErrno("rename " + from + " to " + to, rc);
  return Status::OK();
}

bool Exists(const std::string& path) {
  platform::PathKind kind;
  return platform::GetPathKind(path, &kind) == 0 && kind != platform::PathKind::kNone;
}

Status WriteFile(const std::string& path, const void* data, size_t n, bool must_be_new, uint32_t file_mode) {
  platform::File f;
  int rc = platform::OpenFile(path, must_be_new ? platform::OpenMode::kCreateNew : platform::OpenMode::kCreate, &f,
                              file_mode);
  if (rc != 0) return Status::FromErrno("create " + path, rc);
  if ((rc = platform::WriteAll(f, data, n)) != 0) {
    platform::CloseFile(f);
    platform::RemoveFile(path);
    return Status::FromErrno("write " + path, rc);
  }
  if ((rc = platform::SyncFile(f, true)) != 0) {
    platform::CloseFile(f);
    platform::RemoveFile(path);
    return Status::FromErrno("fsync " + path, rc);
  }
  platform::CloseFile(f);
  return Status::OK();
}

Status WriteFileAtomic(const std::string& dir, const std::string& name, const std::string& data,
                       uint32_t file_mode) {
  const std::string tmp = dir + "/" + name + ".tmp";
  CW_RETURN_IF_ERROR(WriteFile(tmp, data.data(), data.size(), false, file_mode));
  CW_RETURN_IF_ERROR(Rename(tmp, dir + "/" + name));
  return SyncDir(dir);
}

Status WriteCacheFileAtomic(const std::string& dir, const std::string& name, const std::string& data,
                            uint32_t file_mode, void (*written)()) {
  const std::string tmp = dir + "/" + name + ".tmp";
  CW_RETURN_IF_ERROR(RemoveFile(tmp));
  platform::File f = platform::kNoFile;
  int rc = platform::OpenFile(tmp, platform::OpenMode::kCreateNew, &f, file_mode);
  if (rc != 0) return Status::FromErrno("create " + tmp, rc);
  rc = platform::WriteAll(f, data.data(), data.size());
  platform::CloseFile(f);
  if (rc != 0) {
    platform::RemoveFile(tmp);
    return Status::FromErrno("write " + tmp, rc);
  }
  if (written) written();
  Status st = Rename(tmp, dir + "/" + name);
  if (!st.ok()) platform::RemoveFile(tmp);
  return st;
}

Status ReadFile(const std::string& path, std::string* out) {
  platform::File f;
  int rc = platform::OpenFile(path, platform::OpenMode::kRead, &f);
  if (rc != 0) {
    if (rc == ENOENT) return Status::NotFound(path);
    return Status::FromErrno("open " + path, rc);
  }
  out->clear();
  char buf[65536];
  for (;;) {
    size_t got = 0;
    if ((rc = platform::Read(f, buf, sizeof buf, &got)) != 0) {
      platform::CloseFile(f);
      return Status::FromErrno("read " + path, rc);
    }
    if (got == 0) break;
    out->append(buf, got);
  }
  platform::CloseFile(f);
  return Status::OK();
}

}  // namespace causeway::fsutil
