// Read-only stores follow a writer in another process: refresh() maps what
// was appended since, and reloads everything when a compaction replaced
// files (the old mappings stay valid until then: unlinked files live on).
#include <algorithm>

#include "fsutil.h"
#include "log_reader.h"
#include "store.h"

namespace causeway {

Status Store::Refresh(uint64_t* added) {
  std::unique_lock<std::mutex> g(mu_);
  if (closed()) return Status::Closed("the store is closed");
  *added = 0;
  if (writer()) return Status::OK();  // a writer's view is always current
  const uint64_t before = next_sequence_;
  std::vector<std::string> names;
  CW_RETURN_IF_ERROR(fsutil::ListDir(options_.dir, &names));
  std::vector<uint64_t> ids;
  for (const auto& n : names) {
    uint64_t id;
    if (!Segment::ParseFileName(n, &id)) continue;
    if (pending_compaction_.last && id > pending_compaction_.first && id <= pending_compaction_.last) continue;
    ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());

  // Same files as before (same ids, same identity)? Otherwise reload all.
  bool same = ids.size() >= segments_.size();
  for (size_t i = 0; same && i < segments_.size(); i++) same = ids[i] == segments_[i]->id();
  std::unique_ptr<Segment> last;
  if (same && !segments_.empty()) {
    Status s = Segment::Open(options_.dir, segments_.back()->id(), false, &last);
    same = s.ok() && last->created_us() == segments_.back()->created_us();
  }
  if (!same) {
    segments_.clear();
    index_.ClearKeepingNames();
    retired_keys_.clear();
    retired_heads_.clear();
    CW_RETURN_IF_ERROR(Recover(false));
  } else {
    // Newer frames of the segment we were reading, then any new segments.
    uint64_t next_seq = next_sequence_;
    auto scan = [&](size_t slot, uint64_t from) -> uint64_t {
      const Segment& seg = *segments_[slot];
      const Frontier& f = seg.frontier();
      const uint64_t limit = f.state == kFrontierSealed ? std::min(f.end, seg.size()) : seg.size();
      // A frame the writer is still copying fails its CRC: stop there, it comes next time.
      ScanOutcome out = ScanFrames(seg.data(), from, limit, next_seq, [&](const FrameView& v, uint64_t off) {
        IndexFrame(v, static_cast<uint32_t>(slot), off);
      });
      next_seq = out.next_sequence;
      if (f.state == kFrontierSealed && out.committed_end == f.end) next_seq = std::max(next_seq, f.next_sequence);
      return out.committed_end;
    };
    if (!segments_.empty()) {
      segments_.back() = std::shared_ptr<Segment>(last.release());
      read_end_ = scan(segments_.size() - 1, read_end_);
    }
    for (size_t i = segments_.size(); i < ids.size(); i++) {
      // Only move on once the previous segment is sealed and fully read
      // (an open of an empty store has none: the writer's first file is next).
      if (!segments_.empty()) {
        const Segment& prev = *segments_.back();
        if (prev.frontier().state != kFrontierSealed || read_end_ != prev.frontier().end) break;
      }
      std::unique_ptr<Segment> seg;
      CW_RETURN_IF_ERROR(Segment::Open(options_.dir, ids[i], false, &seg));
      if (seg->base_sequence() != next_seq)
        return Status::Corruption("segment " + Segment::FileName(ids[i]) + " does not continue the log");
      segments_.emplace_back(seg.release());
      read_end_ = scan(segments_.size() - 1, kSegmentHeaderSize);
    }
    next_sequence_ = next_seq;
    // Segments the writer sealed since: their ids from the files it built, as at open.
    AttachSealedParts();
    // What the headers just read prove synced; a live writer's notes say more.
    sync_.durable_sequence.store(std::max(sync_.durable_sequence.load(), FrontierDurable()));
    PublishEnd();  // the only writer of a read-only store's pair, under mu_
  }
  if (next_sequence_ > before) ring_.PublishRange(before, next_sequence_ - before);
  *added = next_sequence_ > before ? next_sequence_ - before : 0;
  g.unlock();
  if (*added) NotifyListeners();
  return Status::OK();
}

Status Store::Segments(std::vector<SegmentInfo>* out) {
  std::lock_guard<std::mutex> g(mu_);
  if (closed()) return Status::Closed("the store is closed");
  uint64_t end, next;
  PublishedEnd(&end, &next);
  out->clear();
  for (const auto& seg : segments_) {
    SegmentInfo i;
    i.id = seg->id();
    i.base_sequence = seg->base_sequence();
    i.active = seg == active_;
    i.sealed = !i.active && seg->frontier().state == kFrontierSealed;
    i.bytes = i.active ? end : (seg->frontier().state == kFrontierSealed ? seg->frontier().end : read_end_);
    i.next_sequence = i.active ? next : seg->frontier().next_sequence;
    if (!i.active && !i.sealed) i.next_sequence = next;
    out->push_back(i);
  }
  return Status::OK();
}

void Store::IndexFrame(const FrameView& v, uint32_t slot, uint64_t off) {
  uint32_t e = index_.InternEntity(std::string_view(reinterpret_cast<const char*>(v.entity()), v.entity_len));
  uint32_t sc = index_.InternScope(std::string_view(reinterpret_cast<const char*>(v.scope()), v.scope_len));
  index_.Add(v, RowLocation{slot, static_cast<uint32_t>(off)}, e, sc);
  last_timestamp_us_ = std::max(last_timestamp_us_, v.timestamp_us);
}

}  // namespace causeway
