// Store::LoadCheckpoint: an open's use of the index checkpoint (checkpoint.h),
// checked against the segments it covers and the index files it names.
#include <atomic>
#include <cstring>

#include "checkpoint.h"
#include "frame.h"
#include "index_part.h"
#include "log_reader.h"
#include "parallel_for.h"
#include "store.h"

namespace causeway {

// Loads the index checkpoint when it matches the segments: each covered
// segment is the same file (id, base), sealed ones end where it says, and the
// last covered frame is a checking frame with the sequence it says. On any
// doubt the index is left empty and every frame is scanned.
bool Store::LoadCheckpoint(const std::vector<std::shared_ptr<Segment>>& segs, CheckpointHeader* ck) {
  int version = 0;
  if (!ReadCheckpoint(options_.dir, &index_, ck, &version).ok()) {
    index_.Clear();
    return false;
  }
  bool ok = ck->segments.size() <= segs.size();
  for (size_t i = 0; ok && i < ck->segments.size(); i++) {
    const CoveredSegment& c = ck->segments[i];
    const Segment& s = *segs[i];
    const Frontier& f = s.frontier();
    ok = s.id() == c.id && s.base_sequence() == c.base_sequence && s.created_us() == c.created_us &&
         c.end >= kSegmentHeaderSize && c.end <= s.size() && f.end <= s.size();
    // A writer's periodic checkpoint covers the segment it was appending to
    // as far as its index went, which may be past the durable frontier: those
    // frames count only if every one still checks, as a scan would find them.
    if (ok && c.end > f.end) {
      ok = i + 1 == ck->segments.size() && f.state != kFrontierSealed;
      if (ok) {
        const ScanOutcome past = ScanFrames(s.data(), f.end, c.end, f.next_sequence, [](const FrameView&, uint64_t) {});
        ok = !past.pending_batch && past.committed_end == c.end && past.next_sequence == c.next_sequence;
      }
    }
    if (!ok) break;
    if (i + 1 < ck->segments.size()) {
      // Followed by another: wholly covered, so sealed at the covered end with
      // the covered next sequence. Its identity (id, base, creation stamp)
      // names the file: its last frame is not read (an open reads only its
      // header), and its frames are checked when read, as always.
      ok = f.state == kFrontierSealed && f.end == c.end && f.next_sequence == c.next_sequence;
    } else if (c.last_frame != 0) {
      FrameView v;
      ok = c.last_frame < c.end && DecodeFrame(s.data() + c.last_frame, c.end - c.last_frame, &v) == FrameCheck::kOk &&
           v.sequence < c.next_sequence && c.last_frame + AlignFrame(v.length) == c.end &&
           std::memcmp(v.event_id(), c.last_event_id, 16) == 0;
    } else {
      ok = c.end == kSegmentHeaderSize && c.next_sequence >= c.base_sequence;
    }
  }
  // Versions 1 to 3 kept a table of every id: each comes back from its
  // checked frame (a damaged one sends the open to the scan, which reports it).
  auto frame_id = [&](Row r, const uint8_t** id) -> Status {
    const RowLocation loc = index_.Location(r);
    if (loc.segment_slot >= segs.size()) return Status::Corruption("checkpoint: row past its segments");
    const Segment& s = *segs[loc.segment_slot];
    FrameView v;
    if (loc.offset >= s.size() || DecodeFrame(s.data() + loc.offset, s.size() - loc.offset, &v) != FrameCheck::kOk)
      return Status::Corruption("checkpoint: a covered frame fails its check");
    *id = v.event_id();
    return Status::OK();
  };
  if (ok && version <= 3) ok = index_.PendIds(0, static_cast<Row>(index_.size()), frame_id).ok();
  // Segments whose ids the checkpoint left to their index files: each file
  // must open and check now, or the checkpoint is not used.
  opened_parts_.assign(segs.size(), nullptr);
  // Version 5 gave each file's id range and names: its header is checked
  // now, the rest at its first use (an open does not read every file).
  std::vector<uint32_t> id_slots;
  const auto& files = index_.ids().loaded_files();
  for (const auto& c : files) {
    ok = ok && c.slot < segs.size() && segs[c.slot]->frontier().state == kFrontierSealed;
    id_slots.push_back(c.slot);
  }
  // Several headers at a time, as the segments' above.
  std::atomic<bool> all{ok};
  if (ok)
    ParallelFor(files.size(), kOpenThreads, [&](size_t k) {
      const auto& c = files[k];
      if (!OpenIndexPart(*segs[c.slot], &opened_parts_[c.slot], version >= 5).ok() || opened_parts_[c.slot]->rows() != c.rows)
        all.store(false, std::memory_order_relaxed);  // read after the join
    });
  ok = all.load(std::memory_order_relaxed);
  // Version 5 left those segments' rows to the same files: each gets its file now.
  if (ok && version >= 5) {
    ok = index_.AwaitingSlots() == id_slots;
    for (uint32_t slot : id_slots)
      if (ok) ok = index_.SetLoadedFile(slot, opened_parts_[slot]);
  }
  if (!ok) {
    opened_parts_.clear();
    index_.Clear();
    return false;
  }
  last_timestamp_us_ = ck->last_timestamp_us;
  return true;
}

}  // namespace causeway
