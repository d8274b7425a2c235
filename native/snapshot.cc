// store.snapshot(dest): a consistent, openable copy taken while appends go on.
//
//  1. Sync, then note the sealed segments and the active segment's synced end.
//  2. Build the copy in "<dest>.tmp-<pid>": sealed segments are hard-linked
//     (copied when the filesystem refuses), the newest segment is copied up to
//     the synced end and sealed there (never linked: a writer reopening a
//     store changes its newest segment in place), retired keys/heads copied.
//  3. fsync the copy, rename it to <dest>, fsync the parent. A snapshot killed
//     at any step leaves either no <dest> or a complete one.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "compaction.h"
#include "fsutil.h"
#include "kill_point.h"
#include "platform.h"
#include "store.h"

namespace causeway {
namespace {

std::string Parent(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Writes bytes to a new file and fsyncs it.
Status WriteWhole(const std::string& path, const uint8_t* data, size_t n) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("create " + path, errno);
  size_t off = 0;
  while (off < n) {
    ssize_t w = ::write(fd, data + off, n - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Status::FromErrno("write " + path, err);
    }
    off += static_cast<size_t>(w);
  }
  int err = platform::SyncFile(fd, true);
  ::close(fd);
  return err == 0 ? Status::OK() : Status::FromErrno("fsync " + path, err);
}

Status CopyIfExists(const std::string& from_dir, const std::string& to_dir, const char* name) {
  std::string data;
  Status s = fsutil::ReadFile(from_dir + "/" + name, &data);
  if (s.code() == Status::Code::kNotFound) return Status::OK();
  CW_RETURN_IF_ERROR(s);
  return WriteWhole(to_dir + "/" + name, reinterpret_cast<const uint8_t*>(data.data()), data.size());
}

}  // namespace

Status Store::Snapshot(const std::string& dest, SnapshotReport* report) {
  std::lock_guard<std::mutex> cg(compaction_mu_);
  if (closed()) return Status::Closed("the store is closed");
  if (!options_.read_only) CW_RETURN_IF_ERROR(Sync());
  std::vector<std::shared_ptr<Segment>> segs;
  uint64_t end, next_seq;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (segments_.empty()) return Status::InvalidArgument("an empty read-only store has nothing to snapshot");
    segs = segments_;
    if (options_.read_only) {
      end = read_end_;
      next_seq = next_sequence_;
    } else {
      end = synced_end_;
      next_seq = synced_next_seq_;
    }
  }
  struct stat st;
  if (::stat(dest.c_str(), &st) == 0) {
    std::vector<std::string> names;
    CW_RETURN_IF_ERROR(fsutil::ListDir(dest, &names));
    if (!names.empty()) return Status::InvalidArgument("snapshot destination " + dest + " exists and is not empty");
    if (::rmdir(dest.c_str()) != 0) return Status::FromErrno("rmdir " + dest, errno);
  }
  // A snapshot killed earlier left its temporary directory: clear it.
  {
    const std::string parent = Parent(dest);
    const std::string prefix = dest.substr(dest.find_last_of('/') + 1) + ".tmp-";
    std::vector<std::string> names;
    if (fsutil::ListDir(parent, &names).ok()) {
      for (const auto& n : names) {
        if (n.compare(0, prefix.size(), prefix) != 0) continue;
        std::vector<std::string> inner;
        if (fsutil::ListDir(parent + "/" + n, &inner).ok())
          for (const auto& f : inner) fsutil::RemoveFile(parent + "/" + n + "/" + f);
        ::rmdir((parent + "/" + n).c_str());
      }
    }
  }
  const std::string tmp = dest + ".tmp-" + std::to_string(::getpid());
  if (::mkdir(tmp.c_str(), 0755) != 0) return Status::FromErrno("mkdir " + tmp, errno);
  Status s;
  for (size_t i = 0; s.ok() && i + 1 < segs.size(); i++) {
    const Segment& seg = *segs[i];
    const std::string name = Segment::FileName(seg.id());
    if (::link(seg.path().c_str(), (tmp + "/" + name).c_str()) == 0) {
      report->linked++;
    } else {
      s = WriteWhole(tmp + "/" + name, seg.data(), seg.frontier().end);
      report->copied++;
    }
    report->bytes += seg.frontier().end;
  }
  if (s.ok()) KillPoint("snapshot:sealed-linked");
  if (s.ok()) {
    // The newest segment, up to what was synced (or, read-only, what was read).
    const Segment& last = *segs.back();
    std::unique_ptr<Segment> copy;
    s = Segment::CreateNamed(tmp, Segment::FileName(last.id()), last.id(), last.base_sequence(),
                             std::max<uint64_t>(end, 4096), &copy);
    if (s.ok()) {
      // Through CopyOut: appends go on, and one that rolls remaps this segment.
      last.CopyOut(kSegmentHeaderSize, end - kSegmentHeaderSize, copy->mutable_data() + kSegmentHeaderSize);
      s = copy->Sync(SyncMode::kData);
    }
    if (s.ok()) {
      copy->WriteFrontier(end, next_seq, kFrontierSealed);
      s = copy->Resize(end);
    }
    if (s.ok()) s = copy->Sync(SyncMode::kAll);
    report->copied++;
    report->bytes += end;
  }
  if (s.ok()) KillPoint("snapshot:active-copied");
  if (s.ok()) s = CopyIfExists(options_.dir, tmp, kRetiredKeysName);
  if (s.ok()) s = CopyIfExists(options_.dir, tmp, kRetiredHeadsName);
  if (s.ok()) s = fsutil::SyncDir(tmp);
  if (s.ok() && ::rename(tmp.c_str(), dest.c_str()) != 0) s = Status::FromErrno("rename " + tmp, errno);
  if (s.ok()) s = fsutil::SyncDir(Parent(dest));
  if (!s.ok()) {
    std::vector<std::string> names;
    if (fsutil::ListDir(tmp, &names).ok())
      for (const auto& n : names) fsutil::RemoveFile(tmp + "/" + n);
    ::rmdir(tmp.c_str());
    return s;
  }
  KillPoint("snapshot:renamed");
  report->sequence = next_seq;
  report->segments = segs.size();
  return Status::OK();
}

}  // namespace causeway
