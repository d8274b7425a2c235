// One segment file: created preallocated (posix_fallocate, never a sparse
// ftruncate: a store into an mmap hole on a full disk is SIGBUS, an
// fallocate failure is an error code), mapped shared, synced, sealed.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "format.h"
#include "platform.h"
#include "status.h"

namespace causeway {

enum class SyncMode { kData, kAll, kNone };

struct Frontier {
  uint64_t generation = 0;
  uint64_t end = kSegmentHeaderSize;  // bytes [128, end) are durable whole frames
  uint64_t next_sequence = 0;         // global sequence after the last durable frame
  uint32_t state = kFrontierOpen;
};

class Segment {
 public:
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;
  ~Segment();

  // Creates "<dir>/<FileName(id)>" through a ".tmp" name: preallocate
  // `capacity` bytes, write and sync the header, rename, sync the directory.
  // The returned segment is mapped read-write. The file gets `file_mode`
  // (less the umask; see platform::kPrivateFileMode).
  static Status Create(const std::string& dir, uint64_t id, uint64_t base_sequence, uint64_t capacity,
                       std::unique_ptr<Segment>* out, uint32_t file_mode = platform::kPrivateFileMode);
  // As Create, but the file ends up as "<dir>/<file_name>" (compaction
  // output, snapshot copies), still through a ".tmp" name and a rename.
  static Status CreateNamed(const std::string& dir, const std::string& file_name, uint64_t id, uint64_t base_sequence,
                            uint64_t capacity, std::unique_ptr<Segment>* out,
                            uint32_t file_mode = platform::kPrivateFileMode);
  // Maps "<dir>/<file_name>" read-only (a compaction output before its rename).
  static Status OpenNamed(const std::string& dir, const std::string& file_name, uint64_t id,
                          std::unique_ptr<Segment>* out);
  // Maps an existing segment file and checks its header. `writable` maps it
  // read-write (the recovering writer); otherwise read-only, fd closed.
  static Status Open(const std::string& dir, uint64_t id, bool writable, std::unique_ptr<Segment>* out);

  static std::string FileName(uint64_t id);
  static bool ParseFileName(const std::string& name, uint64_t* id);

  uint64_t id() const { return id_; }
  uint64_t base_sequence() const { return base_sequence_; }
  // The header's format version: 1 segments never hold a frame with kFlagExtension.
  uint32_t format_version() const { return format_version_; }
  int64_t created_us() const { return created_us_; }
  const std::string& path() const { return path_; }
  bool writable() const { return writable_; }
  // The file was renamed (a compaction replacement moving to its final name).
  void SetPath(std::string path) { path_ = std::move(path); }
  // Mapped bytes: [0, size()) are readable; the writer may store into [128, size()).
  uint64_t size() const { return size_; }
  const uint8_t* data() const { return map_; }
  uint8_t* mutable_data() { return map_; }
  // The newest valid frontier slot read at open, or last written.
  const Frontier& frontier() const { return frontier_; }

  // Records a frontier in the slot not holding the current one. Not synced:
  // it becomes durable with the next Sync(), so the on-disk frontier lags
  // the real one by at most one sync, and never claims unsynced bytes. An
  // error (the write failed) leaves the current record as it was; callers
  // treat it as they treat a failed sync.
  Status WriteFrontier(uint64_t end, uint64_t next_sequence, uint32_t state);
  // Writes bytes [off, off + n) through the file (pwrite), not the mapping,
  // which sees them at once (one page cache). A page written this way stays
  // read-only in the writer's mapping, so the next sync writes it back
  // without write-protecting it again and the next write takes no fault.
  // Where syncs go through the mapping (Windows), stores them there.
  Status WriteThrough(uint64_t off, const uint8_t* data, size_t n);
  // fdatasync (kData, kNone) or fsync (kAll) of the file.
  Status Sync(SyncMode mode);
  // Drops this mapping's page-table entries for the whole pages below `end`
  // (bytes the writer is done with), keeping the pages in the page cache.
  // Writeback then finds no writable mapping to clean page by page, each
  // with its own TLB-shootdown IPI, but one batched flush per call.
  // Linux only (elsewhere a no-op). REQUIRES: no store into [.., end) after
  // the call. map_mu_ keeps Resize from moving the mapping meanwhile.
  void ReleaseWritten(uint64_t end);
  // Maps the pages of [from, to) ahead of the writer (MADV_POPULATE_READ), so
  // their page-cache allocation and zeroing run on the caller's thread, not
  // in page faults of the appending thread. Best effort; Linux only.
  void Prefault(uint64_t from, uint64_t to);
  // Makes the pages up to `end` (and a step beyond) writable and dirty in
  // one MADV_POPULATE_WRITE per 64 KiB step, so the writer's stores into
  // them take no page fault: one call instead of 16 faults, each costly on a
  // virtual machine. Pages populated but still zero when a sync runs are
  // written as zeros (what the file holds anyway) and cost one light fault
  // later. Best effort; Linux 5.14+ only. REQUIRES: the writer's thread (the
  // only one that resizes the mapping, so no lock is needed).
  // A sync since the last call cleaned those pages (writeback
  // write-protects every dirty page it writes): as many as the writer
  // filled in the last interval are made writable again from `begin` in
  // one call, not one fault each as it reaches them.
  void PrepareWrite(uint64_t begin, uint64_t end) {
    // Relaxed: a hint; a stale count costs faults, never bytes.
    const uint64_t syncs = syncs_.load(std::memory_order_relaxed);
    if (syncs != syncs_seen_) {
      syncs_seen_ = syncs;
      Repopulate(begin);
    }
    if (end > write_ready_end_) PopulateForWrite(end);
  }
  // Copies bytes [off, off + n) out, holding map_mu_ so a concurrent Resize
  // (the writer sealing this segment) cannot unmap them meanwhile.
  void CopyOut(uint64_t off, uint64_t n, uint8_t* dst) const;
  // Shrinks (ftruncate) or grows (posix_fallocate) the file to `bytes` and
  // remaps it. REQUIRES: writable; no pointer into the old mapping is in use.
  Status Resize(uint64_t bytes);

 private:
  Segment() = default;
  static Status OpenPath(const std::string& path, uint64_t id, bool writable, std::unique_ptr<Segment>* out);
  Status Map(bool writable);
  void ReadFrontier();

  std::string path_;
  platform::File fd_ = platform::kNoFile;
  uint8_t* map_ = nullptr;
  uint64_t size_ = 0;
  uint64_t id_ = 0;
  uint64_t base_sequence_ = 0;
  uint32_t format_version_ = kFormatVersion;
  int64_t created_us_ = 0;
  bool writable_ = false;
  int current_slot_ = -1;  // slot holding frontier_, -1 when none is valid
  // Held by Resize, ReleaseWritten, Prefault and CopyOut: the mapping does not
  // move under a madvise (which would otherwise touch whatever is mapped
  // there) or a copy.
  mutable std::mutex map_mu_;
  uint64_t released_end_ = 0;   // ReleaseWritten has dropped [page 1, released_end_)
  uint64_t prefaulted_end_ = 0;  // Prefault has mapped pages below this
  uint64_t write_ready_end_ = 0;  // PrepareWrite has populated pages below this (writer only)
  std::atomic<uint64_t> syncs_{0};  // Sync calls that returned
  uint64_t syncs_seen_ = 0;         // syncs_ when PrepareWrite last looked (writer only)
  uint64_t repopulated_at_ = 0;     // the write position at the last Repopulate (writer only)
  void PopulateForWrite(uint64_t end);
  void Repopulate(uint64_t begin);
  Frontier frontier_;
};

}  // namespace causeway
