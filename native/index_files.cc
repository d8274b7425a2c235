// Sealed segments' index files (index_part.h) in the store: which event id
// is in which row, for every sealed segment but the last, comes from its
// file once the file is built and checked; the in-memory table for that
// segment is then freed (IdDirectory). Files are caches: one that is
// missing, damaged, or made for another incarnation of its segment is
// rebuilt from the segment (writers), or the segment's ids stay in memory.
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "log_reader.h"
#include "part_builder.h"
#include "store.h"

namespace causeway {

Status Store::OpenIndexPart(const Segment& seg, std::shared_ptr<const IndexPart>* out, bool header_only) const {
  std::unique_ptr<IndexPart> p;
  CW_RETURN_IF_ERROR(
      IndexPart::Open(IndexPartPath(options_.dir, Segment::FileName(seg.id())), PartIdentityOf(seg), &p, header_only));
  *out = std::shared_ptr<const IndexPart>(p.release());
  return Status::OK();
}

bool Store::LoadIndexFile(const Segment& seg, uint32_t slot, uint64_t next_seq) {
  std::shared_ptr<const IndexPart> part;
  if (!OpenIndexPart(seg, &part).ok() || part->rows() == 0 || part->first_sequence() < next_seq ||
      part->last_sequence() >= seg.frontier().next_sequence || !index_.AddFileSegment(slot, part))
    return false;
  if (opened_parts_.size() <= slot) opened_parts_.resize(slot + 1);
  opened_parts_[slot] = part;  // PlaceIds gives the id directory the same file
  last_timestamp_us_ = std::max(last_timestamp_us_, part->Timestamp(part->rows() - 1));
  return true;
}

bool Store::AttachPart(uint32_t slot, const std::shared_ptr<const IndexPart>& part) {
  Row first, end;
  index_.SlotRows(slot, &first, &end);
  if (!part || first == end || part->rows() != end - first || !index_.ids().Attach(slot, first, part)) return false;
  // The ids are the file's now; its rows' columns and postings follow unless
  // the file disagrees with them (then they stay in memory).
  (void)index_.AttachFile(slot, part);
  return true;
}

bool Store::FileBacked(uint32_t slot) const {
  // Sealed, and not the one a writer appends to (it resumes a small last segment).
  return slot < segments_.size() && segments_[slot] != active_ && segments_[slot]->frontier().state == kFrontierSealed;
}

bool Store::Resumes(uint64_t sealed_end) const {
  // Up to an eighth of a segment (at least 1 MiB): what the checkpoint then
  // carries of its rows is small, and opens that append little leave no segment each.
  return sealed_end <= std::max<uint64_t>(kInlinePartBytes, options_.segment_max_bytes / 8);
}

Status Store::PlaceIds() {
  index_.DeferIds(false);
  IdDirectory& ids = index_.ids();
  auto id_of = [this](Row r, const uint8_t** id) { return ResolveId(this, r, id); };
  Status result;
  for (uint32_t slot = 0; result.ok() && slot < segments_.size(); slot++) {
    Row first, end;
    index_.SlotRows(slot, &first, &end);
    if (first == end) continue;
    const bool small = segments_[slot]->frontier().end <= kInlinePartBytes;
    std::shared_ptr<const IndexPart> part = slot < opened_parts_.size() ? opened_parts_[slot] : nullptr;
    if (!part && FileBacked(slot) && !OpenIndexPart(*segments_[slot], &part).ok()) {
      part.reset();
      // Missing, damaged or stale: a writer builds a small one now.
      if (writer() && small) (void)PartBuilder::BuildOne(*segments_[slot], options_.dir, options_.file_mode, &part);
    }
    if (part && part->rows() == end - first && ids.AddFile(slot, first, part)) {
      if (!index_.SlotInFile(slot)) (void)index_.AttachFile(slot, part);
      continue;
    }
    // In memory: the tags the load kept aside, else (an old checkpoint's rows) each id from its checked frame.
    if (!ids.InsertPending(slot, first, end)) result = index_.InsertIds(first, end, id_of);
    if (result.ok() && FileBacked(slot) && writer() && !small) SubmitIndexPart(slot);
  }
  ids.DropPending();
  opened_parts_.clear();
  index_.Reclaim();  // no reader yet: the rows files took over go now
  // Files the checkpoint vouched for were opened by their headers: a writer
  // checks the rest beside the appends and rebuilds any that fails.
  CheckIndexFiles(false);
  return result;
}

void Store::SubmitIndexPart(uint32_t slot) {
  const std::shared_ptr<Segment>& seg = segments_[slot];
  if (seg->frontier().end <= kInlinePartBytes) {
    std::shared_ptr<const IndexPart> part;
    // Callers hold the reader lock (Roll, RebuildIndex) or have no reader
    // yet (an open): the table the file replaces can go at once.
    if (PartBuilder::BuildOne(*seg, options_.dir, options_.file_mode, &part).ok() && AttachPart(slot, part))
      index_.Reclaim();
    return;
  }
  Builder().Submit(PartBuilder::Job::Build(segments_[slot], slot));
}

PartBuilder& Store::Builder() {
  if (!part_builder_) part_builder_ = std::make_unique<PartBuilder>(options_.dir, options_.file_mode);
  return *part_builder_;
}

void Store::SealIndexFile() {
  const uint32_t slot = static_cast<uint32_t>(segments_.size() - 1);
  std::shared_ptr<const IndexPart> part;
  // A file that cannot be built leaves the rows to the checkpoint; the next open builds it.
  if (PartBuilder::BuildOne(*segments_[slot], options_.dir, options_.file_mode, &part).ok() && AttachPart(slot, part))
    index_.Reclaim();
}

void Store::AttachIndexParts() {
  std::vector<PartBuilder::Built> built;
  part_builder_->Collect(&built);
  // A compaction since may have replaced the segment: the file is then for a segment gone.
  auto current = [&](const PartBuilder::Built& b) { return b.slot < segments_.size() && segments_[b.slot] == b.segment; };
  for (auto& b : built)
    if (!b.replace && current(b)) (void)AttachPart(b.slot, b.part);
  // The tables the files replaced are retired until no reader can hold one:
  // with the reader lock held by a thread that reads nothing under it, as
  // readers do first (ReadLock). Without this a store nobody reads would
  // keep every sealed segment's table.
  std::lock_guard<std::mutex> g(mu_);
  // A file rebuilt because the one serving its segment failed its check:
  // swapped in under the lock (its names are looked up).
  for (auto& b : built)
    if (b.replace && b.part && current(b) && index_.ReplaceFile(b.slot, b.part)) (void)index_.ids().ReplaceFile(b.slot, b.part);
  index_.Reclaim();
#if defined(__GLIBC__)
  // The segment's columns and tables just freed are whole pages glibc would
  // keep for later allocations: hand them back (once per sealed segment).
  malloc_trim(0);
#endif
}

void Store::CheckIndexFiles(bool rebuild_failed) {
  if (!writer()) return;
  if (rebuild_failed) {
    for (uint32_t slot : index_.TakeFailedSlots())
      if (FileBacked(slot)) Builder().Submit(PartBuilder::Job::Build(segments_[slot], slot, true));
    return;
  }
  for (auto& [slot, part] : index_.UncheckedFiles()) Builder().Submit(PartBuilder::Job::Build(segments_[slot], slot, true, part));
}

void Store::AttachSealedParts() {
  bool attached = false;
  // Newest first, back to the first segment already served by its file.
  for (uint32_t slot = segments_.size() < 2 ? 0 : static_cast<uint32_t>(segments_.size() - 2); FileBacked(slot); slot--) {
    if (index_.ids().Attached(slot)) break;
    std::shared_ptr<const IndexPart> part;
    attached |= OpenIndexPart(*segments_[slot], &part).ok() && AttachPart(slot, part);
    if (slot == 0) break;
  }
  if (attached) index_.Reclaim();  // under the reader lock, reading nothing
}

void Store::AttachExistingParts() {
  for (uint32_t slot = 0; slot < segments_.size(); slot++) {
    if (!FileBacked(slot) || index_.ids().Attached(slot)) continue;
    std::shared_ptr<const IndexPart> part;
    if (OpenIndexPart(*segments_[slot], &part).ok() && AttachPart(slot, part)) continue;
    Row first, end;
    index_.SlotRows(slot, &first, &end);
    if (first != end && writer()) SubmitIndexPart(slot);
  }
}

// After a compaction: every row again from the frames, then the files that still serve their segments.
Status Store::RebuildIndex() {
  index_.ClearKeepingNames();
  uint64_t next_seq = segments_.empty() ? 0 : segments_.front()->base_sequence();
  for (uint32_t slot = 0; slot < segments_.size(); slot++) {
    const Segment& seg = *segments_[slot];
    const uint64_t limit = segments_[slot] == active_ ? write_pos_ : seg.frontier().end;
    ScanOutcome so = ScanFrames(seg.data(), kSegmentHeaderSize, limit, next_seq,
                                [&](const FrameView& v, uint64_t off) { IndexFrame(v, slot, off); });
    if (so.stop != FrameCheck::kEnd || so.committed_end != limit)
      return Status::Corruption("segment " + Segment::FileName(seg.id()) + " offset " + std::to_string(so.stop_offset) +
                                ": " + FrameCheckName(so.stop) + " while rebuilding the index");
    next_seq = segments_[slot] == active_ ? so.next_sequence : std::max(so.next_sequence, seg.frontier().next_sequence);
  }
  ApplyRetiredHeads();
  AttachExistingParts();
  return Status::OK();
}

}  // namespace causeway
