// The core store: ties segments, recovery, the index and the flusher
// together. Plain C++ with no Node-API; every fallible call returns Status.
//
// Threads: any thread may call the public methods. Appends take no lock:
// producers queue through the lock-free AppendRing, and whichever holds the
// combiner role writes the frames and the index (the writer). Readers take
// `mu_`, the reader lock, and see only what the writer has published (see
// concurrent.h); `mu_` also guards the sync state (sync_). Other work that must not
// overlap an append (close, compaction's swap, stats) takes the combiner role
// first (WriterRole), then `mu_`. The one append that fills a segment takes
// `mu_` to seal it and start the next. The flusher syncs without `mu_`.
//
// Where the methods live: store.cc (open, close, checkpoint, listeners),
// append.cc (the combiner), durability.cc (roll, seal, sync, the flusher),
// read.cc (every read path, stats, names), recovery.cc, compaction.cc
// (with retired.cc, the files retention leaves), snapshot.cc and refresh.cc.
#pragma once

#include <time.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "aggregate.h"
#include "append_types.h"
#include "compaction.h"
#include "cond_var.h"
#include "durations.h"
#include "dir_lock.h"
#include "format.h"
#include "footer.h"
#include "index.h"
#include "ring.h"
#include "segment.h"
#include "status.h"
#include "store_reports.h"
#include "sync_state.h"

namespace causeway {

struct CheckpointHeader;
class IndexPart;
class PartBuilder;

// Wall-clock microseconds since the Unix epoch: event timestamps, sync times.
inline int64_t WallMicros() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

struct StoreOptions {
  std::string dir;
  uint64_t segment_max_bytes = 64ull << 20;
  uint64_t sync_every_events = 1000;
  uint32_t sync_every_ms = 10;
  SyncMode sync_mode = SyncMode::kData;
  uint32_t max_payload_bytes = 16u << 20;
  bool read_only = false;
  uint32_t subscriber_capacity = 65536;  // broadcast ring slots: how far a subscriber may lag
  // Read-only only: never refuse the open; skip damaged frames, resync after
  // them, and list what could not be read (Stats().damage). For verification.
  bool salvage = false;
  // Mode of every file the store creates (directories: DirModeFor), less the umask.
  uint32_t file_mode = platform::kPrivateFileMode;
  // Several processes (store_link.cc): when another process holds the
  // writer role, open as its client instead of refusing; as the writer,
  // serve clients. Files then never shrink (a client maps them).
  bool shared = false;
  uint32_t writer_timeout_ms = 10000;  // a client's call gives up after this (WriterUnavailable)
};

// Who does a store's writes: this process (kWriter), the writer process
// through the writer link (kClient), or nobody (kReadOnly).
enum class Role : uint8_t { kWriter, kClient, kReadOnly };

class WriterServer;
class WriterLink;

// Told when events are published. Armed by its owner; fired (and disarmed)
// once per arming, from whichever thread appended. Notify must not block.
class Listener {
 public:
  virtual ~Listener() = default;
  virtual void Notify() = 0;
  std::atomic<bool> armed{false};
};

class Store {
 public:
  static Status Open(const StoreOptions& options, std::unique_ptr<Store>* out);
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  ~Store();

  // Syncs, seals the active segment and releases the lock. Idempotent.
  Status Close();
  bool closed() const { return closed_.load(std::memory_order_acquire); }

  Status InternEntity(const std::string& name, uint32_t* id);
  Status InternScope(const std::string& name, uint32_t* id);

  // With `durable`, returns once the event is synced (its receipt says
  // durable). A refusal's details go to *error when given (see AppendError).
  Status Append(const AppendRequest& req, Receipt* out, bool durable = false, AppendError* error = nullptr);
  // All of `n` items or none, also across a crash. With a condition, nothing
  // is written and ConditionFailed returned when an event matches it. With
  // `durable`, returns once the last item is synced (every receipt durable).
  // A replica's append (replica_append.cc): `n` frames of another store,
  // back to back at `bytes` (each padded to 8), appended as one batch with
  // their ids, times, idempotency digests and hashes, byte for byte. Each
  // must continue this log exactly (sequence, clock, hash chain, batch
  // bounds, one timestamp per batch): otherwise InvalidArgument and nothing
  // is written. REQUIRES: this process is the writer.
  Status AppendFrames(const uint8_t* bytes, size_t len, size_t n, Receipt* out, bool durable);
  Status AppendBatch(const AppendRequest* items, size_t n, Receipt* out, const AppendCondition* condition = nullptr,
                     bool durable = false, AppendError* error = nullptr);

