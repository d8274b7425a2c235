#include "store.h"

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <new>

#include "checkpoint.h"
#include "footer.h"
#include "frame.h"
#include "fsutil.h"
#include "hash.h"
#include "platform.h"

namespace causeway {
namespace {

int64_t WallMicros() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

uint64_t SplitMix(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

Status Store::Open(const StoreOptions& options, std::unique_ptr<Store>* out) {
  if (options.segment_max_bytes < 4096 || options.segment_max_bytes > 0xffffffffull)
    return Status::InvalidArgument("segmentMaxBytes must be between 4096 and 4294967295");
  if (options.max_payload_bytes == 0 || options.max_payload_bytes > kMaxPayloadBytesLimit)
    return Status::InvalidArgument("maxPayloadBytes must be between 1 and " + std::to_string(kMaxPayloadBytesLimit));
  if (options.salvage && !options.read_only) return Status::InvalidArgument("salvage needs readOnly: true");
  StoreOptions o = options;
  if (!o.read_only) CW_RETURN_IF_ERROR(fsutil::EnsureDir(o.dir));
  CW_RETURN_IF_ERROR(fsutil::RealPath(o.dir, &o.dir));
  std::unique_ptr<Store> s(new Store(o));
  s->index_.SetIdResolver(&Store::ResolveId, s.get());
  CW_RETURN_IF_ERROR(s->lock_.Acquire(s->options_.dir, !o.read_only));
  uint64_t seed[2] = {0, 0};
  if (!platform::RandomBytes(seed, sizeof seed)) {
    seed[0] = static_cast<uint64_t>(WallMicros());
    seed[1] = reinterpret_cast<uintptr_t>(s.get());
  }
  s->rng_state_[0] = seed[0];
  s->rng_state_[1] = seed[1];
  const int64_t t0 = WallMicros();
  CW_RETURN_IF_ERROR(s->Recover());
  s->PublishEnd();
  s->open_micros_ = WallMicros() - t0;
  if (!o.read_only) s->flusher_ = std::thread([p = s.get()] { p->FlusherLoop(); });
  *out = std::move(s);
  return Status::OK();
}

Store::~Store() {
  Close();
  delete listeners_.load(std::memory_order_acquire);
}

const uint8_t* Store::ResolveId(void* ctx, Row row) {
  auto* s = static_cast<Store*>(ctx);
  RowLocation loc = s->index_.Location(row);
  return s->segments_[loc.segment_slot]->data() + loc.offset + frame::kEventId;
}

Status Store::Close() {
  if (closed_.exchange(true, std::memory_order_acq_rel)) return Status::OK();
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_flusher_ = true;
  }
  flush_cv_.NotifyAll();
  if (flusher_.joinable()) flusher_.join();
  Status result;
  {
    // No append is in flight past this point (those queued find the store closed).
    WriterRole role(this);
    std::unique_lock<std::mutex> g(mu_);
    while (syncing_) WaitSyncDone(g);  // an in-flight sync ends first
    if (active_ && poison_.ok()) {
      // Seal: sync the frames, then record the final frontier and drop the
      // preallocated rest. Reopening resumes this segment.
      Status s = SealActive();
      if (s.ok()) durable_sequence_.store(next_sequence_);
      // The checkpoint is a cache: failing to write it costs the next open a scan, nothing more.
      if (s.ok()) (void)SaveCheckpoint();
      result = s;
    }
    active_.reset();
    segments_.clear();
  }
  {
    // A compaction that had to wait for another process (Windows without
    // POSIX semantics) is finished now that this store maps nothing, or by
    // the next open; either way nothing is lost, so its failure is not ours.
    std::lock_guard<std::mutex> cg(compaction_mu_);
    if (pending_compaction_.last != 0 && !options_.read_only) (void)FinishCompaction();
  }
  lock_.Release();
  return result;
}

Status Store::SaveCheckpoint() {
  CheckpointHeader h;
  h.last_timestamp_us = last_timestamp_us_;
  std::vector<uint64_t> last_frame(segments_.size(), 0);
  for (Row r = 0; r < index_.size(); r++) last_frame[index_.Location(r).segment_slot] = index_.Location(r).offset;
  for (size_t i = 0; i < segments_.size(); i++) {
    const Segment& s = *segments_[i];
    CoveredSegment c;
    c.id = s.id();
    c.base_sequence = s.base_sequence();
    c.end = s.frontier().end;
    c.next_sequence = s.frontier().next_sequence;
    c.last_frame = last_frame[i];
    c.created_us = s.created_us();
    if (c.last_frame) std::memcpy(c.last_event_id, s.data() + c.last_frame + frame::kEventId, 16);
    h.segments.push_back(c);
  }
  return WriteCheckpoint(options_.dir, index_, h);
}

Status Store::CheckWritable() const {
  if (closed_.load(std::memory_order_relaxed)) return Status::Closed("the store is closed");
  if (options_.read_only) return Status::InvalidArgument("the store was opened read-only");
  if (!poison_.ok())
    return Status::Poisoned("the store refuses writes after a failed sync (" + poison_.message() +
                            "); close and reopen it to recover");
  return Status::OK();
}

Status Store::CheckWritableForAppend() {
  // Acquire: pairs with Poison's release; the message itself is read under mu_.
  if (closed_.load(std::memory_order_acquire) || options_.read_only ||
      poisoned_.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> g(mu_);
    return CheckWritable();
  }
  return Status::OK();
}

void Store::Poison(const Status& s) {
  if (poison_.ok()) poison_ = s;
  poisoned_.store(true, std::memory_order_release);
}

void Store::PublishEnd() {
  // Seqlock write side (one writer): odd version, the pair, even version.
  // No fences, so ThreadSanitizer can check it: the pair's release stores
  // keep the odd version before them.
  const uint64_t v = pub_version_.load(std::memory_order_relaxed);
  pub_version_.store(v + 1, std::memory_order_relaxed);
  // Release: a reader that loads the new value also sees the odd version.
  pub_end_.store(write_pos_, std::memory_order_release);
  pub_next_.store(next_sequence_, std::memory_order_release);
  // Release: a reader that sees this version sees the pair and every frame below pub_end_.
  pub_version_.store(v + 2, std::memory_order_release);
}

void Store::PublishedEnd(uint64_t* end, uint64_t* next_sequence) const {
  for (;;) {
    // Acquire (all three): pairs with the releases above, so a new value of
    // the pair makes the second version read see the change.
    const uint64_t v1 = pub_version_.load(std::memory_order_acquire);
    const uint64_t e = pub_end_.load(std::memory_order_acquire);
    const uint64_t n = pub_next_.load(std::memory_order_acquire);
    if (!(v1 & 1) && pub_version_.load(std::memory_order_relaxed) == v1) {
      *end = e;
      *next_sequence = n;
      return;
    }
    std::this_thread::yield();
  }
}

std::unique_lock<std::mutex> Store::ReadLock() const {
  std::unique_lock<std::mutex> g(mu_);
  // Readers are serialised by mu_ and this one has read nothing yet: no
  // reader holds a table the writer replaced, so they can go.
  index_.Reclaim();
  return g;
}

Store::WriterRole::WriterRole(Store* s) : s_(s) {
  // Acquire: the last combiner's writes are visible, as for a producer taking the role.
  for (int spins = 0; s_->combining_.exchange(true, std::memory_order_acquire); spins++)
    AppendRing<PendingAppend>::Backoff(spins);
}

// Applies what queued while the role was held, then lets it go.
Store::WriterRole::~WriterRole() { s_->Combine(); }

// The TypeScript layer validates names with exact messages; this is the
// cheap re-check that keeps an unreadable frame from ever being written.
static Status CheckName(const char* what, const std::string& name) {
  if (name.empty() || name.size() > kMaxNameBytes)
    return Status::InvalidArgument(std::string(what) + " must be 1.." + std::to_string(kMaxNameBytes) + " bytes");
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) return Status::InvalidArgument(std::string(what) + " contains a control character");
  return Status::OK();
}

Status Store::InternEntity(const std::string& name, uint32_t* id) {
  CW_RETURN_IF_ERROR(CheckName("entity", name));
  std::lock_guard<std::mutex> g(mu_);
  if (closed()) return Status::Closed("the store is closed");
  *id = index_.InternEntity(name);
  if (*id == kNoId) return Status::Full("the store names " + std::to_string(Index::kMaxNames) + " entities already");
  return Status::OK();
}

Status Store::InternScope(const std::string& name, uint32_t* id) {
  CW_RETURN_IF_ERROR(CheckName("scope", name));
  std::lock_guard<std::mutex> g(mu_);
  if (closed()) return Status::Closed("the store is closed");
  *id = index_.InternScope(name);
  if (*id == kNoId) return Status::Full("the store names " + std::to_string(Index::kMaxNames) + " scopes already");
  return Status::OK();
}

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
  out->durable = v.sequence < durable_sequence_.load(std::memory_order_acquire);
}

