// Several processes, one store: a client's writes go to the writer over the
// writer link (writer_link.h, writer_server.h, PROTOCOL.md); a client reads
// its own mapped view, caught up after each write and each notification;
// a client takes the writer role when the writer is gone.
#include <algorithm>

#include "link_wire.h"
#include "log_reader.h"
#include "platform.h"
#include "store.h"
#include "writer_link.h"
#include "writer_server.h"

namespace causeway {

Status Store::ForwardAppend(const AppendRequest* items, size_t n, Receipt* out, const AppendCondition* condition,
                            bool durable, AppendError* error) {
  if (!link_) return Status::WriterUnavailable("this store has no link to a writer");
  std::vector<std::string> entities(n), scopes(n);
  {
    std::lock_guard<std::mutex> g(mu_);
    for (size_t i = 0; i < n; i++) {
      if (items[i].entity >= index_.entity_count() || items[i].scope >= index_.scope_count())
        return Status::InvalidArgument("append item " + std::to_string(i) + " names an entity or scope id this store never gave");
      entities[i] = index_.EntityName(items[i].entity);
      scopes[i] = index_.ScopeName(items[i].scope);
    }
  }
  std::string body = link::EncodeAppend(items, n, entities, scopes, condition, durable);
  if (body.size() > link::kMaxMessage)
    return Status::Full("the batch takes " + std::to_string(body.size()) + " bytes, over the writer link's " +
                        std::to_string(link::kMaxMessage) + "-byte message limit");
  std::string reply;
  CW_RETURN_IF_ERROR(link_->Call(body, n, durable, &reply));
  Status remote;
  CW_RETURN_IF_ERROR(link::DecodeAppendReply(reinterpret_cast<const uint8_t*>(reply.data()), reply.size(), &remote, out,
                                             n, error));
  if (!remote.ok()) return remote;
  // Read your writes: the view here holds the events before append returns.
  uint64_t top = 0, synced = 0;
  for (size_t i = 0; i < n; i++) {
    top = std::max(top, out[i].sequence + 1);
    // The writer marks a receipt durable only when everything up to it is synced.
    if (out[i].durable) synced = std::max(synced, out[i].sequence + 1);
  }
  CW_RETURN_IF_ERROR(CatchUp(top));
  if (synced) NoteDurable(synced);
  return Status::OK();
}

Status Store::ForwardSync() {
  if (!link_) return Status::WriterUnavailable("this store has no link to a writer");
  std::string reply;
  CW_RETURN_IF_ERROR(link_->Call(link::EncodeSync(), 0, true, &reply));
  Status remote;
  uint64_t durable;
  CW_RETURN_IF_ERROR(
      link::DecodeSyncReply(reinterpret_cast<const uint8_t*>(reply.data()), reply.size(), &remote, &durable));
  if (!remote.ok()) return remote;
  // The writer synced at least what this view holds: after sync() returns,
  // stats and durable flags here say so, without waiting for a note.
  CW_RETURN_IF_ERROR(CatchUp(durable));
  NoteDurable(durable);
  return Status::OK();
}

Status Store::ForwardCompact(const CompactionPlan& plan, CompactionReport* report) {
  if (!link_) return Status::WriterUnavailable("this store has no link to a writer");
  std::string reply;
  CW_RETURN_IF_ERROR(link_->Call(link::EncodeCompact(plan), 0, true, &reply));
  Status remote;
  CW_RETURN_IF_ERROR(
      link::DecodeCompactReply(reinterpret_cast<const uint8_t*>(reply.data()), reply.size(), &remote, report));
  if (!remote.ok()) return remote;
  return CatchUp(UINT64_MAX);  // the new files
}

// mapped_only serves a client waiting for a batch's reply (WriterLink::Call):
// the batch's frames appear in the mapping before the writer has indexed
// them and answered, so indexing them here meanwhile overlaps the work that
// reading one's own writes needs after the reply. It never lists files (a
// roll is the reply's CatchUp's to find). It does wait for mu_: no holder
// of mu_ waits for a forwarded call (Close stops the link without it), and
// try_lock would raise the binary's glibc floor to 2.34 (glibc_floor.cc).
Status Store::CatchUp(uint64_t target, bool mapped_only) {
  uint64_t added = 0;
  {
    std::unique_lock<std::mutex> g(mu_);
    if (closed()) return Status::Closed("the store is closed");
    if (writer() || next_sequence_ >= target) return Status::OK();
    if (!segments_.empty() && pending_compaction_.last == 0) {
      // Fast path: new frames of the file already mapped (the writer's
      // active segment, preallocated, so the mapping covers them).
      const uint64_t before = next_sequence_;
      const uint32_t slot = static_cast<uint32_t>(segments_.size() - 1);
      const Segment& seg = *segments_[slot];
      ScanOutcome out = ScanFrames(seg.data(), read_end_, seg.size(), next_sequence_,
                                   [&](const FrameView& v, uint64_t off) { IndexFrame(v, slot, off); });
      read_end_ = out.committed_end;
      next_sequence_ = out.next_sequence;
      // durable_sequence stays: mapped frames are not synced ones. The
      // writer's notes and replies raise it (NoteDurable). Nothing new (a
      // waiting client looks every few microseconds): readers keep their pair.
      if (next_sequence_ > before) {
        PublishEnd();
        ring_.PublishRange(before, next_sequence_ - before);
      }
      added = next_sequence_ - before;
      // A clean end (unwritten space) with no target: nothing more to read.
      // Anything else (a footer: the writer rolled) needs the file list.
      const bool clean = out.stop == FrameCheck::kEnd && !out.pending_batch;
      if (mapped_only || next_sequence_ >= target || (target == UINT64_MAX && clean)) {
        g.unlock();
        if (added) NotifyListeners();
        return Status::OK();
      }
    }
    if (mapped_only) return Status::OK();
  }
  if (added) NotifyListeners();
  return Refresh(&added);
}

void Store::OnWriterNote(uint64_t next_sequence, uint64_t durable_sequence) {
  // A note about events this process already mapped (its own appends,
  // caught up when their replies came) needs no catch-up, only the durable
  // sequence: most notes, for a client appending in a loop.
  if (next_sequence > NextSequence()) (void)CatchUp(UINT64_MAX);
  NoteDurable(durable_sequence);
}

void Store::NoteDurable(uint64_t durable_sequence) {
  std::lock_guard<std::mutex> g(mu_);
  if (closed() || writer()) return;  // a writer knows its own
  // Never past the view: a durable flag is read from this process's events.
  const uint64_t d = std::min(durable_sequence, next_sequence_);
  if (d > sync_.durable_sequence.load()) sync_.durable_sequence.store(d);
}

uint64_t Store::FrontierDurable() const {
  if (segments_.empty()) return 0;
  // Every segment before the last is sealed, and a seal syncs first; the
  // last one's frontier record says how far its syncs had got (no record
  // yet: none of it is known synced).
  const Segment& last = *segments_.back();
  return std::min(next_sequence_, std::max(last.base_sequence(), last.frontier().next_sequence));
}

Status Store::TryPromote() {
  if (role() != Role::kClient) return Status::OK();
  if (closed()) return Status::Closed("the store is closed");
  CW_RETURN_IF_ERROR(lock_.Upgrade(options_.file_mode));  // Locked: a writer still holds it
  Status s;
  uint64_t before = 0;
  {
    WriterRole wr(this);
    std::unique_lock<std::mutex> g(mu_);
    before = next_sequence_;
    if (closed()) s = Status::Closed("the store is closed");
    auto reset = [&] {
      segments_.clear();
      active_.reset();
      index_.ClearKeepingNames();
      retired_keys_.clear();
      retired_heads_.clear();
      footer_whole_ = false;
      recovered_torn_bytes_ = 0;
      write_pos_ = kSegmentHeaderSize;
      read_end_ = kSegmentHeaderSize;
      next_sequence_ = 0;
    };
    if (s.ok()) {
      // Release: a thread that sees the writer role sees the state below
      // once it takes the combiner role (held here) or mu_.
      role_.store(Role::kWriter, std::memory_order_release);
      reset();
      // As an open after a crash: cut a torn tail (zeroing, never shrinking: the others map the file).
      s = Recover(false);
      if (!s.ok()) {
        role_.store(Role::kClient, std::memory_order_release);
        reset();
        (void)Recover(false);
      }
    }
    if (!s.ok()) lock_.Downgrade();
    if (next_sequence_ < before) before = next_sequence_;
    PublishEnd();
    if (next_sequence_ > before) ring_.PublishRange(before, next_sequence_ - before);
    if (s.ok()) {
      sync_.stop_flusher = false;
      sync_.flusher = std::thread([this] {
        platform::NameThisThread("cw-flush");
        FlusherLoop();
      });
    }
  }
  if (!s.ok()) return s;
  NotifyListeners();
  return StartServing();
}

Status Store::StartServing() {
  std::unique_ptr<WriterServer> server;
  CW_RETURN_IF_ERROR(WriterServer::Start(this, &server));
  std::lock_guard<std::mutex> g(link_mu_);
  server_ = std::move(server);
  return Status::OK();
}

uint64_t Store::ClientCount() const {
  std::lock_guard<std::mutex> g(link_mu_);
  return server_ ? server_->clients() : 0;
}

void Store::StopLinks() {
  if (link_) link_->Stop();  // joins the monitor: no promotion runs after this
  std::unique_ptr<WriterServer> server;
  {
    std::lock_guard<std::mutex> g(link_mu_);
    server = std::move(server_);
  }
  if (server) server->Stop();
}

}  // namespace causeway