  // Returns once every event appended before the call is durable and the
  // segment header records that frontier (two fdatasyncs when work is pending).
  Status Sync();
  // Returns once the event with this sequence is durable.
  Status WaitDurable(uint64_t sequence);

  Status QueryRecords(const RegionFilter& filter, const Allocator& alloc, size_t* count);
  // Windowed aggregation over the events matching the filter (aggregate_store.cc):
  // columns only, or each frame CRC-checked when the spec reads payloads,
  // tags or event time. Holds the reader lock for the walk.
  Status Aggregate(const RegionFilter& filter, const AggregateSpec& spec, AggregateResult* out);
  // *clock: the entity's clock as readers see it (0 for an entity with no
  // event, or none by that name), from the index alone: no frame is read.
  Status EntityClock(std::string_view entity, uint32_t* clock);
  // For verification: like QueryRecords, but a frame that fails its check is
  // left out and reported (sequence and where) instead of failing the read.
  struct Damaged {
    uint64_t sequence;
    std::string message;
  };
  Status ScanRecords(uint64_t from_sequence, uint64_t limit, const Allocator& alloc, size_t* count,
                     std::vector<Damaged>* damaged);
  // Events whose correlation id is `id` (its root included) / whose causation id is `id`.
  Status CorrelationRecords(const uint8_t* id, const Allocator& alloc, size_t* count);
  Status EffectRecords(const uint8_t* id, const Allocator& alloc, size_t* count);
  // Lossy subscription read: up to `max` events matching `filter` from broadcast
  // position *pos on; advances *pos, and adds to *lagged the events skipped
  // because the ring overwrote them before this subscriber read them.
  Status SubscriptionPoll(const RegionFilter& filter, uint64_t* pos, uint64_t max, const Allocator& alloc,
                          uint64_t* lagged, size_t* count);
  // The broadcast position a new subscriber starts from (now).
  uint64_t BroadcastHead() const { return ring_.head(); }

  void AddListener(Listener* l);
  void RemoveListener(Listener* l);
  // Arms `l`: it is notified after the next publish (at once if `seen_sequence` is behind).
  void Arm(Listener* l, uint64_t seen_next_sequence);
  uint64_t NextSequence() const;
  uint64_t DurableSequence() const;  // every event below it is synced
  Status GetRecord(const uint8_t* event_id, const Allocator& alloc, bool* found);
  Status RecordsBySequence(uint64_t from, uint64_t limit, const Allocator& alloc, size_t* count);
  Status Stats(StoreStats* out);
  // Counters and the sync/roll durations added since the cursors (read.cc).
  Status Metrics(uint64_t sync_from, uint64_t roll_from, MetricsReport* out);
  Status EntityName(uint32_t id, std::string* out);
  Status ScopeName(uint32_t id, std::string* out);

  const StoreOptions& options() const { return options_; }
  // Acquire: pairs with the release in TryPromote (the recovered state is visible).
  Role role() const { return role_.load(std::memory_order_acquire); }
  // Clients: another process's writes up to `next_sequence` are in this process's view (a reply or
  // note named them). mapped_only: only complete frames mapped already, no file listing (store_link.cc).
  Status CatchUp(uint64_t next_sequence, bool mapped_only = false);
  // Clients and read-only stores: a watch note from the writer (PROTOCOL.md):
  // catch up when it names events not mapped yet, then take its durable
  // sequence (everything below it is synced).
  void OnWriterNote(uint64_t next_sequence, uint64_t durable_sequence);
  // Clients and read-only stores: the writer says every event below
  // `durable_sequence` is synced. Only ever raises this process's view, and
  // never past the events it has mapped.
  void NoteDurable(uint64_t durable_sequence);
  // The writer server's listener, notified (under mu_) each time the durable
  // sequence advances, so watching clients learn it; nullptr to stop.
  void SetDurableListener(Listener* l);
  // Clients: takes the writer role if the writer's lock is free (Locked if
  // not), recovers the log as a writer and serves the other clients.
  Status TryPromote();
  // Writers: how many client processes are connected.
  uint64_t ClientCount() const;