bool Store::FindIdempotent(const Index::Digest& d, Receipt* out) const {
  int64_t row = index_.FindIdempotency(d);
  FrameView v;
  if (row >= 0) {
    if (!FrameAt(static_cast<Row>(row), &v).ok()) return false;
  } else {
    // Dropped by retention: the frame's header was kept for exactly this.
    auto it = retired_keys_.find(d);
    if (it == retired_keys_.end()) return false;
    ViewEncodedFrame(it->second.data(), &v);
  }
  FillReceipt(v, out);
  return true;
}

Status Store::SealedInfo(uint64_t* segments, uint64_t* last_id, uint64_t* from_sequence, uint64_t* to_sequence) {
  std::lock_guard<std::mutex> g(mu_);
  if (closed()) return Status::Closed("the store is closed");
  *segments = 0;
  *last_id = 0;
  *from_sequence = *to_sequence = segments_.empty() ? 0 : segments_.front()->base_sequence();
  for (const auto& seg : segments_) {
    if (seg == active_) break;
    (*segments)++;
    *last_id = seg->id();
    *to_sequence = seg->frontier().next_sequence;
  }
  return Status::OK();
}

Status Store::FrameAt(Row r, FrameView* v) const {
  RowLocation loc = index_.Location(r);
  const Segment& seg = *segments_[loc.segment_slot];
  FrameCheck c = DecodeFrame(seg.data() + loc.offset, seg.size() - loc.offset, v);
  if (c != FrameCheck::kOk)
    return Status::Corruption("segment " + Segment::FileName(seg.id()) + " offset " + std::to_string(loc.offset) +
                              ": " + FrameCheckName(c) + " on read");
  return Status::OK();
}

