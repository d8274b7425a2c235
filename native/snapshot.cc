// store.snapshot(dest): a consistent, openable copy taken while appends go on.
//
//  1. Sync, then note the sealed segments and the active segment's synced end.
//  2. Build the copy in "<dest>.tmp-<pid>": sealed segments are hard-linked
//     (copied when the filesystem refuses), the newest segment is copied up to
//     the synced end and sealed there (never linked: a writer reopening a
//     store changes its newest segment in place), retired keys/heads copied;
//     sealed segments' index files are hard-linked beside them.
//  3. fsync the copy, rename it to <dest>, fsync the parent. A snapshot killed
//     at any step leaves either no <dest> or a complete one.
//
// Files and directories it creates get the store's file_mode (hard links keep
// the source's). A destination inside the data directory is refused.
// Cancelled (or the store closed) before step 3's rename, it removes the
// temporary directory and returns Cancelled (Closed); progress counts bytes.
#include <algorithm>

#include "compaction.h"
#include "fsutil.h"
#include "index_part.h"
#include "kill_point.h"
#include "platform.h"
#include "store.h"

namespace causeway {
namespace {

using platform::Parent;

Status CopyIfExists(const std::string& from_dir, const std::string& to_dir, const char* name, uint32_t file_mode) {
  std::string data;
  Status s = fsutil::ReadFile(from_dir + "/" + name, &data);
  if (s.code() == Status::Code::kNotFound) return Status::OK();
  CW_RETURN_IF_ERROR(s);
  return fsutil::WriteFile(to_dir + "/" + name, data.data(), data.size(), true, file_mode);
}

// Refuses a destination equal to or inside `data_dir` (a canonical path): a
// copy of the log inside the log's own directory. The destination's nearest
// existing ancestor is resolved (symlinks too) and the rest appended as written.
Status CheckDestOutside(const std::string& data_dir, const std::string& dest) {
  std::string existing = dest, rest;
  while (!fsutil::Exists(existing)) {
    const size_t sep = existing.find_last_of(platform::kPathSeparators);
    const std::string parent = Parent(existing);
    if (parent == existing || sep == std::string::npos) break;
    rest = existing.substr(sep) + rest;
    existing = parent;
  }
  std::string real;
  if (platform::RealPath(existing, &real) != 0) return Status::OK();  // nothing exists to compare: not inside
  real += rest;
  const bool inside = real.compare(0, data_dir.size(), data_dir) == 0 &&
                      (real.size() == data_dir.size() ||
                       std::string(platform::kPathSeparators).find(real[data_dir.size()]) != std::string::npos);
  if (inside)
    return Status::InvalidArgument("snapshot destination " + dest + " is inside the store's data directory " + data_dir +
                                   ": choose a directory outside it");
  return Status::OK();
}

}  // namespace

Status Store::Snapshot(const std::string& dest, SnapshotReport* report, const LongOpControl& control) {
  std::lock_guard<std::mutex> cg(compaction_mu_);
  auto stop_requested = [&]() -> Status {
    if (closed()) return Status::Closed("the store was closed during the snapshot");
    if (control.CancelRequestedRelaxed()) return Status::Cancelled("snapshot aborted; nothing was left at " + dest);
    return Status::OK();
  };
  CW_RETURN_IF_ERROR(stop_requested());
  CW_RETURN_IF_ERROR(CheckDestOutside(options_.dir, dest));
  // A writer syncs; a client asks the writer to, then reads up to what it synced.
  if (role() != Role::kReadOnly) CW_RETURN_IF_ERROR(Sync());
  if (role() == Role::kClient) CW_RETURN_IF_ERROR(CatchUp(UINT64_MAX));
  std::vector<std::shared_ptr<Segment>> segs;
  uint64_t end, next_seq;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (segments_.empty()) return Status::InvalidArgument("an empty read-only store has nothing to snapshot");
    segs = segments_;
    if (!writer()) {
      end = read_end_;
      next_seq = next_sequence_;
    } else {
      end = sync_.synced_end;
      next_seq = sync_.synced_next_seq;
    }
  }
  if (fsutil::Exists(dest)) {
    std::vector<std::string> names;
    CW_RETURN_IF_ERROR(fsutil::ListDir(dest, &names));
    if (!names.empty()) return Status::InvalidArgument("snapshot destination " + dest + " exists and is not empty");
    if (int rc = platform::RemoveDir(dest); rc != 0) return Status::FromErrno("rmdir " + dest, rc);
  }
  // A snapshot killed earlier left its temporary directory: clear it.
  {
    const std::string parent = Parent(dest);
    const size_t sep = dest.find_last_of(platform::kPathSeparators);
    const std::string prefix = dest.substr(sep == std::string::npos ? 0 : sep + 1) + ".tmp-";
    std::vector<std::string> names;
    if (fsutil::ListDir(parent, &names).ok()) {
      for (const auto& n : names) {
        if (n.compare(0, prefix.size(), prefix) != 0) continue;
        std::vector<std::string> inner;
        if (fsutil::ListDir(parent + "/" + n, &inner).ok())
          for (const auto& f : inner) fsutil::RemoveFile(parent + "/" + n + "/" + f);
        platform::RemoveDir(parent + "/" + n);
      }
    }
  }
  const std::string tmp = dest + ".tmp-" + std::to_string(platform::ProcessId());
  if (int rc = platform::MakeDir(tmp, platform::DirModeFor(options_.file_mode)); rc != 0) return Status::FromErrno("mkdir " + tmp, rc);
  uint64_t total = end, done = 0;
  for (size_t i = 0; i + 1 < segs.size(); i++) total += segs[i]->frontier().end;
  control.Report(0, total);
  Status s;
  for (size_t i = 0; s.ok() && i + 1 < segs.size(); i++) {
    s = stop_requested();
    if (!s.ok()) break;
    const Segment& seg = *segs[i];
    const std::string name = Segment::FileName(seg.id());
    if (platform::HardLink(seg.path(), tmp + "/" + name) == 0) {
      report->linked++;
    } else {
      s = fsutil::WriteFile(tmp + "/" + name, seg.data(), seg.frontier().end, true, options_.file_mode);
      report->copied++;
    }
    // Its index file as well, when it has one: a cache, so a link that fails
    // costs the snapshot's first open a rebuild, nothing more.
    const std::string part = IndexPartFileName(name);
    if (s.ok() && fsutil::Exists(options_.dir + "/" + part)) (void)platform::HardLink(options_.dir + "/" + part, tmp + "/" + part);
    report->bytes += seg.frontier().end;
    done += seg.frontier().end;
    control.Report(done, total);
  }
  if (s.ok()) KillPoint("snapshot:sealed-linked");
  if (s.ok()) s = stop_requested();
  if (s.ok()) {
    // The newest segment, up to what was synced (or, read-only, what was read).
    const Segment& last = *segs.back();
    std::unique_ptr<Segment> copy;
    s = Segment::CreateNamed(tmp, Segment::FileName(last.id()), last.id(), last.base_sequence(),
                             std::max<uint64_t>(end, 4096), &copy, options_.file_mode);
    if (s.ok()) {
      // Through CopyOut: appends go on, and one that rolls remaps this segment.
      last.CopyOut(kSegmentHeaderSize, end - kSegmentHeaderSize, copy->mutable_data() + kSegmentHeaderSize);
      s = copy->Sync(SyncMode::kData);
    }
    if (s.ok()) {
      s = copy->WriteFrontier(end, next_seq, kFrontierSealed);
      if (s.ok()) s = copy->Resize(end);
    }
    if (s.ok()) s = copy->Sync(SyncMode::kAll);
    report->copied++;
    report->bytes += end;
  }
  if (s.ok()) KillPoint("snapshot:active-copied");
  if (s.ok()) s = CopyIfExists(options_.dir, tmp, kRetiredKeysName, options_.file_mode);
  if (s.ok()) s = CopyIfExists(options_.dir, tmp, kRetiredHeadsName, options_.file_mode);
  if (s.ok()) s = fsutil::SyncDir(tmp);
  if (s.ok()) s = stop_requested();  // the last chance: after the rename the snapshot stands
  if (s.ok()) s = fsutil::Rename(tmp, dest);
  if (s.ok()) s = fsutil::SyncDir(Parent(dest));
  if (!s.ok()) {
    std::vector<std::string> names;
    if (fsutil::ListDir(tmp, &names).ok())
      for (const auto& n : names) fsutil::RemoveFile(tmp + "/" + n);
    platform::RemoveDir(tmp);
    return s;
  }
  KillPoint("snapshot:renamed");
  control.Report(total, total);
  report->sequence = next_seq;
  report->segments = segs.size();
  return Status::OK();
}

}  // namespace causeway
