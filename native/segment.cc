#include "segment.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "crc32c.h"
#include "fsutil.h"
#include "platform.h"

namespace causeway {
namespace {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint32_t SlotCrc(const uint8_t* slot) { return crc32c::Mask(crc32c::Value(slot, kFrontierCrcOffset)); }

}  // namespace

Segment::~Segment() {
  platform::Unmap(map_, size_);
  platform::CloseFile(fd_);
}

std::string Segment::FileName(uint64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016" PRIx64 ".cwseg", id);
  return buf;
}

bool Segment::ParseFileName(const std::string& name, uint64_t* id) {
  if (name.size() != 22 || name.compare(16, 6, ".cwseg") != 0) return false;
  uint64_t v = 0;
  for (int i = 0; i < 16; i++) {
    char c = name[i];
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (d < 0) return false;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  *id = v;
  return true;
}

Status Segment::Map(bool writable) {
  if (int rc = platform::MapFile(fd_, size_, writable, &map_); rc != 0) {
    map_ = nullptr;
    return Status::FromErrno("mmap " + path_, rc);
  }
  return Status::OK();
}

Status Segment::Create(const std::string& dir, uint64_t id, uint64_t base_sequence, uint64_t capacity,
                       std::unique_ptr<Segment>* out, uint32_t file_mode) {
  return CreateNamed(dir, FileName(id), id, base_sequence, capacity, out, file_mode);
}

Status Segment::CreateNamed(const std::string& dir, const std::string& file_name, uint64_t id, uint64_t base_sequence,
                            uint64_t capacity, std::unique_ptr<Segment>* out, uint32_t file_mode) {
  std::unique_ptr<Segment> s(new Segment());
  s->id_ = id;
  s->base_sequence_ = base_sequence;
  s->writable_ = true;
  s->path_ = dir + "/" + file_name;
  std::string tmp = s->path_ + ".tmp";
  int rc = platform::OpenFile(tmp, platform::OpenMode::kCreate, &s->fd_, file_mode);
  if (rc != 0) return Status::FromErrno("create " + tmp, rc);
  rc = platform::Preallocate(s->fd_, capacity);
  if (rc != 0) {
    platform::CloseFile(s->fd_);
    s->fd_ = platform::kNoFile;
    fsutil::RemoveFile(tmp);
    return Status::FromErrno("preallocate " + std::to_string(capacity) + " bytes for " + tmp, rc);
  }
  s->size_ = capacity;
  Status st = s->Map(true);
  if (!st.ok()) {
    s.reset();  // closed before the removal: Windows removes no open file of ours
    fsutil::RemoveFile(tmp);
    return st;
  }
  uint8_t* h = s->map_;
  std::memcpy(h, kSegmentMagic, 8);
  StoreLE<uint32_t>(h + 8, kFormatVersion);
  StoreLE<uint32_t>(h + 12, static_cast<uint32_t>(kSegmentHeaderSize));
  StoreLE<uint64_t>(h + 16, id);
  StoreLE<uint64_t>(h + 24, base_sequence);
  s->created_us_ = NowMicros();
  StoreLE<int64_t>(h + 32, s->created_us_);
  StoreLE<uint32_t>(h + kHeaderCrcOffset, crc32c::Mask(crc32c::Value(h, kHeaderCrcOffset)));
  s->frontier_ = Frontier{0, kSegmentHeaderSize, base_sequence, kFrontierOpen};
  st = s->WriteFrontier(kSegmentHeaderSize, base_sequence, kFrontierOpen);
  if (st.ok()) st = s->Sync(SyncMode::kAll);
  if (st.ok()) st = fsutil::Rename(tmp, s->path_);
  if (st.ok()) st = fsutil::SyncDir(dir);
  if (!st.ok()) {
    s.reset();
    fsutil::RemoveFile(tmp);
    return st;
  }
  *out = std::move(s);
  return Status::OK();
}

Status Segment::Open(const std::string& dir, uint64_t id, bool writable, std::unique_ptr<Segment>* out) {
  return OpenPath(dir + "/" + FileName(id), id, writable, out);
}

Status Segment::OpenNamed(const std::string& dir, const std::string& file_name, uint64_t id,
                          std::unique_ptr<Segment>* out) {
  return OpenPath(dir + "/" + file_name, id, false, out);
}

Status Segment::OpenPath(const std::string& path, uint64_t id, bool writable, std::unique_ptr<Segment>* out) {
  std::unique_ptr<Segment> s(new Segment());
  s->id_ = id;
  s->writable_ = writable;
  s->path_ = path;
  int rc = platform::OpenFile(s->path_, writable ? platform::OpenMode::kReadWrite : platform::OpenMode::kRead, &s->fd_);
  if (rc != 0) {
    s->fd_ = platform::kNoFile;
    return Status::FromErrno("open " + s->path_, rc);
  }
  uint64_t file_size = 0;
  if ((rc = platform::FileSize(s->fd_, &file_size)) != 0) return Status::FromErrno("stat " + s->path_, rc);
  if (file_size < kSegmentHeaderSize)
    return Status::Corruption("segment " + s->path_ + " offset 0: file shorter than its header (" +
                              std::to_string(file_size) + " bytes)");
  s->size_ = file_size;
  CW_RETURN_IF_ERROR(s->Map(writable));
  if (!writable) {
    // A read-only mapping outlives its descriptor; keeping no fd per sealed
    // segment keeps the store inside the process's descriptor budget.
    platform::CloseFile(s->fd_);
    s->fd_ = platform::kNoFile;
  }
  const uint8_t* h = s->map_;
  if (std::memcmp(h, kSegmentMagic, 8) != 0)
    return Status::Corruption("segment " + s->path_ + " offset 0: bad magic");
  if (LoadLE<uint32_t>(h + kHeaderCrcOffset) != crc32c::Mask(crc32c::Value(h, kHeaderCrcOffset)))
    return Status::Corruption("segment " + s->path_ + " offset 0: header checksum mismatch");
  uint32_t version = LoadLE<uint32_t>(h + 8);
  if (version < kOldestFormatVersion || version > kFormatVersion)
    return Status::Corruption("segment " + s->path_ + ": format version " + std::to_string(version) +
                              " is not supported (this build reads versions " + std::to_string(kOldestFormatVersion) +
                              " to " + std::to_string(kFormatVersion) + ")");
  s->format_version_ = version;
  if (LoadLE<uint32_t>(h + 12) != kSegmentHeaderSize || LoadLE<uint64_t>(h + 16) != id)
    return Status::Corruption("segment " + s->path_ + " offset 0: header names another segment or size");
  s->base_sequence_ = LoadLE<uint64_t>(h + 24);
  s->created_us_ = LoadLE<int64_t>(h + 32);
  s->ReadFrontier();
  *out = std::move(s);
  return Status::OK();
}

void Segment::ReadFrontier() {
  current_slot_ = -1;
  frontier_ = Frontier{0, kSegmentHeaderSize, base_sequence_, kFrontierOpen};
  for (int i = 0; i < 2; i++) {
    const uint8_t* slot = map_ + kFrontierSlot0 + i * kFrontierSlotSize;
    if (LoadLE<uint32_t>(slot + kFrontierCrcOffset) != SlotCrc(slot)) continue;
    Frontier f{LoadLE<uint64_t>(slot), LoadLE<uint64_t>(slot + 8), LoadLE<uint64_t>(slot + 16),
               LoadLE<uint32_t>(slot + 24)};
    if (f.generation == 0 || f.end < kSegmentHeaderSize) continue;  // an end past the file is kept: recovery reports it
    if (f.state != kFrontierOpen && f.state != kFrontierSealed) continue;
    if (current_slot_ < 0 || f.generation > frontier_.generation) {
      frontier_ = f;
      current_slot_ = i;
    }
  }
}

Status Segment::WriteFrontier(uint64_t end, uint64_t next_sequence, uint32_t state) {
  int slot_index = current_slot_ == 0 ? 1 : 0;
  const uint64_t at = kFrontierSlot0 + slot_index * kFrontierSlotSize;
  Frontier f{frontier_.generation + 1, end, next_sequence, state};
  uint8_t slot[kFrontierSlotSize] = {};
  StoreLE<uint64_t>(slot, f.generation);
  StoreLE<uint64_t>(slot + 8, f.end);
  StoreLE<uint64_t>(slot + 16, f.next_sequence);
  StoreLE<uint32_t>(slot + 24, f.state);
  StoreLE<uint32_t>(slot + kFrontierCrcOffset, SlotCrc(slot));
  // Written to the file, not stored through the mapping (the page cache is
  // the same, so every mapping sees it): a record stored through the
  // mapping left page 0 mapped writable and dirty, so each sync had to
  // write-protect it again (page table walk, TLB shootdown) and the next
  // record took a write fault: about 10-20 µs of every durable append.
  CW_RETURN_IF_ERROR(WriteThrough(at, slot, kFrontierSlotSize));
  frontier_ = f;
  current_slot_ = slot_index;
  return Status::OK();
}

Status Segment::WriteThrough(uint64_t off, const uint8_t* data, size_t n) {
  if (off + n > size_) return Status::InvalidArgument("write past the end of " + path_);
  if (platform::kSyncUsesMapping || fd_ == platform::kNoFile) {
    std::memcpy(map_ + off, data, n);
    return Status::OK();
  }
  if (int rc = platform::WriteAt(fd_, data, n, off); rc != 0) return Status::FromErrno("pwrite " + path_, rc);
  return Status::OK();
}

Status Segment::Sync(SyncMode mode) {
  if (fd_ == platform::kNoFile) return Status::OK();
  const bool metadata = mode == SyncMode::kAll;
  int rc;
  if (platform::kSyncUsesMapping) {
    // Windows syncs through the mapping: Resize must not move it meanwhile.
    std::lock_guard<std::mutex> g(map_mu_);
    rc = platform::SyncMapped(fd_, map_, size_, metadata);
  } else {
    // The file alone: an fdatasync under map_mu_ would stall the writer's
    // Prefault and ReleaseWritten for its whole length.
    rc = platform::SyncFile(fd_, metadata);
  }
  if (rc != 0) return Status::FromErrno("fdatasync " + path_, rc);
  syncs_.fetch_add(1, std::memory_order_relaxed);  // a hint for PrepareWrite (relaxed: see there)
  return Status::OK();
}

namespace {
const uint64_t kPage = platform::PageSize();
}  // namespace

void Segment::Prefault(uint64_t from, uint64_t to) {
  std::lock_guard<std::mutex> g(map_mu_);
  // While more than half the window ahead is mapped already, nothing: one
  // call per half window, not one per sync (a durable append's sync moved
  // the window by one frame, and paid a system call for one page).
  if (prefaulted_end_ >= from + (to - from) / 2) return;
  from = std::max(from, prefaulted_end_) / kPage * kPage;
  to = std::min(to, size_);
  if (!writable_ || to <= from) return;
  // MADV_POPULATE_READ (Linux 5.14) maps the pages read-only; the writer's
  // first store then takes a light write-protect fault instead of a full one.
  if (platform::PopulateMapped(map_ + from, to - from)) prefaulted_end_ = to;
}

void Segment::PopulateForWrite(uint64_t end) {
  constexpr uint64_t kStep = 64 * 1024;  // measured: 64 KiB beat 256 KiB (the zeroing stays in cache)
  if (!writable_ || write_ready_end_ == UINT64_MAX) return;
  const uint64_t from = std::max(write_ready_end_, end / kPage * kPage);
  const uint64_t to = std::min(size_, (end + kStep - 1) / kStep * kStep + kStep);
  if (to <= from) return;
  // A kernel without MADV_POPULATE_WRITE (or a refusal) turns it off for this segment.
  write_ready_end_ = platform::PopulateMappedForWrite(map_ + from, to - from) ? to : UINT64_MAX;
}

void Segment::Repopulate(uint64_t begin) {
  // As far as the writer moved in the last interval, no further: pages it
  // will not reach before the next sync would only be written back again
  // as zeros (a writer appending now and then re-dirties its one page).
  const uint64_t moved = begin > repopulated_at_ ? begin - repopulated_at_ : 0;
  repopulated_at_ = begin;
  if (!writable_ || write_ready_end_ == UINT64_MAX) return;
  const uint64_t from = begin / kPage * kPage;
  const uint64_t to = std::min(write_ready_end_, (begin + moved + kPage - 1) / kPage * kPage);
  if (to > from) (void)platform::PopulateMappedForWrite(map_ + from, to - from);
}

void Segment::ReleaseWritten(uint64_t end) {
  std::lock_guard<std::mutex> g(map_mu_);
  // Page 0 holds the frontier slots, rewritten at every sync: never released.
  const uint64_t from = std::max(released_end_, kPage);
  const uint64_t to = std::min(end, size_) / kPage * kPage;
  // Below a batch of 64 pages the call would cost more than the IPIs it saves.
  if (!writable_ || to < from + 64 * kPage) return;
  // MADV_DONTNEED on a shared file mapping only unmaps: dirty pages stay in
  // the page cache (a process crash loses nothing) and a later read maps
  // them again. A failure leaves the mapping as it was, which is harmless.
  if (platform::ReleaseMapped(map_ + from, to - from)) released_end_ = to;
}

void Segment::CopyOut(uint64_t off, uint64_t n, uint8_t* dst) const {
  std::lock_guard<std::mutex> g(map_mu_);
  std::memcpy(dst, map_ + off, n);
}

Status Segment::Resize(uint64_t bytes) {
  if (!writable_ || fd_ == platform::kNoFile) return Status::InvalidArgument("resize of a read-only segment");
  std::lock_guard<std::mutex> g(map_mu_);
  // Unmapped first: Windows changes no size of a file with a view mapped.
  platform::Unmap(map_, size_);
  map_ = nullptr;
  write_ready_end_ = 0;
  int rc = 0;
  if (bytes < size_) rc = platform::SetFileSize(fd_, bytes);
  else if (bytes > size_) rc = platform::Preallocate(fd_, bytes);
  if (rc == 0) size_ = bytes;
  // Mapped again even after a failure (at the old size), so the segment stays readable.
  // A failed map comes first: callers that accept a refused resize (EBUSY on
  // Windows) must never go on with no mapping.
  Status mapped = Map(true);
  if (!mapped.ok()) return mapped;
  if (rc != 0) return Status::FromErrno((bytes < size_ ? "truncate " : "preallocate ") + path_, rc);
  return Status::OK();
}

}  // namespace causeway