void Store::NoteAppended() {
  // Wake the flusher once per threshold crossing, not on every append; with
  // no background sync there is nothing to wake it for.
  // Without mu_: a flusher between its check and its wait misses this
  // notify and wakes at its sync_every_ms timeout instead.
  if (options_.sync_mode == SyncMode::kNone) return;
  if (!flush_requested_.load(std::memory_order_relaxed) &&
      next_sequence_ - durable_sequence_.load(std::memory_order_relaxed) >= options_.sync_every_events) {
    flush_requested_.store(true, std::memory_order_relaxed);
    flush_cv_.NotifyOne();
  }
}

Status Store::Append(const AppendRequest& req, Receipt* out) { return AppendBatch(&req, 1, out); }

Status Store::AppendBatch(const AppendRequest* items, size_t n, Receipt* out, const AppendCondition* condition) {
  if (n == 0) return Status::InvalidArgument("a batch needs at least one event");
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
  PendingAppend p{items, n, out, condition, hashes, Status::OK()};
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
  return p.status;
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
        Poison(Status::Full("out of memory while appending"));
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

// Applies one request to the log and the index. REQUIRES: combiner role.
Status Store::ApplyAppend(const PendingAppend& p) {
  const AppendRequest* items = p.items;
  const size_t n = p.n;
  Receipt* out = p.out;
  const AppendCondition* condition = p.condition;
  CW_RETURN_IF_ERROR(CheckWritableForAppend());
  if (condition) {
    RegionFilter f = condition->filter;
    f.limit = 1;  // the first match is enough to refuse
    // Under the reader lock: the query looks names up in tables that
    // interning changes under that lock. Only conditional appends take it.
    std::vector<Row> hit;
    {
      std::lock_guard<std::mutex> g(mu_);
      hit = index_.Query(f);
    }
    if (!hit.empty()) {
      out[0].sequence = index_.Sequence(hit[0]);
      return Status::ConditionFailed("an event matching the condition was appended at sequence " +
                                     std::to_string(out[0].sequence));
    }
  }

  // 1. Idempotency: all keyed items already present return their receipts.
  // Scratch vectors are members (guarded by mu_): no allocation per append.
  std::vector<Index::Digest>& digests = scratch_digests_;
  digests.resize(n);
  size_t known = 0;
  for (size_t i = 0; i < n; i++) {
    if (!items[i].idempotency_key) continue;
    Blake3Prefix(items[i].idempotency_key, items[i].idempotency_key_len, digests[i].data(), 16);
    for (size_t j = 0; j < i; j++)
      if (items[j].idempotency_key && digests[j] == digests[i])
        return Status::InvalidArgument("two events of one batch carry the same idempotency key");
    if (FindIdempotent(digests[i], &out[i])) known++;
  }
  if (known > 0) {
    if (known != n)
      return Status::InvalidArgument("some events of this batch were appended before under their idempotency keys and "
                                     "some were not; retry the batch exactly as first sent");
    for (size_t i = 0; i < n; i++) out[i].deduplicated = true;
    return Status::OK();
  }

  // 2. Validate everything before a byte is written. prev_item[i]: the
  // batch's previous item of the same entity (its clock and hash come
  // before item i's), found through a per-entity mark reset right after.
  constexpr uint32_t kNone = UINT32_MAX;
  std::vector<uint32_t>& prev_item = scratch_prev_item_;
  prev_item.assign(n, kNone);
  if (n > 1) {
    if (batch_last_.size() < index_.entity_count()) batch_last_.resize(index_.entity_count(), kNone);
    for (size_t i = 0; i < n; i++) {
      const uint32_t e = items[i].entity;
      if (e >= batch_last_.size()) continue;  // refused below as unknown
      prev_item[i] = batch_last_[e];
      batch_last_[e] = static_cast<uint32_t>(i);
    }
    for (size_t i = 0; i < n; i++)
      if (items[i].entity < batch_last_.size()) batch_last_[items[i].entity] = kNone;
  }
  uint64_t total = 0;
  std::vector<uint32_t>& clocks = scratch_clocks_;
  clocks.resize(n);
  for (size_t i = 0; i < n; i++) {
    const AppendRequest& r = items[i];
    if (r.entity >= index_.entity_count() || r.scope >= index_.scope_count())
      return Status::InvalidArgument("unknown entity or scope id");
    if (r.payload_len > options_.max_payload_bytes)
      return Status::Full("payload of " + std::to_string(r.payload_len) + " bytes exceeds maxPayloadBytes (" +
                          std::to_string(options_.max_payload_bytes) + ")");
    if (r.causation_prior_item >= static_cast<int32_t>(i))
      return Status::InvalidArgument("causation priorItem must name an earlier item of the batch");
    // The clock this item gets: after the entity's head and earlier items of this batch.
    // An earlier item of the entity in this batch already counts from its head.
    const uint32_t clock = prev_item[i] != kNone ? clocks[prev_item[i]] : index_.EntityClock(r.entity);
    if (r.has_expected && r.expected_clock != clock) {
      out[0].clock = clock;
      out[0].sequence = i;
      return Status::SequenceMismatch(index_.EntityName(r.entity));
    }
    if (clock == UINT32_MAX) return Status::Full("entity clock overflow for " + index_.EntityName(r.entity));
    clocks[i] = clock + 1;
    total += FrameSpan(static_cast<uint16_t>(index_.EntityName(r.entity).size()),
                       static_cast<uint16_t>(index_.ScopeName(r.scope).size()), r.payload_len);
  }
  const uint64_t capacity = options_.segment_max_bytes - kSegmentHeaderSize;
  if (total > capacity)
    return Status::Full((n == 1 ? "an event of " : "a batch of ") + std::to_string(total) +
                        " bytes does not fit in one segment (segmentMaxBytes " +
                        std::to_string(options_.segment_max_bytes) + ")");
  if (write_pos_ + total > active_->size()) CW_RETURN_IF_ERROR(Roll());

  // 3. Lay out the frames. Prev hashes chain through earlier items of the batch.
  const int64_t ts = NextTimestamp();
  uint8_t* base = active_->mutable_data();
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
    NewEventId(ts, rc.event_id);
    index_.PrefetchIdSlot(rc.event_id);
    std::memcpy(rc.correlation_id, r.correlation_id ? r.correlation_id : rc.event_id, 16);
    const uint8_t* causation = r.causation_id;
    if (r.causation_prior_item >= 0) causation = out[r.causation_prior_item].event_id;
    if (causation) {
      std::memcpy(rc.causation_id, causation, 16);
      rc.has_causation = true;
    }
    std::memcpy(rc.content_hash, p.hashes[i], 32);
    const uint8_t* prev = prev_item[i] != kNone ? out[prev_item[i]].content_hash : index_.EntityHead(r.entity);
    std::memcpy(rc.prev_hash, prev, 32);

    const std::string& entity = index_.EntityName(r.entity);
    const std::string& scope = index_.ScopeName(r.scope);
    FrameFields f;
    f.flags = static_cast<uint8_t>((n > 1 ? kFlagBatchMember : 0) | (n > 1 && i + 1 == n ? kFlagBatchEnd : 0) |
                                   (r.idempotency_key ? kFlagIdempotent : 0) | (causation ? kFlagHasCausation : 0));
    f.kind = r.kind;
    f.clock = rc.clock;
    f.sequence = rc.sequence;
    f.timestamp_us = ts;
    f.event_id = rc.event_id;
    f.correlation_id = rc.correlation_id;
    f.causation_id = causation ? rc.causation_id : nullptr;
    f.idempotency = r.idempotency_key ? digests[i].data() : nullptr;
    f.content_hash = rc.content_hash;
    f.prev_hash = rc.prev_hash;
    f.entity = reinterpret_cast<const uint8_t*>(entity.data());
    f.entity_len = static_cast<uint16_t>(entity.size());
    f.scope = reinterpret_cast<const uint8_t*>(scope.data());
    f.scope_len = static_cast<uint16_t>(scope.size());
    f.payload = r.payload;
    f.payload_len = r.payload_len;
    uint64_t span = EncodeFrame(f, base + pos);
    FrameView v;
    ViewEncodedFrame(base + pos, &v);
    laid.emplace_back(v, pos);
    pos += span;
  }

  // 4. Publish: readers see the events only once every frame is in place,
  // and a batch all at once (only its last Add publishes).
  const uint32_t slot = static_cast<uint32_t>(segments_.size() - 1);
  for (size_t i = 0; i < n; i++) {
    index_.Add(laid[i].first, RowLocation{slot, static_cast<uint32_t>(laid[i].second)}, items[i].entity,
               items[i].scope, i + 1 == n);
    if (footer_whole_) footer_.AddIndexedFrame(laid[i].first, laid[i].second, items[i].entity, items[i].scope, index_);
  }
  write_pos_ = pos;
  ring_.PublishRange(next_sequence_, n);  // subscribers too see a batch whole
  next_sequence_ += n;
  PublishEnd();
  NoteAppended();
  return Status::OK();
}

