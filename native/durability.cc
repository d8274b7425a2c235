// Durability: sealing and rolling segments, syncs with group commit, the
// flusher, and the poison that stops writes after a failed sync.
#include "store.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "footer.h"
#include "platform.h"
#include "warm_ahead.h"

namespace causeway {

Status Store::CheckWritable() const {
  if (closed_.load(std::memory_order_relaxed)) return Status::Closed("the store is closed");
  if (role() == Role::kReadOnly) return Status::InvalidArgument("the store was opened read-only");
  if (role() == Role::kClient) return Status::WriterUnavailable("the writer role moved while this write waited; retry it");
  if (!poison_.ok())
    return Status::Poisoned("the store refuses writes after a failed sync (" + poison_.message() +
                            "); close and reopen it to recover");
  return Status::OK();
}

Status Store::CheckWritableForAppend() {
  // Acquire: pairs with Poison's release; the message itself is read under mu_.
  if (closed_.load(std::memory_order_acquire) || !writer() ||
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

void Store::NoteAppended() {
  // Wake the flusher once per threshold crossing, not on every append; with
  // no background sync there is nothing to wake it for.
  // Without mu_: a flusher between its check and its wait misses this
  // notify and wakes at its sync_every_ms timeout instead.
  if (options_.sync_mode == SyncMode::kNone) return;
  if (!sync_.flush_requested.load(std::memory_order_relaxed) &&
      next_sequence_ - sync_.durable_sequence.load(std::memory_order_relaxed) >= options_.sync_every_events) {
    sync_.flush_requested.store(true, std::memory_order_relaxed);
    sync_.flush_cv.NotifyOne();
  }
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
  Row first, end;
  index_.SlotRows(slot, &first, &end);
  if (footer_whole_ && footer_.frames() == index_.size() - first) {
    footer_.Finish(seg, &footer);
  } else if (!BuildFooterFromIndex(seg, write_pos_, index_, slot, first, &footer).ok()) {
    footer.clear();
  }
  Status s;
  if (write_pos_ + footer.size() > seg.size()) s = seg.Resize(write_pos_ + footer.size());
  if (s.ok()) {
    // Megabytes past the frames: resident in one call, not a fault per page under the reader lock.
    WarmAhead::All(seg.mutable_data() + write_pos_, footer.size());
    std::memcpy(seg.mutable_data() + write_pos_, footer.data(), footer.size());
    s = seg.Sync(SyncMode::kData);
  }
  if (s.ok()) s = seg.WriteFrontier(write_pos_, next_sequence_, kFrontierSealed);
  if (s.ok()) {
    // Clients map the file: a shared store keeps its zero tail, as Windows does.
    if (!options_.shared) s = seg.Resize(write_pos_ + footer.size());
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
  const int64_t started = MonoMicros();
  Segment& old = *active_;
  Status s = SealActive();
  if (!s.ok()) {
    // This call reports the cause (E_IO); later writes get E_STORE_POISONED.
    Poison(s);
    sync_.errors++;
    return s;
  }
  AdvanceDurable(next_sequence_);
  sealed_since_checkpoint_ += write_pos_;
  // Readers keep using the sealed file through a read-only mapping; the
  // flusher may still hold the writable one until its sync returns.
  std::unique_ptr<Segment> sealed;
  CW_RETURN_IF_ERROR(Segment::Open(options_.dir, old.id(), false, &sealed));
  segments_.back() = std::shared_ptr<Segment>(sealed.release());
  std::unique_ptr<Segment> next;
  s = Segment::Create(options_.dir, old.id() + 1, next_sequence_, options_.segment_max_bytes, &next, options_.file_mode);
  if (!s.ok()) {
    // The log is intact (sealed); without a new segment nothing can be written.
    Poison(s);
    return s;
  }
  active_ = std::shared_ptr<Segment>(next.release());
  segments_.push_back(active_);
  // The sealed segment's index file is built off this path; its ids stay in memory until it is ready.
  SubmitIndexPart(static_cast<uint32_t>(segments_.size() - 2));
  footer_ = FooterWriter();  // a new, empty segment: its footer grows with it
  footer_.Reserve(options_.segment_max_bytes);
  footer_whole_ = true;
  write_pos_ = sync_.synced_end = sync_.recorded_end = kSegmentHeaderSize;
  sync_.synced_next_seq = next_sequence_;
  // Under mu_: SyncNow reads the published pair with active_, so it never
  // pairs the old segment's end with the new segment.
  PublishEnd();
  sync_.rolls++;
  sync_.roll_log.Add(MonoMicros() - started);
  return Status::OK();
}

void Store::AdvanceDurable(uint64_t next_seq) {
  if (next_seq <= sync_.durable_sequence.load()) return;
  sync_.durable_sequence.store(next_seq);
  // Clients in other processes read durable flags from their own view: the
  // writer server's next watch note tells them.
  if (durable_listener_) durable_listener_->Notify();
}

void Store::SetDurableListener(Listener* l) {
  std::lock_guard<std::mutex> g(mu_);
  durable_listener_ = l;
}

// Callers loop on their condition, so the timeout only costs a re-check.
void Store::WaitSyncDone(std::unique_lock<std::mutex>& g) { sync_.done_cv.WaitFor(g, 1000); }

// How long a sync leader waits for the durable appends it expects to share
// its sync with (at most): a fraction of a sync, so a lone writer never waits.
constexpr int64_t kGatherMaxUs = 300;
// How long the most durable appends seen waiting at once stays the expectation.
constexpr int64_t kPeakWindowUs = 20000;

Status Store::SyncNow(uint64_t need_below, bool record_frontier) {
  std::unique_lock<std::mutex> g(mu_);
  // A durable append (not the flusher, not sync()) counts as a waiter.
  const bool append = !record_frontier;
  if (append) {
    sync_.waiters++;
    const int64_t now = MonoMicros();
    if (sync_.waiters >= sync_.peak_waiters || now - sync_.peak_at_us > kPeakWindowUs) {
      sync_.peak_waiters = sync_.waiters;
      sync_.peak_at_us = now;
    }
    // Only the gathering leader waits on arrive_cv, and only for the count
    // to reach the peak: an arrival short of it would wake it for nothing.
    if (sync_.gathering && sync_.waiters >= sync_.peak_waiters) sync_.arrive_cv.NotifyAll();
  }
  struct Leave {
    SyncState& s;
    std::unique_lock<std::mutex>& g;
    bool append;
    ~Leave() {
      if (!append) return;
      if (!g.owns_lock()) g.lock();  // g outlives this (declared before it)
      s.waiters--;
    }
  } leave{sync_, g, append};
  bool gathered = false;
  // A gatherer that returns without leading lets the appends that waited on
  // its gathering look again (one that leads wakes them when its sync ends).
  auto done = [&](Status s) {
    if (gathered) sync_.done_cv.NotifyAll();
    return s;
  };
  // Group commit: one caller at a time leads a sync; the others wait for it
  // to end, then return if it covered them or lead the next one, which
  // covers everything appended while they waited.
  for (;;) {
    if (!poison_.ok()) return done(Status::Poisoned("an earlier sync failed: " + poison_.message()));
    if (!active_) return done(Status::Closed("the store is closed"));
    const bool data_pending = sync_.durable_sequence.load() < need_below;
    const bool frontier_pending = sync_.recorded_end < sync_.synced_end;
    // A durable append whose event an earlier sync covered is done: it does
    // not sync again just to record the frontier.
    if (!data_pending && (!frontier_pending || !record_frontier)) return done(Status::OK());
    if (!sync_.syncing && !sync_.gathering) {
      if (!append || gathered || sync_.waiters >= sync_.peak_waiters) break;
      // Several writers (threads, client processes) were appending durably
      // at once lately, and fewer wait now: the others are on their way
      // back with their next append. Waiting a little for them lets one
      // sync cover them all, instead of the writers splitting into cohorts
      // that alternate between two syncs.
      sync_.gathering = true;
      const int64_t until = MonoMicros() + std::min(kGatherMaxUs, std::max<int64_t>(sync_.last_took_us, 1));
      for (int64_t now = MonoMicros(); sync_.waiters < sync_.peak_waiters && now < until; now = MonoMicros())
        sync_.arrive_cv.WaitForMicros(g, static_cast<uint64_t>(until - now));
      sync_.gathering = false;
      gathered = true;
      // No wake-up here: the appends that found us gathering wait for the
      // sync this thread leads next, without releasing mu_ (done() covers
      // the ways out that lead none).
      continue;
    }
    WaitSyncDone(g);
  }
  sync_.syncing = true;
  std::shared_ptr<Segment> seg = active_;
  // A consistent pair: every frame below `end` is written, and they are the
  // events below next_seq (a roll, which changes the segment, holds mu_).
  uint64_t end, next_seq;
  PublishedEnd(&end, &next_seq);
  // Record the frontier the previous sync established: it is already
  // durable, so this sync makes the record durable without ever claiming
  // bytes that a crash during this sync could lose.
  // A record that cannot be written fails this sync (below: poison).
  Status recorded;
  if (sync_.recorded_end < sync_.synced_end) {
    recorded = seg->WriteFrontier(sync_.synced_end, sync_.synced_next_seq, kFrontierOpen);
    if (recorded.ok()) sync_.recorded_end = sync_.synced_end;
  }
  // The writer stores only at or past the published end: it is done with
  // every page below `end`.
  seg->ReleaseWritten(end);
  sync_.flush_requested.store(false, std::memory_order_relaxed);
  g.unlock();
  const int64_t started = MonoMicros();
#ifdef CAUSEWAY_CANARY_ACK_BEFORE_FSYNC
  Status s = recorded;  // planted bug (reliability canary): acknowledge without syncing
#else
  Status s = recorded.ok() ? seg->Sync(options_.sync_mode == SyncMode::kAll ? SyncMode::kAll : SyncMode::kData) : recorded;
#endif
#ifdef CAUSEWAY_CANARY_IGNORE_FSYNC_ERROR
  if (!s.ok()) s = seg->Sync(SyncMode::kData);  // planted bug (reliability canary): retry a failed fsync and go on
#endif
  const int64_t took = MonoMicros() - started;
  g.lock();
  sync_.syncing = false;
  sync_.syncs++;
  sync_.sync_log.Add(took);
  sync_.last_took_us = took;
  sync_.done_cv.NotifyAll();
  if (!s.ok()) {
    // fsyncgate: after a failed fsync the kernel may have dropped the dirty
    // pages, so a retry could "succeed" without the data. Fail stop.
    sync_.errors++;
    Poison(s);
    return Status::Poisoned("sync failed: " + s.message() + "; the store refuses writes until reopened");
  }
  sync_.last_sync_us = WallMicros();
  AdvanceDurable(next_seq);
  if (seg == active_ && end > sync_.synced_end) {
    sync_.synced_end = end;
    sync_.synced_next_seq = next_seq;
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
    if (role() == Role::kReadOnly) return Status::OK();
  }
  if (role() == Role::kClient) {
    Status s = ForwardSync();
    if (s.code() != Status::Code::kNotFound || role() != Role::kWriter) return s;
    // NotFound: this process took the writer role meanwhile; sync here.
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
  while (!sync_.stop_flusher) {
    // Until asked or sync_every_ms has passed; a spurious wake-up waits out the rest.
    const uint32_t every = std::max<uint32_t>(1, options_.sync_every_ms);
    const uint64_t deadline = MonotonicMillis() + every;
    for (uint64_t now = MonotonicMillis(); now < deadline; now = MonotonicMillis()) {
      if (sync_.stop_flusher || sync_.flush_requested.load(std::memory_order_relaxed)) break;
      sync_.flush_cv.WaitFor(g, static_cast<uint32_t>(deadline - now));
    }
    if (sync_.stop_flusher) break;
    if (!poison_.ok()) break;
    if (options_.sync_mode == SyncMode::kNone) {
      sync_.flush_requested.store(false, std::memory_order_relaxed);
      continue;
    }
    const uint64_t target = NextSequence();
    const bool work = sync_.durable_sequence.load() < target || sync_.recorded_end < sync_.synced_end;
    if (!work) {
      sync_.flush_requested.store(false, std::memory_order_relaxed);
      continue;
    }
    g.unlock();
    SyncNow(target, true);  // a failure poisons the store; the loop then ends
    g.lock();
  }
}

}  // namespace causeway
