// Store: open, close, the checkpoint at close, the published end, the
// writer role, names and listeners. Appends are in append.cc, rolls and
// syncs in durability.cc, reads in read.cc; recovery.cc, compaction.cc,
// retired.cc, snapshot.cc and refresh.cc hold the rest.
#include "store.h"

#include <algorithm>
#include <cstring>

#include "checkpoint.h"
#include "frame.h"
#include "fsutil.h"
#include "kill_point.h"
#include "local_socket.h"
#include "platform.h"
#include "writer_link.h"
#include "writer_server.h"
#include "part_builder.h"

namespace causeway {

Status Store::Open(const StoreOptions& options, std::unique_ptr<Store>* out) {
  if (options.segment_max_bytes < 4096 || options.segment_max_bytes > 0xffffffffull)
    return Status::InvalidArgument("segmentMaxBytes must be between 4096 and 4294967295");
  if (options.max_payload_bytes == 0 || options.max_payload_bytes > kMaxPayloadBytesLimit)
    return Status::InvalidArgument("maxPayloadBytes must be between 1 and " + std::to_string(kMaxPayloadBytesLimit));
  if (options.salvage && !options.read_only) return Status::InvalidArgument("salvage needs readOnly: true");
  if (!platform::ValidFileMode(options.file_mode))
    return Status::InvalidArgument("fileMode must be within 0o600..0o777 and include owner read and write");
  StoreOptions o = options;
  // Without a writer link (sock::Supported): one process per store.
  if (o.read_only || !sock::Supported()) o.shared = false;
  if (o.writer_timeout_ms == 0) return Status::InvalidArgument("writerTimeoutMs must be at least 1");
  if (!o.read_only) CW_RETURN_IF_ERROR(fsutil::EnsureDir(o.dir, o.file_mode));
  CW_RETURN_IF_ERROR(fsutil::RealPath(o.dir, &o.dir));
  std::unique_ptr<Store> s(new Store(o));
  s->index_.SetIdResolver(&Store::ResolveId, s.get());
  s->index_.SetFrameResolver(&Store::ResolveFrame, s.get());
  Status locked = s->lock_.Acquire(s->options_.dir, !o.read_only, o.file_mode);
  if (o.read_only) {
    s->role_ = Role::kReadOnly;
  } else if (locked.code() == Status::Code::kLocked && o.shared) {
    // Another process writes: this one becomes its client.
    locked = s->lock_.Acquire(s->options_.dir, false, o.file_mode);
    s->role_ = Role::kClient;
  }
  CW_RETURN_IF_ERROR(locked);
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
  if (s->writer())
    s->sync_.flusher = std::thread([p = s.get()] {
      platform::NameThisThread("cw-flush");
      p->FlusherLoop();
    });
  if (s->writer() && o.shared) CW_RETURN_IF_ERROR(s->StartServing());
  // A read-only store follows a live writer's notes too (watch only: it
  // never writes, never takes the role); salvage is for stores no writer serves.
  const bool watch_only = s->role() == Role::kReadOnly && !o.salvage && sock::Supported();
  if (s->role() == Role::kClient || watch_only) {
    s->link_ = std::make_unique<WriterLink>(s.get(), watch_only);
    s->link_->Start();
  }
  *out = std::move(s);
  return Status::OK();
}

Store::Store(StoreOptions o) : options_(std::move(o)), ring_(options_.subscriber_capacity) {}

Store::~Store() {
  Close();
  delete listeners_.load(std::memory_order_acquire);
}

Status Store::ResolveId(void* ctx, Row row, const uint8_t** id) {
  // The frame is checked before its id decides anything: a flipped bit
  // must give Corruption, never a miss.
  FrameView v;
  CW_RETURN_IF_ERROR(static_cast<Store*>(ctx)->FrameAt(row, &v));
  *id = v.event_id();
  return Status::OK();
}

Status Store::ResolveFrame(void* ctx, Row row, FrameView* v) {
  return static_cast<Store*>(ctx)->FrameAt(row, v);
}

Status Store::Close() {
  if (closed_.exchange(true, std::memory_order_acq_rel)) return Status::OK();
  // Clients' requests end first (their writes stop here), and no promotion
  // runs once the link's monitor is joined.
  StopLinks();
  // A compaction or snapshot running on another thread sees closed() at its
  // next check and stops (or, past its commit point, finishes): wait for it
  // before the segments go. Its Sync still has the flusher.
  std::unique_lock<std::mutex> cg(compaction_mu_);
  {
    std::lock_guard<std::mutex> g(mu_);
    sync_.stop_flusher = true;
  }
  sync_.flush_cv.NotifyAll();
  if (sync_.flusher.joinable()) sync_.flusher.join();
  // A file being built is finished; the rest are built by the next open.
  if (part_builder_) part_builder_->Stop();
  Status result;
  {
    // No append is in flight past this point (those queued find the store closed).
    WriterRole role(this);
    // Files finished since the last append serve their segments now, so the checkpoint leaves out their rows.
    if (part_builder_ && part_builder_->ready()) AttachIndexParts();
    std::unique_lock<std::mutex> g(mu_);
    while (sync_.syncing) WaitSyncDone(g);  // an in-flight sync ends first
    if (active_ && poison_.ok()) {
      // Seal: sync the frames, then record the final frontier and drop the
      // preallocated rest. Reopening resumes a small segment; a larger one
      // gets its index file now and the next open starts a new segment, so
      // neither the checkpoint nor that open carries its rows.
      Status s = SealActive();
      if (s.ok()) sync_.durable_sequence.store(next_sequence_);
      if (s.ok() && !Resumes(write_pos_)) SealIndexFile();
      KillPoint("close:before-checkpoint");
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
    if (pending_compaction_.last != 0 && writer()) (void)FinishCompaction();
  }
  lock_.Release();
  return result;
}

Status Store::SaveCheckpoint() {
  CheckpointHeader h;
  CheckpointHeaderNow(&h);
  return WriteCheckpoint(options_.dir, index_, h, options_.file_mode);
}

// Rewriting a checkpoint costs at most this fraction of the log sealed since the last.
constexpr uint64_t kCheckpointEvery = 4;  // checkpoint sizes of sealed log

void Store::MaybeCheckpoint() {
  // Once the newest sealed segment's file serves it (an older one whose file
  // failed to build only puts its rows in this checkpoint).
  if (sealed_since_checkpoint_ == 0 || sealed_since_checkpoint_ < kCheckpointEvery * checkpoint_bytes_ || !active_ ||
      segments_.size() < 2 || !index_.SlotInFile(static_cast<uint32_t>(segments_.size() - 2)))
    return;
  CheckpointHeader h;
  std::string file;
  {
    std::lock_guard<std::mutex> g(mu_);
    CheckpointHeaderNow(&h);
    EncodeCheckpoint(index_, h, &file);
  }
  checkpoint_bytes_ = file.size();
  sealed_since_checkpoint_ = 0;
  PartBuilder::Job job;
  job.checkpoint = std::move(file);
  Builder().Submit(std::move(job));
}

void Store::CheckpointHeaderNow(CheckpointHeader* out) const {
  CheckpointHeader& h = *out;
  h.last_timestamp_us = last_timestamp_us_;
  std::vector<uint64_t> last_frame(segments_.size(), 0);
  for (uint32_t slot = 0; slot < segments_.size(); slot++) last_frame[slot] = index_.SlotLastOffset(slot);
  for (size_t i = 0; i < segments_.size(); i++) {
    const Segment& s = *segments_[i];
    // The active segment (while appending; sealed at close, it ends there too)
    // is covered to the last frame the index holds, which may be past its
    // durable frontier: an open checks those frames (LoadCheckpoint).
    const bool active = &s == active_.get();
    CoveredSegment c;
    c.id = s.id();
    c.base_sequence = s.base_sequence();
    c.end = active ? write_pos_ : s.frontier().end;
    c.next_sequence = active ? next_sequence_ : s.frontier().next_sequence;
    c.last_frame = last_frame[i];
    c.created_us = s.created_us();
    if (c.last_frame) std::memcpy(c.last_event_id, s.data() + c.last_frame + frame::kEventId, 16);
    h.segments.push_back(c);
  }
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
  if (*id == kNoId) return Status::NameTableFull("the store names " + std::to_string(Index::kMaxNames) + " entities already");
  return Status::OK();
}

Status Store::InternScope(const std::string& name, uint32_t* id) {
  CW_RETURN_IF_ERROR(CheckName("scope", name));
  std::lock_guard<std::mutex> g(mu_);
  if (closed()) return Status::Closed("the store is closed");
  *id = index_.InternScope(name);
  if (*id == kNoId) return Status::NameTableFull("the store names " + std::to_string(Index::kMaxNames) + " scopes already");
  return Status::OK();
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

uint64_t Store::DurableSequence() const { return sync_.durable_sequence.load(std::memory_order_acquire); }

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

}  // namespace causeway