void Store::ReplaceListeners(std::vector<Listener*> next) {
  const auto* fresh = new std::vector<Listener*>(std::move(next));
  // seq_cst, with the notifier's increment and load: a notifier that loaded
  // the old list is counted in notifiers_ when the wait below looks.
  const std::vector<Listener*>* old = listeners_.exchange(fresh, std::memory_order_seq_cst);
  for (int spins = 0; notifiers_.load(std::memory_order_seq_cst) != 0; spins++) AppendRing<PendingAppend>::Backoff(spins);
  delete old;
}

void Store::AddListener(Listener* l) {
  std::lock_guard<std::mutex> g(listeners_mu_);
  const std::vector<Listener*>* cur = listeners_.load(std::memory_order_acquire);
  std::vector<Listener*> next = cur ? *cur : std::vector<Listener*>();
  next.push_back(l);
  ReplaceListeners(std::move(next));
}

void Store::RemoveListener(Listener* l) {
  std::lock_guard<std::mutex> g(listeners_mu_);
  const std::vector<Listener*>* cur = listeners_.load(std::memory_order_acquire);
  std::vector<Listener*> next = cur ? *cur : std::vector<Listener*>();
  next.erase(std::remove(next.begin(), next.end(), l), next.end());
  // After this, no notifier holds a list naming l: it is never notified again.
  ReplaceListeners(std::move(next));
  if (l->armed.exchange(false, std::memory_order_acq_rel)) armed_.fetch_sub(1, std::memory_order_relaxed);
}

