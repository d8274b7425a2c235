// Appends: producers queue in the append ring and one of them, the
// combiner, applies every queued request to the log and the index.
#include "store.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "footer.h"
#include "frame.h"
#include "hash.h"
#include "part_builder.h"

namespace causeway {
namespace {

uint64_t SplitMix(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

int64_t Store::NextTimestamp() {
  // Never backwards: a clock step back reuses the last timestamp.
  last_timestamp_us_ = std::max(WallMicros(), last_timestamp_us_);
  return last_timestamp_us_;
}

void Store::NewEventId(int64_t ts_us, uint8_t* out) {
  // UUIDv7 (RFC 9562): 48-bit Unix milliseconds, version 7, 12 bits of
  // sub-millisecond time (method 3, so ids sort by time to the microsecond),
  // variant 10, 62 random bits.
  const uint64_t ms = static_cast<uint64_t>(ts_us) / 1000;
  const uint32_t sub = static_cast<uint32_t>((static_cast<uint64_t>(ts_us) % 1000) * 4096 / 1000);
  const uint64_t r = SplitMix(rng_state_[0]) ^ rng_state_[1];
  for (int i = 0; i < 6; i++) out[i] = static_cast<uint8_t>(ms >> (40 - 8 * i));
  out[6] = static_cast<uint8_t>(0x70 | (sub >> 8));
  out[7] = static_cast<uint8_t>(sub);
  out[8] = static_cast<uint8_t>(0x80 | (r & 0x3f));
  for (int i = 9; i < 16; i++) out[i] = static_cast<uint8_t>(r >> (8 * (i - 8)));
}

void Store::FillReceipt(const FrameView& v, Receipt* out) const {
  out->sequence = v.sequence;
  out->clock = v.clock;
  out->timestamp_us = v.timestamp_us;
  std::memcpy(out->event_id, v.event_id(), 16);
  std::memcpy(out->correlation_id, v.correlation_id(), 16);
  std::memcpy(out->causation_id, v.causation_id(), 16);
  out->has_causation = (v.flags & kFlagHasCausation) != 0;
  std::memcpy(out->content_hash, v.content_hash(), 32);
  std::memcpy(out->prev_hash, v.prev_hash(), 32);
  out->durable = v.sequence < sync_.durable_sequence.load(std::memory_order_acquire);
}

Status Store::FindIdempotent(const Index::Digest& d, Receipt* out, bool* found) const {
  *found = false;
  int64_t row = index_.FindIdempotency(d);
  FrameView v;
  if (row >= 0) {
    CW_RETURN_IF_ERROR(index_.EnsureRow(static_cast<Row>(row)));
    // A damaged frame is Corruption, not "no such key": the append must
    // not go ahead and write a duplicate.
    CW_RETURN_IF_ERROR(FrameAt(static_cast<Row>(row), &v));
  } else {
    // Dropped by retention: the frame's header was kept for exactly this.
    auto it = retired_keys_.find(d);
    if (it == retired_keys_.end()) return Status::OK();
    ViewEncodedFrame(it->second.data(), &v);
  }
  FillReceipt(v, out);
  *found = true;
  return Status::OK();
}

Status Store::Append(const AppendRequest& req, Receipt* out, bool durable, AppendError* error) {
  return AppendBatch(&req, 1, out, nullptr, durable, error);
}

Status Store::AppendBatch(const AppendRequest* items, size_t n, Receipt* out, const AppendCondition* condition,
                          bool durable, AppendError* error) {
  if (n == 0) return Status::InvalidArgument("a batch needs at least one event");
  if (role() == Role::kClient) {
    Status s = ForwardAppend(items, n, out, condition, durable, error);
    // NotFound: this process took the writer role meanwhile; apply it here.
    if (s.code() != Status::Code::kNotFound || role() != Role::kWriter) return s;
  }
  // Hash the payloads here, before taking a place: a pure function of the
  // bytes, so producers on several threads hash in parallel.
  uint8_t one[1][32];
  std::vector<std::array<uint8_t, 32>> many;
  const uint8_t(*hashes)[32] = one;
  if (n == 1) {
    Blake3(items[0].payload, items[0].payload_len, one[0]);
  } else {
    many.resize(n);
    for (size_t i = 0; i < n; i++) Blake3(items[i].payload, items[i].payload_len, many[i].data());
    hashes = reinterpret_cast<const uint8_t(*)[32]>(many.data());
  }
  PendingAppend p{items, n, out, condition, hashes, error, Status::OK()};
  p.durable = durable;
  // Reserve a place (lock-free), then either become the combiner and apply
  // every queued request in ticket order, or wait for the combiner to apply ours.
  appends_.Push(&p);
  for (int spins = 0; !p.done.load(std::memory_order_acquire); spins++) {
    // Acquire: the previous combiner's writes (head, log state) are visible to the next.
    if (!combining_.exchange(true, std::memory_order_acquire)) {
      Combine();
      continue;
    }
    AppendRing<PendingAppend>::Backoff(spins);
  }
  if (!p.status.ok() || !durable || out[n - 1].durable) return p.status;
  // A durable append waits, outside the combiner, until its last event is
  // synced (group commit: see WaitDurable); then every receipt is durable.
  CW_RETURN_IF_ERROR(WaitDurable(out[n - 1].sequence));
  for (size_t i = 0; i < n; i++) out[i].durable = true;
  return Status::OK();
}

// REQUIRES: the caller holds the combiner role (combining_ == true, taken by it).
void Store::Combine() {
  for (;;) {
    bool published = false;
    // No lock: the role makes this thread the only writer, and readers see
    // each request only once ApplyAppend publishes it.
    while (PendingAppend* q = appends_.TryPop()) {
      try {
        q->status = ApplyAppend(*q);
      } catch (const std::bad_alloc&) {
        // The index may hold part of this request: stop writing, as after a
        // failed sync, rather than leave the role taken and producers waiting.
        std::lock_guard<std::mutex> g(mu_);
        Poison(Status::OutOfMemory("out of memory while appending"));
        q->status = Status::Poisoned("out of memory while appending; the store refuses writes until reopened");
      }
      published |= q->status.ok();
      // Release: the producer reads its status and receipts after seeing done;
      // it may return (and free *q) at once, so q is not touched after this.
      q->done.store(true, std::memory_order_release);
    }
    const uint64_t head = appends_.Head();
    if (published) NotifyListeners();
    // seq_cst with the Tail() load below: a producer that pushed and failed to
    // take the role is either seen here, or takes the role itself.
    combining_.store(false, std::memory_order_seq_cst);
    if (appends_.Tail() == head) return;
    if (combining_.exchange(true, std::memory_order_seq_cst)) return;
  }
}

// Applies one request to the log and the index, in the numbered steps
// below. REQUIRES: combiner role.
Status Store::ApplyAppend(const PendingAppend& p) {
  CW_RETURN_IF_ERROR(CheckWritableForAppend());
  if (part_builder_ && part_builder_->ready()) AttachIndexParts();
  if (index_.has_failed()) CheckIndexFiles(true);
  if (sealed_since_checkpoint_ != 0) MaybeCheckpoint();
  if (p.condition) CW_RETURN_IF_ERROR(CheckCondition(p));
  bool known = false;
  CW_RETURN_IF_ERROR(FindDuplicates(p, &known));
  if (known) return Status::OK();
  uint64_t total = 0;
  bool extended = false;
  CW_RETURN_IF_ERROR(ValidateItems(p, &total, &extended));
  // A version-1 segment never holds an extension frame: an older build
  // reading it would take the frame for a torn write.
  if (write_pos_ + total > active_->size() || (extended && active_->format_version() < 2)) CW_RETURN_IF_ERROR(Roll());
  // Frames go through the file (one pwrite, WritesThroughFile says which)
  // or are stored through the mapping.
  uint8_t* dst = active_->mutable_data() + write_pos_;
  const bool through = WritesThroughFile(p, total);
  if (through) {
    scratch_frames_.resize(total);
    dst = scratch_frames_.data();
  } else {
    active_->PrepareWrite(write_pos_, write_pos_ + total);
  }
  const uint64_t end = LayOutFrames(p, dst);
  if (through) CW_RETURN_IF_ERROR(WriteFramesThrough(end));
  PublishFrames(p, end);
  return Status::OK();
}

// 0. A conditional append: refused when an event matches its condition.
Status Store::CheckCondition(const PendingAppend& p) {
  RegionFilter f = p.condition->filter;
  f.limit = 1;  // the first match is enough to refuse
  // Under the reader lock: the query looks names up in tables that
  // interning changes under that lock. Only conditional appends take it.
  std::vector<Row> hit;
  {
    std::lock_guard<std::mutex> g(mu_);
    CW_RETURN_IF_ERROR(index_.Query(f, &hit));
  }
  if (hit.empty()) return Status::OK();
  const uint64_t conflict = index_.Sequence(hit[0]);
  if (p.error) p.error->conflict_sequence = conflict;
  return Status::ConditionFailed("an event matching the condition was appended at sequence " +
                                 std::to_string(conflict));
}

// 1. Idempotency: all keyed items already present return their receipts
// (*all_known). Scratch vectors are members (writer only): no allocation per append.
Status Store::FindDuplicates(const PendingAppend& p, bool* all_known) {
  const AppendRequest* items = p.items;
  const size_t n = p.n;
  std::vector<Index::Digest>& digests = scratch_digests_;
  digests.resize(n);
  size_t known = 0;
  for (size_t i = 0; i < n; i++) {
    if (const FrameView* f = items[i].replica) {
      // The source store accepted the key once; the replica keeps its digest (so a promoted
      // replica deduplicates it) and never answers a replicated frame from it.
      if (f->flags & kFlagIdempotent) std::memcpy(digests[i].data(), f->idempotency(), 16);
      continue;
    }
    if (!items[i].idempotency_key) continue;
    Blake3Prefix(items[i].idempotency_key, items[i].idempotency_key_len, digests[i].data(), 16);
    for (size_t j = 0; j < i; j++)
      if (items[j].idempotency_key && digests[j] == digests[i])
        return Status::InvalidArgument("two events of one batch carry the same idempotency key");
    bool found = false;
    CW_RETURN_IF_ERROR(FindIdempotent(digests[i], &p.out[i], &found));
    if (found) known++;
  }
  if (known == 0) return Status::OK();
  if (known != n)
    return Status::InvalidArgument("some events of this batch were appended before under their idempotency keys and "
                                   "some were not; retry the batch exactly as first sent");
  for (size_t i = 0; i < n; i++) p.out[i].deduplicated = true;
  *all_known = true;
  return Status::OK();
}

// 2. Validate everything before a byte is written; *total: the frames'
// bytes. prev_item[i]: the batch's previous item of the same entity (its
// clock and hash come before item i's), found through a per-entity mark
// reset right after.
Status Store::ValidateItems(const PendingAppend& p, uint64_t* total, bool* extended) {
  const AppendRequest* items = p.items;
  const size_t n = p.n;
  std::vector<uint32_t>& prev_item = scratch_prev_item_;
  prev_item.assign(n, kNoPriorItem);
  if (n > 1) {
    if (batch_last_.size() < index_.entity_count()) batch_last_.resize(index_.entity_count(), kNoPriorItem);
    for (size_t i = 0; i < n; i++) {
      const uint32_t e = items[i].entity;
      if (e >= batch_last_.size()) continue;  // refused below as unknown
      prev_item[i] = batch_last_[e];
      batch_last_[e] = static_cast<uint32_t>(i);
    }
    for (size_t i = 0; i < n; i++)
      if (items[i].entity < batch_last_.size()) batch_last_[items[i].entity] = kNoPriorItem;
  }
  std::vector<uint32_t>& clocks = scratch_clocks_;
  clocks.resize(n);
  for (size_t i = 0; i < n; i++) {
    const AppendRequest& r = items[i];
    if (r.entity >= index_.entity_count() || r.scope >= index_.scope_count())
      return Status::InvalidArgument("unknown entity or scope id");
    if (r.payload_len > options_.max_payload_bytes)
      return Status::Full("payload of " + std::to_string(r.payload_len) + " bytes exceeds maxPayloadBytes (" +
                          std::to_string(options_.max_payload_bytes) + ")");
    if (r.ext_len && (!r.extension || !CheckExtension(r.extension, r.ext_len)))
      return Status::InvalidArgument("malformed event extension block (version, time or tags)");
    *extended |= r.ext_len != 0;
    if (r.causation_prior_item >= static_cast<int32_t>(i))
      return Status::InvalidArgument("causation priorItem must name an earlier item of the batch");
    // The clock this item gets: after the entity's head and earlier items of this batch.
    // An earlier item of the entity in this batch already counts from its head.
    const uint32_t clock = prev_item[i] != kNoPriorItem ? clocks[prev_item[i]] : index_.EntityClock(r.entity);
    if (r.has_expected && r.expected_clock != clock) {
      const std::string& entity = index_.EntityName(r.entity);
      if (p.error) {
        p.error->item = static_cast<uint32_t>(i);
        p.error->entity = entity;
        p.error->expected = r.expected_clock;
        p.error->actual = clock;
      }
      return Status::SequenceMismatch("expected " + entity + " to be at clock " + std::to_string(r.expected_clock) +
                                      " but it is at " + std::to_string(clock));
    }
    if (clock == UINT32_MAX) return Status::ClockOverflow("entity clock overflow for " + index_.EntityName(r.entity));
    if (r.replica) {
      const uint8_t* prev = prev_item[i] != kNoPriorItem ? p.hashes[prev_item[i]] : index_.EntityHead(r.entity);
      CW_RETURN_IF_ERROR(CheckReplicaFrame(p, i, clock + 1, prev));
    }
    clocks[i] = clock + 1;
    *total += FrameSpan(static_cast<uint16_t>(index_.EntityName(r.entity).size()),
                        static_cast<uint16_t>(index_.ScopeName(r.scope).size()), r.payload_len, r.ext_len);
  }
  const uint64_t capacity = options_.segment_max_bytes - kSegmentHeaderSize;
  if (*total > capacity)
    return Status::Full((n == 1 ? "an event of " : "a batch of ") + std::to_string(*total) +
                        " bytes does not fit in one segment (segmentMaxBytes " +
                        std::to_string(options_.segment_max_bytes) + ")");
  return Status::OK();
}

}  // namespace causeway
