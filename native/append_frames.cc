// Appends, steps 3 and 4 (append.cc has the ring, the combiner and steps
// 0-2): the frames laid out, written (through the mapping, or through the
// file for a durable request), then indexed and published.
#include "store.h"

#include <cstring>

#include "footer.h"
#include "frame.h"

namespace causeway {

// The most staging a writer keeps between requests written through the
// file (single appends and batches of a few thousand events fit; larger
// durable ones allocate their own).
constexpr size_t kKeptStagingBytes = size_t(1) << 20;
// Below this a request's frames cost less stored through the mapping than
// the pwrite's system call (measured: batches of 8 events, 2.8 KiB, break
// even; bench/RESULTS.md, "Batches through the file").
constexpr size_t kThroughFileBytes = 4096;

// A durable request's frames are written through the file (one pwrite): a
// sync follows at once, and pages stored through the mapping cost each
// sync a write-protect (page-table walk, TLB shootdown) and the next store
// a fault (bench/RESULTS.md, "Durable appends"). So are those of any
// request of 4 KiB to 1 MiB: the kernel copies them into the page cache
// at memory speed, where stores through the mapping take a fault or a
// populate per fresh page, and a later sync's write-protect. Smaller ones
// skip the system call, which costs more than those. Windows syncs through
// the mapping, so there only durable ones do (WriteThrough copies).
bool Store::WritesThroughFile(const PendingAppend& p, uint64_t total) const {
  if (p.durable) return true;
  return !platform::kSyncUsesMapping && total >= kThroughFileBytes && total <= kKeptStagingBytes;
}

// 3. Lay out the frames after write_pos_ (the room is there: step 2 and a
// roll saw to it); returns their end. Prev hashes chain through earlier
// items of the batch.
uint64_t Store::LayOutFrames(const PendingAppend& p, uint8_t* dst) {
  const AppendRequest* items = p.items;
  const size_t n = p.n;
  Receipt* out = p.out;
  const std::vector<Index::Digest>& digests = scratch_digests_;
  const std::vector<uint32_t>& prev_item = scratch_prev_item_;
  const std::vector<uint32_t>& clocks = scratch_clocks_;
  // A replicated batch keeps its source's timestamp (one per batch, checked),
  // and later appends of a promoted replica never go below it.
  int64_t ts;
  if (items[0].replica) {
    ts = items[0].replica->timestamp_us;
    last_timestamp_us_ = std::max(last_timestamp_us_, ts);
  } else {
    ts = NextTimestamp();
  }
  uint64_t pos = write_pos_;
  std::vector<std::pair<FrameView, uint64_t>>& laid = scratch_laid_;
  laid.clear();
  for (size_t i = 0; i < n; i++) {
    const AppendRequest& r = items[i];
    Receipt& rc = out[i];
    rc = Receipt();
    rc.sequence = next_sequence_ + i;
    rc.clock = clocks[i];
    rc.timestamp_us = ts;
    if (r.replica) std::memcpy(rc.event_id, r.replica->event_id(), 16);
    else NewEventId(ts, rc.event_id);
    index_.PrefetchIdSlot(rc.event_id);
    index_.PrefetchEntityRows(r.entity);
    std::memcpy(rc.correlation_id, r.correlation_id ? r.correlation_id : rc.event_id, 16);
    const uint8_t* causation = r.causation_id;
    if (r.causation_prior_item >= 0) causation = out[r.causation_prior_item].event_id;
    if (causation) {
      std::memcpy(rc.causation_id, causation, 16);
      rc.has_causation = true;
    }
    std::memcpy(rc.content_hash, p.hashes[i], 32);
    const uint8_t* prev = prev_item[i] != kNoPriorItem ? out[prev_item[i]].content_hash : index_.EntityHead(r.entity);
    std::memcpy(rc.prev_hash, prev, 32);

    const std::string& entity = index_.EntityName(r.entity);
    const std::string& scope = index_.ScopeName(r.scope);
    FrameFields f;
    f.flags = static_cast<uint8_t>((n > 1 ? kFlagBatchMember : 0) | (n > 1 && i + 1 == n ? kFlagBatchEnd : 0) |
                                   (HasDigest(r) ? kFlagIdempotent : 0) | (causation ? kFlagHasCausation : 0));
    f.kind = r.kind;
    f.clock = rc.clock;
    f.sequence = rc.sequence;
    f.timestamp_us = ts;
    f.event_id = rc.event_id;
    f.correlation_id = rc.correlation_id;
    f.causation_id = causation ? rc.causation_id : nullptr;
    f.idempotency = HasDigest(r) ? digests[i].data() : nullptr;
    f.content_hash = rc.content_hash;
    f.prev_hash = rc.prev_hash;
    f.entity = reinterpret_cast<const uint8_t*>(entity.data());
    f.entity_len = static_cast<uint16_t>(entity.size());
    f.scope = reinterpret_cast<const uint8_t*>(scope.data());
    f.scope_len = static_cast<uint16_t>(scope.size());
    f.payload = r.payload;
    f.payload_len = r.payload_len;
    f.extension = r.extension;
    f.ext_len = r.ext_len;
    uint8_t* at = dst + (pos - write_pos_);
    uint64_t span = EncodeFrame(f, at);
    FrameView v;
    ViewEncodedFrame(at, &v);
    laid.emplace_back(v, pos);
    pos += span;
  }
  return pos;
}

// 3b. Writes a request's frames (laid out in scratch_frames_) at write_pos_
// through the file. Their views stay on the staging: step 4 copies what it
// needs from them (the index and the footer keep no pointer into a frame),
// and reading them back through the mapping would map each page (a fault
// per 64 KiB) for nothing.
Status Store::WriteFramesThrough(uint64_t end) {
  const uint64_t n = end - write_pos_;
  Status s = active_->WriteThrough(write_pos_, scratch_frames_.data(), n);
  if (!s.ok()) {
    // Part of them may be in the file: zeros again (through the mapping,
    // which cannot fail on allocated blocks), so no frame of a refused
    // append survives a crash; then fail stop, as after a failed sync.
    std::memset(active_->mutable_data() + write_pos_, 0, n);
    std::lock_guard<std::mutex> g(mu_);
    Poison(s);
    return s;
  }
  return Status::OK();
}

// 4. Publish: readers see the events only once every frame is in place,
// and a batch all at once (only its last Add publishes).
void Store::PublishFrames(const PendingAppend& p, uint64_t end) {
  const size_t n = p.n;
  const std::vector<std::pair<FrameView, uint64_t>>& laid = scratch_laid_;
  const uint32_t slot = static_cast<uint32_t>(segments_.size() - 1);
  for (size_t i = 0; i < n; i++) {
    index_.Add(laid[i].first, RowLocation{slot, static_cast<uint32_t>(laid[i].second)}, p.items[i].entity,
               p.items[i].scope, i + 1 == n);
    if (footer_whole_)
      footer_.AddIndexedFrame(laid[i].first, laid[i].second, p.items[i].entity, p.items[i].scope, index_);
  }
  write_pos_ = end;
  ring_.PublishRange(next_sequence_, n);  // subscribers too see a batch whole
  next_sequence_ += n;
  PublishEnd();
  NoteAppended();
  // A large durable batch's staging (its views' frames, until here) is not kept for the store's lifetime.
  if (scratch_frames_.capacity() > kKeptStagingBytes) std::vector<uint8_t>().swap(scratch_frames_);
}

}  // namespace causeway