uint64_t Store::NextSequence() const {
  uint64_t end, next;
  PublishedEnd(&end, &next);
  return next;
}

uint64_t Store::DurableSequence() const { return durable_sequence_.load(std::memory_order_acquire); }

void Store::Arm(Listener* l, uint64_t seen_next_sequence) {
  if (!l->armed.exchange(true, std::memory_order_acq_rel)) armed_.fetch_add(1, std::memory_order_relaxed);
  // seq_cst fence, paired with the one in NotifyListeners: either this
  // thread sees the writer's newest publish, or the writer sees armed_ > 0.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  // Events may have been published between the caller's read and the arming.
  if (NextSequence() > seen_next_sequence) NotifyListeners();
}

void Store::NotifyListeners() {
  // seq_cst fence after the publish (see Arm), then relaxed: a zero read
  // here means Arm's re-check will see what was published.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (armed_.load(std::memory_order_relaxed) == 0) return;
  // seq_cst: counted before the list is loaded (see ReplaceListeners).
  notifiers_.fetch_add(1, std::memory_order_seq_cst);
  if (const std::vector<Listener*>* list = listeners_.load(std::memory_order_seq_cst)) {
    for (Listener* l : *list) {
      if (l->armed.exchange(false, std::memory_order_acq_rel)) {
        armed_.fetch_sub(1, std::memory_order_relaxed);
        l->Notify();
      }
    }
  }
  // Release: the walk of the list is done before a remover sees the count drop.
  notifiers_.fetch_sub(1, std::memory_order_release);
}

// Seals the active segment: frames and footer synced, then the sealed
// frontier written and synced with the file cut to its end.
Status Store::SealActive() {
  Segment& seg = *active_;
  // The footer goes right after the last frame; it is synced with the frames,
  // before the sealed record names where they end.
  std::string footer;
  // The footer is a cache: rows that do not describe the frames only mean
  // no footer; the next open scans the segment. Usually it was built as the
  // frames were appended (footer_); a segment this process did not write
  // whole (it was reopened) gets one from its index rows, the last ones.
  const uint32_t slot = static_cast<uint32_t>(segments_.size() - 1);
  Row first = static_cast<Row>(index_.size());
  while (first > 0 && index_.Location(first - 1).segment_slot == slot) first--;
  if (footer_whole_ && footer_.frames() == index_.size() - first) {
    footer_.Finish(seg, &footer);
  } else if (!BuildFooterFromIndex(seg, write_pos_, index_, slot, first, &footer).ok()) {
    footer.clear();
  }
  Status s;
  if (write_pos_ + footer.size() > seg.size()) s = seg.Resize(write_pos_ + footer.size());
  if (s.ok()) {
    std::memcpy(seg.mutable_data() + write_pos_, footer.data(), footer.size());
    s = seg.Sync(SyncMode::kData);
  }
  if (s.ok()) {
    seg.WriteFrontier(write_pos_, next_sequence_, kFrontierSealed);
    s = seg.Resize(write_pos_ + footer.size());
    // Windows refuses to cut a file another process maps (a read-only store
    // following this one): it keeps its zero tail after the footer (FORMAT.md).
    if (platform::kResizeBlockedByMappings && s.sys_errno() == EBUSY) s = Status::OK();
  }
  if (s.ok()) s = seg.Sync(SyncMode::kAll);
  return s;
}

