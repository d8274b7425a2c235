// The store's durability state (durability.cc), kept apart from store.h.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

#include "cond_var.h"
#include "durations.h"
#include "format.h"

namespace causeway {

// Durability (durability.cc). Everything below durable_sequence is synced;
// synced_end is the active segment's synced offset, recorded_end the
// frontier its header records (one sync behind at most).
struct SyncState {
  bool syncing = false;                       // GUARDED_BY(mu_): a SyncNow is between capture and result
  // Group commit across threads and client processes (SyncNow): durable
  // appends waiting now, the most seen at once lately, and whether a leader
  // is gathering them before its sync.
  uint32_t waiters = 0;                       // GUARDED_BY(mu_)
  uint32_t peak_waiters = 0;                  // GUARDED_BY(mu_)
  int64_t peak_at_us = 0;                     // GUARDED_BY(mu_)
  bool gathering = false;                     // GUARDED_BY(mu_)
  int64_t last_took_us = 0;                   // GUARDED_BY(mu_): the last sync's duration
  CondVar arrive_cv;                          // with mu_: a durable append began waiting
  CondVar done_cv;                            // with mu_: a sync ended (or the store closed)
  CondVar flush_cv;                           // wakes the flusher (with mu_)
  std::atomic<uint64_t> durable_sequence{0};  // stored under mu_; the writer reads it for receipts
  uint64_t synced_end = kSegmentHeaderSize;    // GUARDED_BY(mu_)
  uint64_t synced_next_seq = 0;                // GUARDED_BY(mu_)
  uint64_t recorded_end = kSegmentHeaderSize;  // GUARDED_BY(mu_)
  std::atomic<bool> flush_requested{false};   // set by the writer without mu_
  bool stop_flusher = false;                  // GUARDED_BY(mu_)
  int64_t last_sync_us = 0;
  uint64_t syncs = 0, errors = 0, rolls = 0;
  DurationLog sync_log, roll_log;  // GUARDED_BY(mu_): how long each sync and roll took, for metrics
  std::thread flusher;
};

}  // namespace causeway