  // Rewrites sealed segments (see compaction.h). Appends continue meanwhile
  // and pause only while the index is rebuilt over the new generation.
  // Before its commit point it stops on plan.control.cancel (Cancelled) or
  // a concurrent Close (Closed), removing its replacement; Close waits for it.
  Status Compact(const CompactionPlan& plan, CompactionReport* report);
  // Copies the store to `dest` (see snapshot.cc) while appends go on.
  // Cancelled (control.cancel, or Close) before the rename into place, it
  // removes what it wrote and returns Cancelled (Closed).
  Status Snapshot(const std::string& dest, SnapshotReport* report, const LongOpControl& control = {});
  // Read-only stores: picks up what the writer appended (or a compaction it
  // finished) since the open or the last refresh. *added: new events.
  Status Refresh(uint64_t* added);
  Status Segments(std::vector<SegmentInfo>* out);
  // Sealed segments a compaction would take: count, last id, sequence range.
  Status SealedInfo(uint64_t* segments, uint64_t* last_id, uint64_t* from_sequence, uint64_t* to_sequence);

 private:
  explicit Store(StoreOptions o);  // store.cc, where the link classes are complete

  Status Recover(bool use_checkpoint = true);
  bool writer() const { return role() == Role::kWriter; }
  // store_link.cc: a client's writes, carried to the writer.
  Status ForwardAppend(const AppendRequest* items, size_t n, Receipt* out, const AppendCondition* condition,
                       bool durable, AppendError* error);
  Status ForwardSync();
  Status ForwardCompact(const CompactionPlan& plan, CompactionReport* report);
  Status StartServing();  // writer: listen for clients
  void StopLinks();       // Close: the link's monitor, then the server
  // Zeros [from, size) of the active segment where not zero already: a cut
  // that keeps the file's size (another process may map it).
  void ZeroTail(Segment& s, uint64_t from);
  // Rolls a committed compaction forward (or an uncommitted one back); at
  // open, after Compact swapped in the replacement, and at Close. Leaves
  // pending_compaction_ set when it must wait (see there).
  Status FinishCompaction();
  // FinishCompaction for a writer whose segments_ already hold the
  // replacement: it also gives the replacement's Segment its final path.
  Status FinishPendingCompaction();
  Status RebuildIndex();          // REQUIRES: mu_ held
  Status LoadRetiredKeys();
  Status LoadRetiredHeads();
  void ApplyRetiredHeads();       // REQUIRES: mu_ held or not yet shared
  // *found: a receipt for this digest is in *out. Corruption when its frame fails its check.
  Status FindIdempotent(const Index::Digest& d, Receipt* out, bool* found) const;  // REQUIRES: combiner role (the writer)
  bool LoadCheckpoint(const std::vector<std::shared_ptr<Segment>>& segs, CheckpointHeader* ck);
  Status LoadSegments(bool use_checkpoint);  // Recover's body: every row, ids deferred
  void RemoveStrayIndexFiles(const std::vector<std::string>& names, const std::vector<uint64_t>& ids);
  Status SaveCheckpoint();  // REQUIRES: mu_ held, active segment sealed
  void CheckpointHeaderNow(CheckpointHeader* h) const;  // the segments as the index holds them (mu_ held)
  void MaybeCheckpoint();  // combiner: when due, a checkpoint for the builder thread to write
  Status PrepareActive(uint64_t last_id, uint64_t next_sequence);
  Status Roll();                              // REQUIRES: mu_ held
  // index_files.cc: sealed segments' index files answer for their event ids.
  bool FileBacked(uint32_t slot) const;  // sealed and not the active segment
  bool Resumes(uint64_t sealed_end) const;  // small: reopened for appends; else Close files it
  bool AttachPart(uint32_t slot, const std::shared_ptr<const IndexPart>& part);  // when it has the slot's rows
  Status PlaceIds();             // an open's last step: each row's id from a file or its frame
  void SubmitIndexPart(uint32_t slot);   // writer: build that segment's file in the background
  void AttachIndexParts();       // writer: hand the files built since to the index
  void SealIndexFile();          // Close (mu_ held): the just-sealed active segment's file, built and attached
  PartBuilder& Builder();        // writer: part_builder_, made on first use
  void AttachExistingParts();    // writer, after RebuildIndex: files that exist, the rest submitted
  void AttachSealedParts();      // a reader following a writer (mu_ held): the files it has built since
  Status OpenIndexPart(const Segment& seg, std::shared_ptr<const IndexPart>* out, bool header_only = false) const;
  // Open: segment `slot`'s rows from its index file, if it opens, checks and follows next_seq.
  bool LoadIndexFile(const Segment& seg, uint32_t slot, uint64_t next_seq);
  // Writer: hands the builder the files not yet checked (to check, rebuild if
  // they fail), or with rebuild_failed those whose file failed since.
  void CheckIndexFiles(bool rebuild_failed);
  std::unique_ptr<PartBuilder> part_builder_;  // writer: made on first use by Builder()
  std::vector<std::shared_ptr<const IndexPart>> opened_parts_;  // an open's: by slot, files the checkpoint relies on
  Status SealActive();                        // REQUIRES: mu_ held
  Status CheckWritable() const;               // REQUIRES: mu_ held
  Status CheckWritableForAppend();             // REQUIRES: writer (takes mu_ only to word a poison error)
  void Poison(const Status& s);                // REQUIRES: mu_ held
  // Writer: publishes the end of the frames and the next sequence, as a pair.
  void PublishEnd();
  // Anyone: the last pair published (a consistent one).
  void PublishedEnd(uint64_t* end, uint64_t* next_sequence) const;
  // Readers: takes the reader lock and frees index tables growth replaced.
  std::unique_lock<std::mutex> ReadLock() const;
  // The combiner role, for work that must not overlap an append. Taken
  // before mu_; the release applies appends that queued meanwhile.
  class WriterRole {
   public:
    explicit WriterRole(Store* s);
    ~WriterRole();
   private:
    Store* s_;
  };
  // Makes sequences < need_below durable; with record_frontier, also syncs
  // once more when only the header's frontier record is behind.
  Status SyncNow(uint64_t need_below, bool record_frontier);
  // Writer: everything below next_seq is synced now. REQUIRES: mu_ held
  void AdvanceDurable(uint64_t next_seq);
  // Non-writers: what the mapped files prove synced (a sealed segment whole,
  // the active one up to the frontier its header records, which lags the
  // writer's syncs by at most one). REQUIRES: mu_ held
  uint64_t FrontierDurable() const;
  void FlusherLoop();
  void NoteAppended();                        // REQUIRES: mu_ held
  Status WriteRecords(const std::vector<Row>& rows, const Allocator& alloc);  // REQUIRES: mu_ held
  // The same for frames already checked (views[i] is rows[i]'s). REQUIRES: mu_ held
  Status WriteViews(const std::vector<Row>& rows, const std::vector<FrameView>& views, const Allocator& alloc);
  void NotifyListeners();
  void Combine();                                  // REQUIRES: combiner role
  Status ApplyAppend(const PendingAppend& p);      // REQUIRES: combiner role
  // ApplyAppend's steps, in order (append.cc; 3 and 4 append_frames.cc). REQUIRES: combiner role.
  Status CheckCondition(const PendingAppend& p);                   // 0. a condition's boundary (takes mu_)
  Status FindDuplicates(const PendingAppend& p, bool* all_known);  // 1. idempotency keys
  Status ValidateItems(const PendingAppend& p, uint64_t* total, bool* extended);  // 2. ids, sizes, clocks
  Status CheckReplicaFrame(const PendingAppend& p, size_t i, uint32_t clock, const uint8_t* prev_hash) const;  // 2b.
  bool WritesThroughFile(const PendingAppend& p, uint64_t total) const;  // 3. pwrite, or stores through the mapping
  uint64_t LayOutFrames(const PendingAppend& p, uint8_t* dst);     // 3. the frames (at dst); returns their end
  Status WriteFramesThrough(uint64_t end);                         // 3b. those frames, through the file
  void PublishFrames(const PendingAppend& p, uint64_t end);        // 4. index, footer, published end
  Status FrameAt(Row r, FrameView* v) const;  // REQUIRES: mu_ held, or the writer; CRC checked
  void FillReceipt(const FrameView& v, Receipt* out) const;
  // Adds a frame read back from segment `slot` at `off` to the index (open,
  // refresh, a client's catch-up, a rebuild). REQUIRES: mu_ held or not yet shared.
  void IndexFrame(const FrameView& v, uint32_t slot, uint64_t off);
  void NewEventId(int64_t ts_us, uint8_t* out);
  int64_t NextTimestamp();
  static Status ResolveId(void* ctx, Row row, const uint8_t** id);  // checks the frame (CRC)
  static Status ResolveFrame(void* ctx, Row row, FrameView* v);     // the same, for filters on event time

