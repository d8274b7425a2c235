#include "compaction.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <unordered_map>

#include "checkpoint.h"
#include "frame.h"
#include "index_part.h"
#include "kill_point.h"
#include "fsutil.h"
#include "log_reader.h"
#include "platform.h"
#include "store.h"

namespace causeway {
namespace {

std::string CompactName(uint64_t first) { return Segment::FileName(first) + ".compact"; }
// The replacement's index file until the commit names it (".compact": an unfinished attempt's is removed).
std::string CompactIndexName(uint64_t first) { return IndexPartFileName(Segment::FileName(first)) + ".compact"; }

// Committed: the replacement's index file takes its segment's name. A cache:
// where that fails, the writer builds the file from the segment instead.
void InstallCompactIndex(const std::string& dir, uint64_t first) {
  const std::string built = dir + "/" + CompactIndexName(first);
  if (!fsutil::Exists(built)) return;
  if (!fsutil::Rename(built, IndexPartPath(dir, Segment::FileName(first))).ok()) (void)fsutil::RemoveFile(built);
  KillPoint("compact:index-file-installed");
}

struct Marker {
  uint64_t first = 0, last = 0, next_sequence = 0;
  int64_t created_us = 0;
};

std::string FormatMarker(const Marker& m) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "causeway-compaction v1 first=%" PRIu64 " last=%" PRIu64 " created=%" PRId64
                                 " next=%" PRIu64 "\n",
                m.first, m.last, m.created_us, m.next_sequence);
  return buf;
}

bool ParseMarker(const std::string& text, Marker* m) {
  return std::sscanf(text.c_str(),
                     "causeway-compaction v1 first=%" SCNu64 " last=%" SCNu64 " created=%" SCNd64 " next=%" SCNu64,
                     &m->first, &m->last, &m->created_us, &m->next_sequence) == 4;
}

}  // namespace

Status Store::FinishCompaction() {
  const std::string& dir = options_.dir;
  pending_compaction_ = {};
  std::string text;
  Status s = fsutil::ReadFile(dir + "/" + kCompactionMarker, &text);
  if (s.code() == Status::Code::kNotFound) {
    // No commit: any replacement left behind is from an unfinished attempt.
    std::vector<std::string> names;
    CW_RETURN_IF_ERROR(fsutil::ListDir(dir, &names));
    bool removed = false;
    for (const auto& n : names) {
      if (n.size() > 8 && n.compare(n.size() - 8, 8, ".compact") == 0) {
        if (!writer()) continue;
        CW_RETURN_IF_ERROR(fsutil::RemoveFile(dir + "/" + n));
        removed = true;
      }
    }
    return removed ? fsutil::SyncDir(dir) : Status::OK();
  }
  CW_RETURN_IF_ERROR(s);
  Marker m;
  if (!ParseMarker(text, &m) || m.last < m.first)
    return Status::Corruption(std::string(kCompactionMarker) + " is unreadable: " + text.substr(0, 80));
  const std::string compact = dir + "/" + CompactName(m.first);
  const std::string first = dir + "/" + Segment::FileName(m.first);
  // Committed but not finished: the new generation is read in place (the
  // replacement instead of the first source, without the other sources).
  auto read_in_place = [&]() {
    pending_compaction_ = {m.first, m.last, fsutil::Exists(compact) ? CompactName(m.first) : std::string()};
    if (pending_compaction_.replacement.empty()) {
      std::unique_ptr<Segment> seg;
      Status os = Segment::Open(dir, m.first, false, &seg);
      if (!os.ok() || seg->created_us() != m.created_us)
        return Status::Corruption(std::string(kCompactionMarker) + " names a replacement for segment " +
                                  Segment::FileName(m.first) + " that is not on disk");
    }
    return Status::OK();
  };
  // A reader changes no byte: the next writer finishes the job.
  if (!writer()) return read_in_place();
  // Another process holds a source where that blocks the step (Windows
  // without POSIX semantics): not a failure; Compact, Close or the next open
  // tries again.
  auto in_use = [](const Status& st) { return platform::InUseByOther(st.sys_errno()); };

  // Roll forward.
  InstallCompactIndex(dir, m.first);
  if (fsutil::Exists(compact)) {
    Status r = fsutil::Rename(compact, first);
    if (in_use(r)) return read_in_place();
    CW_RETURN_IF_ERROR(r);
    CW_RETURN_IF_ERROR(fsutil::SyncDir(dir));
    KillPoint("compact:renamed");
  } else {
    std::unique_ptr<Segment> seg;
    Status os = Segment::Open(dir, m.first, false, &seg);
    if (!os.ok() || seg->created_us() != m.created_us)
      return Status::Corruption(std::string(kCompactionMarker) + " names a replacement for segment " +
                                Segment::FileName(m.first) + " that is not on disk");
  }
  for (uint64_t id = m.first + 1; id <= m.last; id++) {
    Status r = fsutil::RemoveFile(dir + "/" + Segment::FileName(id));
    if (in_use(r)) return read_in_place();
    CW_RETURN_IF_ERROR(r);
    if (id == m.first + 1) KillPoint("compact:first-source-removed");
  }
  CW_RETURN_IF_ERROR(fsutil::SyncDir(dir));
  KillPoint("compact:sources-removed");
  // The removed sources' index files (caches: best effort). The first's
  // name now belongs to the replacement: a file left from the source it
  // replaced fails its identity check, and the writer builds the new one.
  for (uint64_t id = m.first + 1; id <= m.last; id++) (void)fsutil::RemoveFile(IndexPartPath(dir, Segment::FileName(id)));
  CW_RETURN_IF_ERROR(fsutil::RemoveFile(dir + "/" + kCompactionMarker));
  return fsutil::SyncDir(dir);
}