// Seals the active segment and starts the next one. Order matters for a
// crash at any step: the old segment is sealed (above) before the new file
// appears.
Status Store::Roll() {
  // The one lock an append takes: readers must not walk segments_ while it
  // changes, and the sync state moves to the new segment.
  std::lock_guard<std::mutex> g(mu_);
  Segment& old = *active_;
  Status s = SealActive();
  if (!s.ok()) {
    // This call reports the cause (E_IO); later writes get E_STORE_POISONED.
    Poison(s);
    sync_errors_++;
    return s;
  }
  durable_sequence_.store(std::max(durable_sequence_.load(), next_sequence_));
  // Readers keep using the sealed file through a read-only mapping; the
  // flusher may still hold the writable one until its sync returns.
  std::unique_ptr<Segment> sealed;
  CW_RETURN_IF_ERROR(Segment::Open(options_.dir, old.id(), false, &sealed));
  segments_.back() = std::shared_ptr<Segment>(sealed.release());
  std::unique_ptr<Segment> next;
  s = Segment::Create(options_.dir, old.id() + 1, next_sequence_, options_.segment_max_bytes, &next);
  if (!s.ok()) {
    // The log is intact (sealed); without a new segment nothing can be written.
    Poison(s);
    return s;
  }
  active_ = std::shared_ptr<Segment>(next.release());
  segments_.push_back(active_);
  footer_ = FooterWriter();  // a new, empty segment: its footer grows with it
  footer_whole_ = true;
  write_pos_ = synced_end_ = recorded_end_ = kSegmentHeaderSize;
  synced_next_seq_ = next_sequence_;
  // Under mu_: SyncNow reads the published pair with active_, so it never
  // pairs the old segment's end with the new segment.
  PublishEnd();
  return Status::OK();
}

// Callers loop on their condition, so the timeout only costs a re-check.
void Store::WaitSyncDone(std::unique_lock<std::mutex>& g) { sync_done_cv_.WaitFor(g, 1000); }

Status Store::SyncNow(uint64_t need_below, bool record_frontier) {
  std::unique_lock<std::mutex> g(mu_);
  // Group commit: one caller at a time leads a sync; the others wait for it
  // to end, then return if it covered them or lead the next one, which
  // covers everything appended while they waited.
  for (;;) {
    if (!poison_.ok()) return Status::Poisoned("an earlier sync failed: " + poison_.message());
    if (!active_) return Status::Closed("the store is closed");
    const bool data_pending = durable_sequence_.load() < need_below;
    const bool frontier_pending = recorded_end_ < synced_end_;
    // A durable append whose event an earlier sync covered is done: it does
    // not sync again just to record the frontier.
    if (!data_pending && (!frontier_pending || !record_frontier)) return Status::OK();
    if (!syncing_) break;
    WaitSyncDone(g);
  }
  syncing_ = true;
  std::shared_ptr<Segment> seg = active_;
  // A consistent pair: every frame below `end` is written, and they are the
  // events below next_seq (a roll, which changes the segment, holds mu_).
  uint64_t end, next_seq;
  PublishedEnd(&end, &next_seq);
  // Record the frontier the previous sync established: it is already
  // durable, so this sync makes the record durable without ever claiming
  // bytes that a crash during this sync could lose.
  if (recorded_end_ < synced_end_) {
    seg->WriteFrontier(synced_end_, synced_next_seq_, kFrontierOpen);
    recorded_end_ = synced_end_;
  }
  // The writer stores only at or past the published end: it is done with
  // every page below `end`.
  seg->ReleaseWritten(end);
  flush_requested_.store(false, std::memory_order_relaxed);
  g.unlock();
#ifdef CAUSEWAY_CANARY_ACK_BEFORE_FSYNC
  Status s = Status::OK();  // planted bug (reliability canary): acknowledge without syncing
#else
  Status s = seg->Sync(options_.sync_mode == SyncMode::kAll ? SyncMode::kAll : SyncMode::kData);
#endif
#ifdef CAUSEWAY_CANARY_IGNORE_FSYNC_ERROR
  if (!s.ok()) s = seg->Sync(SyncMode::kData);  // planted bug (reliability canary): retry a failed fsync and go on
#endif
  g.lock();
  syncing_ = false;
  syncs_++;
  sync_done_cv_.NotifyAll();
  if (!s.ok()) {
    // fsyncgate: after a failed fsync the kernel may have dropped the dirty
    // pages, so a retry could "succeed" without the data. Fail stop.
    sync_errors_++;
    Poison(s);
    return Status::Poisoned("sync failed: " + s.message() + "; the store refuses writes until reopened");
  }
  last_sync_us_ = WallMicros();
  durable_sequence_.store(std::max(durable_sequence_.load(), next_seq));
  if (seg == active_ && end > synced_end_) {
    synced_end_ = end;
    synced_next_seq_ = next_seq;
  }
  g.unlock();
  // Off the lock: map the next pages the writer will fill, so its page
  // faults are light ones.
  seg->Prefault(end, end + (8u << 20));
  return Status::OK();
}

