// Open-time recovery: find the segments, check each one's frames, rebuild
// the index, and decide what a stop in the scan means.
//
// The rule that separates a crash from corruption: each segment header
// records a durable frontier, the end of the bytes a completed sync covered.
//  - A sealed segment must hold whole, checking frames exactly up to its end.
//  - In the newest segment, a frame that fails below the frontier is
//    corruption: the bytes were synced and have changed since (refuse to open).
//  - Past the frontier, the first frame that fails and everything after it is
//    a torn tail: written but never synced, so never acknowledged as durable.
//    A writable open cuts it off; batches left without their end frame go with it.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "checkpoint.h"
#include "footer.h"
#include "index_part.h"
#include "fsutil.h"
#include "log_reader.h"
#include "parallel_for.h"
#include "platform.h"
#include "store.h"

namespace causeway {
namespace {

std::string Where(const Segment& s, uint64_t offset) {
  return "segment " + Segment::FileName(s.id()) + " offset " + std::to_string(offset);
}

}  // namespace

Status Store::Recover(bool use_checkpoint) {
  // Rows come in without their event ids; PlaceIds puts them in at the end,
  // from the sealed segments' index files where they check (salvage reads frames only).
  index_.DeferIds(true);
  Status s = LoadSegments(use_checkpoint);
  index_.DeferIds(false);
  if (!s.ok()) return s;
  // The segment to append to first: a last segment the writer does not
  // resume is then sealed and not active, and PlaceIds gives it its file.
  if (writer()) CW_RETURN_IF_ERROR(PrepareActive(segments_.empty() ? 0 : segments_.back()->id(), next_sequence_));
  return PlaceIds();
}

Status Store::LoadSegments(bool use_checkpoint) {
  const bool writable = writer();
  pending_compaction_ = {};
  CW_RETURN_IF_ERROR(FinishCompaction());
  CW_RETURN_IF_ERROR(LoadRetiredKeys());
  CW_RETURN_IF_ERROR(LoadRetiredHeads());
  std::vector<std::string> names;
  CW_RETURN_IF_ERROR(fsutil::ListDir(options_.dir, &names));
  std::vector<uint64_t> ids;
  for (const auto& n : names) {
    uint64_t id;
    if (Segment::ParseFileName(n, &id)) {
      // An unfinished compaction (read-only, or waiting on another process): its replacement stands for its sources.
      if (pending_compaction_.last && id > pending_compaction_.first && id <= pending_compaction_.last) continue;
      ids.push_back(id);
    } else if (writable && n.size() > 4 && n.compare(n.size() - 4, 4, ".tmp") == 0) {
      // A segment or file whose creation never reached its rename.
      CW_RETURN_IF_ERROR(fsutil::RemoveFile(options_.dir + "/" + n));
    }
  }
  std::sort(ids.begin(), ids.end());
  if (ids.empty()) return Status::OK();  // an empty store reads as empty; a writer's first segment comes next
  if (writable) RemoveStrayIndexFiles(names, ids);

  // Map every segment first: the checkpoint is checked against them. Their
  // headers are read several at a time (kOpenThreads): on a cold page cache
  // each is a read from the disk.
  std::vector<std::shared_ptr<Segment>> segs(ids.size());
  std::vector<Status> opened(ids.size());
  ParallelFor(ids.size(), kOpenThreads, [&](size_t i) {
    std::unique_ptr<Segment> seg;
    if (ids[i] == pending_compaction_.first && !pending_compaction_.replacement.empty())
      opened[i] = Segment::OpenNamed(options_.dir, pending_compaction_.replacement, ids[i], &seg);
    else
      opened[i] = Segment::Open(options_.dir, ids[i], writable && i + 1 == ids.size(), &seg);
    segs[i].reset(seg.release());
  });
  for (const Status& st : opened) CW_RETURN_IF_ERROR(st);
  CheckpointHeader ck;
  footers_loaded_ = 0;
  index_files_loaded_ = 0;
  const bool from_checkpoint = use_checkpoint && LoadCheckpoint(segs, &ck);
  opened_from_checkpoint_ = from_checkpoint;

  uint64_t next_seq = 0;
  for (size_t i = 0; i < ids.size(); i++) {
    const bool last = i + 1 == ids.size();
    std::shared_ptr<Segment>& shared = segs[i];
    const Segment* segp = shared.get();
    const Frontier& f = segp->frontier();
    if (segp->base_sequence() != next_seq && options_.salvage) {
      damage_.push_back(Where(*segp, 0) + ": starts at sequence " + std::to_string(segp->base_sequence()) +
                        " but the log before it ends at " + std::to_string(next_seq));
      next_seq = segp->base_sequence();
    }
    if (segp->base_sequence() != next_seq)
      return Status::Corruption(Where(*segp, 0) + ": starts at sequence " + std::to_string(segp->base_sequence()) +
                                " but the log before it ends at " + std::to_string(next_seq) +
                                " (a segment is missing or foreign)");
    if (!last && f.state != kFrontierSealed)
      return Status::Corruption(Where(*segp, 0) + ": an older segment is not sealed (its frontier record is lost)");
#ifdef CAUSEWAY_CANARY_TORN_BELOW_FRONTIER
    if (f.end > segp->size() && f.state == kFrontierSealed)  // planted bug (reliability canary): see below
#else
    if (f.end > segp->size())
#endif
      return Status::Corruption(Where(*segp, segp->size()) + ": the file ends before its durable frontier (" +
                                std::to_string(f.end) + "); synced bytes were cut off");
    const uint64_t limit = f.state == kFrontierSealed ? f.end : segp->size();
    // Frames the checkpoint already put in the index are not scanned again.
    uint64_t start = kSegmentHeaderSize;
    if (from_checkpoint && i < ck.segments.size()) {
      start = ck.segments[i].end;
      next_seq = ck.segments[i].next_sequence;
    }
    // The segment joins the list before its frames reach the index: the
    // index resolves event ids through it while it grows.
    const uint32_t slot = static_cast<uint32_t>(segments_.size());
    // A writer appends to its last segment unless a clean close sealed it
    // with its index file: the checkpoint then leaves its rows to the file
    // (whatever segment size this open asks for); without one, unless it is
    // larger than Resumes allows.
    const bool covered = from_checkpoint && i < ck.segments.size();
    const bool resume = last && writable && (f.state != kFrontierSealed || (covered ? !index_.SlotInFile(slot) : Resumes(f.end)));
    segments_.push_back(shared);
    ScanOutcome out;
    const size_t rows_before = index_.size();
    if (start == kSegmentHeaderSize && f.state == kFrontierSealed && !resume && !options_.salvage &&
        LoadIndexFile(*segp, slot, next_seq)) {
      // A sealed segment whose index file checks: its rows are the file's, served from it.
      out.committed_end = out.stop_offset = f.end;
      out.next_sequence = f.next_sequence;
      index_files_loaded_++;
    } else if (start == kSegmentHeaderSize && f.state == kFrontierSealed && LoadFooter(*segp, slot, next_seq, &index_)) {
      // A sealed segment whose footer checks: its rows came from the footer.
      out.committed_end = f.end;
      out.stop_offset = f.end;
      out.next_sequence = f.next_sequence;
      // Only rows the footer added: earlier ones may be served by their files (columns freed).
      if (index_.size() > rows_before) last_timestamp_us_ = std::max(last_timestamp_us_, index_.Timestamp(index_.size() - 1));
      footers_loaded_++;
    } else {
      auto visit = [&](const FrameView& v, uint64_t off) { IndexFrame(v, slot, off); };
      out = ScanFrames(segp->data(), start, limit, next_seq, visit);
      // Salvage (read-only, for verification): note the damage, find the next
      // frame that checks with a later sequence, and read on from there.
      // Damage is a stop short of the sealed end, or below an open segment's
      // durable frontier; a stop past the frontier is a torn tail, not damage.
      auto damaged = [&] {
        const uint64_t at = out.pending_batch ? out.committed_end : out.stop_offset;
        return at < f.end && (out.stop != FrameCheck::kEnd || out.pending_batch || out.committed_end < f.end);
      };
      while (options_.salvage && damaged()) {
        const uint64_t bad = out.pending_batch ? out.committed_end : out.stop_offset;
        damage_.push_back(Where(*segp, bad) + ": " +
                          (out.pending_batch ? "batch without its end frame" : FrameCheckName(out.stop)));
        uint64_t p = AlignFrame(out.stop_offset + 1);
        bool found = false;
        for (; p + kFrameHeaderSize <= limit; p += kFrameAlign) {
          FrameView v;
          if (DecodeFrame(segp->data() + p, limit - p, &v) == FrameCheck::kOk && v.sequence >= out.next_sequence) {
            found = true;
            break;
          }
        }
        if (!found) break;
        const uint64_t frames = out.frames;
        out = ScanFrames(segp->data(), p, limit, out.next_sequence, visit);
        out.frames += frames;
      }
    }
    if (options_.salvage) {
      // Nothing refuses a salvage open: what could not be read is in damage_.
      if (f.state == kFrontierSealed) out.next_sequence = std::max(out.next_sequence, f.next_sequence);
      next_seq = out.next_sequence;
      if (last) read_end_ = out.committed_end;
      continue;
    }
    const bool clean_end = out.stop == FrameCheck::kEnd && !out.pending_batch;
    if (f.state == kFrontierSealed) {
      if (!clean_end || out.committed_end != f.end)
        return Status::Corruption(Where(*segp, out.stop_offset) + ": " +
                                  (out.pending_batch ? "batch without its end frame" : FrameCheckName(out.stop)) +
                                  " inside a sealed segment");
      // Retention may have dropped the last events: the frames then end
      // before the sealed next sequence, never after it.
      if (out.next_sequence > f.next_sequence)
        return Status::Corruption(Where(*segp, f.end) + ": sealed frontier names sequence " +
                                  std::to_string(f.next_sequence) + " but the frames end at " +
                                  std::to_string(out.next_sequence));
      out.next_sequence = f.next_sequence;
    } else {
#ifdef CAUSEWAY_CANARY_TORN_BELOW_FRONTIER
      if (false) {  // planted bug (reliability canary): damage below the frontier cut as a torn tail
#else
      if (out.committed_end < f.end) {
#endif
        uint64_t at = out.pending_batch ? out.committed_end : out.stop_offset;
        return Status::Corruption(Where(*segp, at) + ": " +
                                  (out.pending_batch ? std::string("batch without its end frame")
                                                     : std::string(FrameCheckName(out.stop))) +
                                  " below the durable frontier (" + std::to_string(f.end) + ")");
      }
      // Past the frontier: a torn tail. Count what a writable open will cut.
      if (!clean_end || out.stop_offset < limit) {
        // The torn part runs from the cut to the last non-zero byte (frames
        // and the file size are multiples of 8, so whole words suffice).
        const uint8_t* d = segp->data();
        uint64_t dirty_to = out.committed_end;
        for (uint64_t p = limit & ~uint64_t(7); p > out.committed_end; p -= 8) {
          if (LoadLE<uint64_t>(d + p - 8) != 0) {
            dirty_to = p;
            break;
          }
        }
        recovered_torn_bytes_ = dirty_to - out.committed_end;
      }
    }
    next_seq = out.next_sequence;
    if (resume) {
      write_pos_ = out.committed_end;
      active_ = shared;
    } else if (last && segp->writable()) {
      // Sealed and left as it is: read through a read-only mapping, as after a roll.
      std::unique_ptr<Segment> sealed;
      CW_RETURN_IF_ERROR(Segment::Open(options_.dir, segp->id(), false, &sealed));
      segments_.back() = std::shared_ptr<Segment>(sealed.release());
    }
    if (last) read_end_ = out.committed_end;
  }
  next_sequence_ = next_seq;
  // A writer takes what it found as its durable base (as it always has);
  // another process only what the headers prove, until the writer's notes
  // and replies say more (store_link.cc). Never lowered: a reload after a
  // compaction keeps what the writer said.
  sync_.durable_sequence = writer() ? next_seq : std::max(sync_.durable_sequence.load(), FrontierDurable());
  ApplyRetiredHeads();
  return Status::OK();
}

// Index files whose segment is gone (a compaction or retention removed it), and unfinished ones.
void Store::RemoveStrayIndexFiles(const std::vector<std::string>& names, const std::vector<uint64_t>& ids) {
  for (const auto& n : names) {
    uint64_t id;
    if (!ParseIndexPartName(n, &id) || std::binary_search(ids.begin(), ids.end(), id)) continue;
    (void)fsutil::RemoveFile(options_.dir + "/" + n);  // a cache: one left behind is refused by its identity
  }
}

void Store::ZeroTail(Segment& s, uint64_t from) {
  // Page by page, writing only pages that hold a non-zero byte: the
  // preallocated rest stays clean, so the sync after this writes little.
  uint8_t* d = s.mutable_data();
  for (uint64_t p = from; p < s.size();) {
    const uint64_t next = std::min<uint64_t>(s.size(), (p / 4096 + 1) * 4096);
    bool dirty = false;
    uint64_t q = p;
    for (; q + 8 <= next && !dirty; q += 8) dirty = LoadLE<uint64_t>(d + q) != 0;
    for (; q < next && !dirty; q++) dirty = d[q] != 0;
    if (dirty) std::memset(d + p, 0, next - p);
    p = next;
  }
}

// Makes the newest segment ready for appends: cut a torn tail, drop a sealed
// segment's end, preallocate, and record an open frontier. With no segment
// yet, creates the first. REQUIRES: called from Open, no other thread yet.
Status Store::PrepareActive(uint64_t last_id, uint64_t next_sequence) {
  if (!active_) {
    std::unique_ptr<Segment> seg;
    CW_RETURN_IF_ERROR(Segment::Create(options_.dir, last_id + 1, next_sequence, options_.segment_max_bytes, &seg, options_.file_mode));
    active_ = std::shared_ptr<Segment>(seg.release());
    segments_.push_back(active_);
    write_pos_ = kSegmentHeaderSize;
    footer_whole_ = true;  // empty: its footer grows with its frames
    footer_.Reserve(options_.segment_max_bytes);
  } else {
    Segment& s = *active_;
    const Frontier f = s.frontier();
    // A shared store's file may be larger (a footer grew it; it is never cut back): its tail is zero already.
    const bool untouched = f.state == kFrontierOpen && f.end == write_pos_ && recovered_torn_bytes_ == 0 &&
                           (options_.shared ? s.size() >= options_.segment_max_bytes : s.size() == options_.segment_max_bytes);
    if (!untouched) {
      // Cut to the last committed frame, then grow back with fresh
      // preallocated (zero-reading) space: no stale byte survives past the cut.
      // A shared store never shrinks a file (a client maps it: reading past
      // a cut end is SIGBUS); it zeros from the last committed frame on.
      Status cut = options_.shared ? Status::OK() : s.Resize(write_pos_);
      if (options_.shared || (platform::kResizeBlockedByMappings && cut.sys_errno() == EBUSY)) {
        // Windows, while another process maps the file: no cut either.
        ZeroTail(s, write_pos_);
        cut = Status::OK();
      }
      CW_RETURN_IF_ERROR(cut);
      CW_RETURN_IF_ERROR(s.Sync(SyncMode::kAll));
      uint64_t cap = std::max<uint64_t>(options_.segment_max_bytes, write_pos_);
      if (s.size() < cap) CW_RETURN_IF_ERROR(s.Resize(cap));
      CW_RETURN_IF_ERROR(s.WriteFrontier(write_pos_, next_sequence, kFrontierOpen));
      CW_RETURN_IF_ERROR(s.Sync(SyncMode::kAll));
    }
  }
  sync_.synced_end = sync_.recorded_end = write_pos_;
  sync_.synced_next_seq = next_sequence;
  return Status::OK();
}

}  // namespace causeway