Status Store::Compact(const CompactionPlan& plan, CompactionReport* report) {
  if (role() == Role::kClient) {
    // The writer compacts; NotFound: this process took the role meanwhile.
    Status s = ForwardCompact(plan, report);
    if (s.code() != Status::Code::kNotFound || role() != Role::kWriter) return s;
  }
  std::lock_guard<std::mutex> cg(compaction_mu_);
  std::vector<std::shared_ptr<Segment>> sources;
  {
    std::lock_guard<std::mutex> g(mu_);
    CW_RETURN_IF_ERROR(CheckWritable());
  }
  if (pending_compaction_.last != 0) {
    // The previous compaction's files first; its marker must go before a new one is written.
    CW_RETURN_IF_ERROR(FinishPendingCompaction());
    if (pending_compaction_.last != 0) {
      std::lock_guard<std::mutex> g(mu_);
      report->reason = "the previous compaction is not finished: another process still has segment " +
                       Segment::FileName(pending_compaction_.first) + ".." + Segment::FileName(pending_compaction_.last) +
                       " open";
      report->segments_before = report->segments_after = segments_.size();
      return Status::OK();
    }
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    report->segments_before = segments_.size();
    for (const auto& seg : segments_)
      if (seg != active_ && seg->id() <= plan.up_to_segment) sources.push_back(seg);
  }
  if (sources.size() < std::max<uint32_t>(1, plan.min_segments)) {
    report->reason = "only " + std::to_string(sources.size()) + " sealed segment(s); minSegments is " +
                     std::to_string(plan.min_segments);
    report->segments_after = report->segments_before;
    return Status::OK();
  }
  // Before the commit point a compaction may stop: asked to (Cancelled) or
  // because the store is closing (Close waits on compaction_mu_ for us).
  const LongOpControl& control = plan.control;
  auto stop_requested = [&]() -> Status {
    if (closed()) return Status::Closed("the store was closed during compaction");
    if (control.CancelRequestedRelaxed()) return Status::Cancelled("compaction aborted; the old generation stands");
    return Status::OK();
  };
  CW_RETURN_IF_ERROR(stop_requested());
  const std::string& dir = options_.dir;
  const Segment& first = *sources.front();
  uint64_t capacity = kSegmentHeaderSize;
  for (const auto& seg : sources) {
    capacity += seg->frontier().end - kSegmentHeaderSize;
    report->bytes_before += seg->frontier().end;
  }
  CW_RETURN_IF_ERROR(RemoveCheckpoint(dir));
  KillPoint("compact:checkpoint-removed");

  // Step 2: the replacement, from the immutable sealed sources, without the store lock.
  std::unique_ptr<Segment> out;
  CW_RETURN_IF_ERROR(Segment::CreateNamed(dir, CompactName(first.id()), first.id(), first.base_sequence(),
                                          std::max<uint64_t>(capacity, 4096), &out, options_.file_mode));
  RetiredKeys retired = retired_keys_;
  bool new_retired = false;
  struct HeadCandidate {
    uint32_t dropped_clock = 0, kept_clock = 0;
    std::array<uint8_t, 32> hash{};
  };
  std::unordered_map<std::string, HeadCandidate> head_candidates;
  uint8_t* base = out->mutable_data();
  uint64_t pos = kSegmentHeaderSize;
  std::vector<uint8_t> scratch;
  Status failed;
  const uint64_t total = capacity - kSegmentHeaderSize;
  uint64_t done = 0, next_report = kProgressStep;
  control.Report(0, total);
  for (const auto& seg : sources) {
    ScanOutcome so = ScanFrames(seg->data(), kSegmentHeaderSize, seg->frontier().end, seg->base_sequence(),
                                [&](const FrameView& v, uint64_t) {
      if (!failed.ok()) return;  // stopping: the scan runs out without writing
      done += AlignFrame(v.length);
      if (done >= next_report) {
        next_report = done + kProgressStep;
        failed = stop_requested();
        if (!failed.ok()) return;
        control.Report(done, total);
      }
      const bool rejected = plan.strategy != CompactionStrategy::kMerge &&
                            std::binary_search(plan.rejected.begin(), plan.rejected.end(), v.sequence);
      const uint64_t span = AlignFrame(v.length);
      const bool in_batch = (v.flags & (kFlagBatchMember | kFlagBatchEnd)) != 0;
      if (plan.strategy == CompactionStrategy::kRetention) {
        std::string name(reinterpret_cast<const char*>(v.entity()), v.entity_len);
        auto& hc = head_candidates[name];
        if (rejected) {
          if (v.clock > hc.dropped_clock) {
            hc.dropped_clock = v.clock;
            std::memcpy(hc.hash.data(), v.content_hash(), 32);
          }
        } else {
          hc.kept_clock = std::max(hc.kept_clock, v.clock);
        }
      }
      if (!rejected && (plan.strategy != CompactionStrategy::kRetention || !in_batch)) {
        std::memcpy(base + pos, v.base, span);  // merge, and tombstone's survivors: the exact bytes
        pos += span;
        report->events_kept++;
        return;
      }
      if (plan.strategy == CompactionStrategy::kRetention && rejected) {
        if (v.flags & kFlagIdempotent) {
          Index::Digest d;
          std::memcpy(d.data(), v.idempotency(), 16);
          std::array<uint8_t, kFrameHeaderSize> h;
          std::memcpy(h.data(), v.base, kFrameHeaderSize);
          retired[d] = h;
          new_retired = true;
        }
        report->events_dropped++;
        return;
      }
      // Rewrite one frame: a retention survivor leaves its batch (batches
      // were committed long ago, and a dropped end frame must not undo
      // them); a tombstone loses its payload but keeps its hashes.
      const bool tomb = rejected;
      const uint32_t payload_len = tomb ? 0 : v.payload_len;
      // The extension block (version, event time, tags) stays: tags keep indexing the event.
      const uint32_t length =
          static_cast<uint32_t>(kFrameHeaderSize + v.entity_len + v.scope_len + payload_len + v.ext_len);
      uint8_t* f = base + pos;
      std::memcpy(f, v.base, kFrameHeaderSize + v.entity_len + v.scope_len + payload_len);
      if (v.ext_len) std::memcpy(f + length - v.ext_len, v.extension(), v.ext_len);
      StoreLE<uint32_t>(f + frame::kLength, length);
      StoreLE<uint32_t>(f + frame::kPayloadLen, payload_len);
      uint8_t flags = v.flags;
      if (plan.strategy == CompactionStrategy::kRetention) flags &= ~(kFlagBatchMember | kFlagBatchEnd);
      if (tomb) flags |= kFlagTombstone;
      f[frame::kFlags] = flags;
      std::memset(f + length, 0, AlignFrame(length) - length);
      StoreLE<uint32_t>(f + frame::kCrc, FrameCrc(f, length));
      pos += AlignFrame(length);
      if (tomb) report->events_tombstoned++;
      else report->events_kept++;
    });
    if (!failed.ok()) break;
    if (so.stop != FrameCheck::kEnd || so.committed_end != seg->frontier().end) {
      failed = Status::Corruption("segment " + Segment::FileName(seg->id()) + " offset " +
                                  std::to_string(so.stop_offset) + ": " + FrameCheckName(so.stop) +
                                  " while compacting");
      break;
    }
    if (seg == sources.front()) KillPoint("compact:replacement-partly-written");
  }
  const uint64_t next_sequence = sources.back()->frontier().next_sequence;
  if (failed.ok()) failed = out->Sync(SyncMode::kData);
  if (failed.ok()) {
    failed = out->WriteFrontier(pos, next_sequence, kFrontierSealed);
    if (failed.ok()) failed = out->Resize(pos);
  }
  if (failed.ok()) failed = out->Sync(SyncMode::kAll);
  // The replacement's index file is written before the commit and installed
  // by it, so the new generation opens with it. Not synced: a cache.
  if (failed.ok()) {
    std::string part;
    if (BuildIndexPart(*out, pos, &part).ok() &&
        fsutil::WriteCacheFileAtomic(dir, CompactIndexName(first.id()), part, options_.file_mode).ok())
      KillPoint("compact:index-file-written");
  }
  if (failed.ok()) failed = stop_requested();  // the last chance: nothing outside the replacement changed yet
  if (failed.ok()) control.Report(total, total);
  if (failed.ok() && new_retired) failed = WriteRetiredKeys(dir, retired, options_.file_mode);
  // An entity whose newest event is dropped keeps its clock and head, so its
  // next event neither reuses a clock nor breaks the chain's forward order.
  RetiredHeads heads = retired_heads_;
  bool new_heads = false;
  if (failed.ok()) {
    WriterRole role(this);  // entity clocks are the writer's
    std::lock_guard<std::mutex> g(mu_);
    for (const auto& [name, hc] : head_candidates) {
      if (hc.dropped_clock == 0 || hc.dropped_clock < hc.kept_clock) continue;
      const uint32_t e = index_.FindEntity(name);
      if (e == kNoId || index_.EntityClock(e) != hc.dropped_clock) continue;
      heads[name] = {hc.dropped_clock, hc.hash};
      new_heads = true;
    }
  }
  if (failed.ok() && new_heads) failed = WriteRetiredHeads(dir, heads, options_.file_mode);
  Marker m{first.id(), sources.back()->id(), next_sequence, out->created_us()};
  out.reset();
  if (failed.ok()) KillPoint("compact:replacement-written");
  if (failed.ok()) failed = fsutil::WriteFileAtomic(dir, kCompactionMarker, FormatMarker(m), options_.file_mode);
  if (failed.ok()) KillPoint("compact:marker-written");
  if (!failed.ok()) {
    // Before the commit point: the old generation stands.
    fsutil::RemoveFile(dir + "/" + CompactName(first.id()));
    fsutil::RemoveFile(dir + "/" + CompactIndexName(first.id()));
    return failed;
  }
  InstallCompactIndex(dir, m.first);

  // Committed. The store moves to the new generation before steps 4 and 5,
  // so it maps no source while they are renamed over and removed (Windows
  // refuses both for a file mapped anywhere, without POSIX semantics).
  sources.clear();
  std::unique_ptr<Segment> opened;
  Status s = Segment::OpenNamed(dir, CompactName(m.first), m.first, &opened);
  std::shared_ptr<Segment> merged(opened.release());
  {
    // Appends pause here: the segments and the index are swapped under them.
    WriterRole role(this);
    std::lock_guard<std::mutex> g(mu_);
    if (!s.ok()) {
      Poison(s);
      return Status::Poisoned("compaction committed but its replacement does not open (" + s.message() +
                              "); reopen the store to complete it");
    }
    report->bytes_after = merged->size();
    std::vector<std::shared_ptr<Segment>> next;
    next.push_back(merged);
    for (const auto& seg : segments_)
      if (seg->id() > m.last) next.push_back(seg);
    segments_.swap(next);
    retired_keys_.swap(retired);
    retired_heads_.swap(heads);
    s = RebuildIndex();
    if (!s.ok()) {
      Poison(s);
      return s;
    }
  }
  // The old segments' mappings went with `next` (readers take mu_, so none
  // is still reading them); a snapshot waits on compaction_mu_.
  s = FinishPendingCompaction();
  if (!s.ok()) {
    WriterRole role(this);
    std::lock_guard<std::mutex> g(mu_);
    Poison(s);
    return Status::Poisoned("compaction committed but could not finish (" + s.message() +
                            "); reopen the store to complete it");
  }
  report->performed = true;
  std::lock_guard<std::mutex> g(mu_);
  report->segments_after = segments_.size();
  report->first_segment = m.first;
  report->last_segment = m.last;
  return Status::OK();
}

Status Store::FinishPendingCompaction() {
  CW_RETURN_IF_ERROR(FinishCompaction());
  if (!pending_compaction_.replacement.empty()) return Status::OK();
  // The replacement has its final name now: a snapshot links it by that name.
  std::lock_guard<std::mutex> g(mu_);
  for (const auto& seg : segments_) {
    const std::string name = options_.dir + "/" + Segment::FileName(seg->id());
    if (seg->path() != name) seg->SetPath(name);
  }
  return Status::OK();
}

}  // namespace causeway