Status Store::Sync() {
  uint64_t target;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (closed()) return Status::Closed("the store is closed");
    if (options_.read_only) return Status::OK();
  }
  target = NextSequence();
  CW_RETURN_IF_ERROR(SyncNow(target, true));
  // A second, cheap sync records the frontier the first one established, so
  // after sync() the header itself vouches for every byte written so far.
  return SyncNow(target, true);
}

// Group commit: a durable append that arrives while another thread's sync
// runs waits for it, then finds its event covered by the next sync, which
// captures everything appended before it starts.
Status Store::WaitDurable(uint64_t sequence) { return SyncNow(sequence + 1, false); }

void Store::FlusherLoop() {
  std::unique_lock<std::mutex> g(mu_);
  while (!stop_flusher_) {
    // Until asked or sync_every_ms has passed; a spurious wake-up waits out the rest.
    const uint32_t every = std::max<uint32_t>(1, options_.sync_every_ms);
    const uint64_t deadline = MonotonicMillis() + every;
    for (uint64_t now = MonotonicMillis(); now < deadline; now = MonotonicMillis()) {
      if (stop_flusher_ || flush_requested_.load(std::memory_order_relaxed)) break;
      flush_cv_.WaitFor(g, static_cast<uint32_t>(deadline - now));
    }
    if (stop_flusher_) break;
    if (!poison_.ok()) break;
    if (options_.sync_mode == SyncMode::kNone) {
      flush_requested_.store(false, std::memory_order_relaxed);
      continue;
    }
    const uint64_t target = NextSequence();
    const bool work = durable_sequence_.load() < target || recorded_end_ < synced_end_;
    if (!work) {
      flush_requested_.store(false, std::memory_order_relaxed);
      continue;
    }
    g.unlock();
    SyncNow(target, true);  // a failure poisons the store; the loop then ends
    g.lock();
  }
}

Status Store::WriteRecords(const std::vector<Row>& rows, const Allocator& alloc) {
  std::vector<FrameView> views(rows.size());
  for (size_t i = 0; i < rows.size(); i++) CW_RETURN_IF_ERROR(FrameAt(rows[i], &views[i]));
  return WriteViews(rows, views, alloc);
}

Status Store::WriteViews(const std::vector<Row>& rows, const std::vector<FrameView>& views, const Allocator& alloc) {
  size_t total = 0;
  for (const FrameView& v : views) total += kRecordPrefix + AlignFrame(v.length);
  uint8_t* dst = alloc(total);
  if (!dst && total) return Status::Full("out of memory for " + std::to_string(total) + " bytes of results");
  for (size_t i = 0; i < rows.size(); i++) {
    const uint32_t span = static_cast<uint32_t>(kRecordPrefix + AlignFrame(views[i].length));
    StoreLE<uint32_t>(dst, span);
    StoreLE<uint32_t>(dst + 4, index_.Entity(rows[i]));
    StoreLE<uint32_t>(dst + 8, index_.Scope(rows[i]));
    StoreLE<uint32_t>(dst + 12, 0);
    std::memcpy(dst + kRecordPrefix, views[i].base, views[i].length);
    std::memset(dst + kRecordPrefix + views[i].length, 0, span - kRecordPrefix - views[i].length);
    dst += span;
  }
  return Status::OK();
}

Status Store::QueryRecords(const RegionFilter& filter, const Allocator& alloc, size_t* count) {
  auto g = ReadLock();
  if (closed()) return Status::Closed("the store is closed");
  std::vector<Row> rows = index_.Query(filter);
  *count = rows.size();
  return WriteRecords(rows, alloc);
}