  const StoreOptions options_;
  DirLock lock_;
  std::atomic<Role> role_{Role::kWriter};
  mutable std::mutex link_mu_;            // guards server_ (a promotion sets it on the monitor's thread)
  std::unique_ptr<WriterServer> server_;  // writer with options_.shared: clients' requests
  std::unique_ptr<WriterLink> link_;      // client, read-only: the connection to the writer
  Listener* durable_listener_ = nullptr;  // GUARDED_BY(mu_): see SetDurableListener
  std::atomic<bool> closed_{false};

  mutable std::mutex mu_;  // the reader lock; also guards the sync state (sync_)
  // Segments in id order; the last is the active one when writable.
  // Changed only with mu_ held, by the writer or with the combiner role:
  // readers read them under mu_, the writer without.
  std::vector<std::shared_ptr<Segment>> segments_;
  std::shared_ptr<Segment> active_;
  uint64_t write_pos_ = kSegmentHeaderSize;          // writer only; others read PublishedEnd
  uint64_t next_sequence_ = 0;                       // writer only; others read PublishedEnd
  // Seqlock over the published (end, next sequence) pair: odd while the
  // writer changes it. Readers retry until they read one even version twice.
  std::atomic<uint64_t> pub_version_{0}, pub_end_{kSegmentHeaderSize}, pub_next_{0};
  int64_t last_timestamp_us_ = 0;                    // writer only
  Index index_;                                      // written by the writer; read under mu_
  Status poison_;                                    // GUARDED_BY(mu_): first failed sync
  std::atomic<bool> poisoned_{false};                // poison_ is set: lets the writer check without mu_
  RetiredKeys retired_keys_;                         // the writer's; swapped with the role and mu_
  RetiredHeads retired_heads_;                       // the same
  // A committed compaction whose files are not yet in their final place: a
  // read-only store never moves them, and a writer waits while another
  // process still has a source open or mapped where that blocks renaming
  // over it or removing it (Windows without POSIX-semantics rename and
  // delete, as under Wine or before Windows 10 1809). The store then reads
  // the committed layout in place: the replacement (under its .compact name
  // until renamed) stands for sources first..last. last == 0: none pending.
  struct PendingCompaction {
    uint64_t first = 0, last = 0;
    std::string replacement;  // "<first>.cwseg.compact" when not yet renamed
  } pending_compaction_;      // changed only under compaction_mu_ or before the store is shared
  std::mutex compaction_mu_;                         // one compaction or snapshot at a time; before mu_
  uint64_t recovered_torn_bytes_ = 0;
  bool opened_from_checkpoint_ = false;
  uint64_t sealed_since_checkpoint_ = 0, checkpoint_bytes_ = 0;  // writer: bytes sealed since the last checkpoint; its size
  uint64_t footers_loaded_ = 0;  // sealed segments whose rows came from their footer at open
  uint64_t index_files_loaded_ = 0;  // sealed segments served by their index file from the open on, frames unread
  std::vector<std::string> damage_;  // salvage opens: regions that could not be read
  uint64_t read_end_ = kSegmentHeaderSize;  // read-only: end of the frames indexed in the last segment
  int64_t open_micros_ = 0;
  uint64_t rng_state_[2] = {};
  // Reused by AppendBatch so appends allocate nothing. Writer only.
  std::vector<Index::Digest> scratch_digests_;
  std::vector<uint32_t> scratch_clocks_;
  std::vector<uint32_t> scratch_prev_item_;
  // The active segment's footer, fed each frame as appended; whole when it has all (a segment this process created).
  FooterWriter footer_;        // writer only
  bool footer_whole_ = false;  // writer only
  std::vector<uint32_t> batch_last_;  // per entity id: its last item in the batch being laid out, else UINT32_MAX
  std::vector<std::pair<FrameView, uint64_t>> scratch_laid_;
  std::vector<uint8_t> scratch_frames_;  // frames before they go through the file (WritesThroughFile)
  SyncState sync_;  // durability.cc: group commit, the flusher (sync_state.h)
  void WaitSyncDone(std::unique_lock<std::mutex>& g);  // REQUIRES: g holds mu_

  // Published events, for lossy subscribers. Written under mu_ (one producer).
  BroadcastRing ring_;
  // Listeners, as an immutable list the writer reads without a lock.
  // Add/Remove (under listeners_mu_) publish a new list, then wait until no
  // notifier is counted in notifiers_ before freeing the old one: whoever
  // still walks it counted itself before loading it.
  std::mutex listeners_mu_;
  std::atomic<const std::vector<Listener*>*> listeners_{nullptr};
  std::atomic<int> notifiers_{0};
  void ReplaceListeners(std::vector<Listener*> next);  // REQUIRES: listeners_mu_ held
  // Listeners armed: lets an append skip the list when nobody waits.
  std::atomic<int> armed_{0};
  // Producers reserve their place here without a lock; the thread holding
  // combining_ applies queued requests in ticket order.
  AppendRing<PendingAppend> appends_{1024};
  std::atomic<bool> combining_{false};
};

}  // namespace causeway