Status Store::ScanRecords(uint64_t from_sequence, uint64_t limit, const Allocator& alloc, size_t* count,
                          std::vector<Damaged>* damaged) {
  auto g = ReadLock();
  if (closed()) return Status::Closed("the store is closed");
  RegionFilter f;
  f.after_sequence = from_sequence;
  f.limit = limit;
  std::vector<Row> rows = index_.Query(f), good;
  std::vector<FrameView> views;
  good.reserve(rows.size());
  views.reserve(rows.size());
  for (Row r : rows) {
    FrameView v;
    Status st = FrameAt(r, &v);
    if (!st.ok()) {
      damaged->push_back({index_.Sequence(r), st.message()});
      continue;
    }
    good.push_back(r);
    views.push_back(v);
  }
  *count = good.size();
  return WriteViews(good, views, alloc);  // checked once above, not again
}

Status Store::CorrelationRecords(const uint8_t* id, const Allocator& alloc, size_t* count) {
  auto g = ReadLock();
  if (closed()) return Status::Closed("the store is closed");
  std::vector<Row> rows = index_.ByCorrelation(id);
  *count = rows.size();
  return WriteRecords(rows, alloc);
}

Status Store::EffectRecords(const uint8_t* id, const Allocator& alloc, size_t* count) {
  auto g = ReadLock();
  if (closed()) return Status::Closed("the store is closed");
  std::vector<Row> rows = index_.ByCausation(id);
  *count = rows.size();
  return WriteRecords(rows, alloc);
}

Status Store::SubscriptionPoll(const RegionFilter& filter, uint64_t* pos, uint64_t max, const Allocator& alloc,
                               uint64_t* lagged, size_t* count) {
  auto g = ReadLock();
  if (closed()) return Status::Closed("the store is closed");
  std::vector<Row> rows;
  uint64_t p = *pos;
  while (rows.size() < max) {
    uint64_t seq;
    BroadcastRing::Read r = ring_.TryRead(p, &seq);
    if (r == BroadcastRing::Read::kEmpty) break;
    if (r == BroadcastRing::Read::kLagged) {
      // Skip to the oldest message still in the ring.
      const uint64_t h = ring_.head();
      const uint64_t oldest = h > ring_.capacity() ? h - ring_.capacity() : 0;
      const uint64_t to = std::max(oldest, p + 1);
      *lagged += to - p;
      p = to;
      continue;
    }
    p++;
    int64_t row = index_.FindSequence(seq);
    if (row >= 0 && index_.Matches(static_cast<Row>(row), filter)) rows.push_back(static_cast<Row>(row));
  }
  *pos = p;
  *count = rows.size();
  return WriteRecords(rows, alloc);
}

Status Store::GetRecord(const uint8_t* event_id, const Allocator& alloc, bool* found) {
  auto g = ReadLock();
  if (closed()) return Status::Closed("the store is closed");
  int64_t r = index_.FindId(event_id);
  *found = r >= 0;
  if (r < 0) return Status::OK();
  return WriteRecords({static_cast<Row>(r)}, alloc);
}

Status Store::RecordsBySequence(uint64_t from, uint64_t limit, const Allocator& alloc, size_t* count) {
  RegionFilter f;
  f.after_sequence = from;
  f.limit = limit;
  return QueryRecords(f, alloc, count);
}

Status Store::Stats(StoreStats* out) {
  // The role too: the byte counts walk what the writer grows.
  WriterRole role(this);
  std::lock_guard<std::mutex> g(mu_);
  if (closed()) return Status::Closed("the store is closed");
  out->events = index_.size();
  out->next_sequence = next_sequence_;
  out->durable_sequence = durable_sequence_.load();
  out->segments = segments_.size();
  uint64_t bytes = 0;
  for (const auto& s : segments_) bytes += (s == active_) ? write_pos_ : s->size();
  out->bytes = bytes;
  out->index_bytes = index_.MemoryBytes();
  out->entities = index_.entity_count();
  out->scopes = index_.scope_count();
  out->last_sync_us = last_sync_us_;
  out->syncs = syncs_;
  out->sync_errors = sync_errors_;
  out->recovered_torn_bytes = recovered_torn_bytes_;
  out->opened_from_checkpoint = opened_from_checkpoint_;
  out->footers_loaded = footers_loaded_;
  out->damage = damage_;
  out->open_micros = open_micros_;
  return Status::OK();
}

Status Store::EntityName(uint32_t id, std::string* out) {
  std::lock_guard<std::mutex> g(mu_);
  if (id >= index_.entity_count()) return Status::NotFound("entity id " + std::to_string(id));
  *out = index_.EntityName(id);
  return Status::OK();
}

Status Store::ScopeName(uint32_t id, std::string* out) {
  std::lock_guard<std::mutex> g(mu_);
  if (id >= index_.scope_count()) return Status::NotFound("scope id " + std::to_string(id));
  *out = index_.ScopeName(id);
  return Status::OK();
}

}  // namespace causeway
