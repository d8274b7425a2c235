// What the store reports: its stats, a snapshot's and a segment's figures,
// and how read paths hand matched events out (the caller's allocator).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace causeway {

struct StoreStats {
  uint64_t events = 0;
  uint64_t next_sequence = 0;
  uint64_t durable_sequence = 0;  // every sequence below this is synced
  uint64_t segments = 0;
  uint64_t bytes = 0;              // bytes of frames on disk, headers included
  uint64_t index_bytes = 0;
  uint64_t entities = 0, scopes = 0;
  int64_t last_sync_us = 0;
  uint64_t syncs = 0;
  uint64_t sync_errors = 0;
  uint64_t recovered_torn_bytes = 0;  // bytes cut from a torn tail at open
  bool opened_from_checkpoint = false;  // the index came from index.ckpt, not a full scan
  std::vector<std::string> damage;      // salvage opens: what could not be read, where
  uint64_t footers_loaded = 0;          // sealed segments loaded from their footers at open
  uint64_t index_files_checked = 0;     // of index_files: those whose body has been checked in this open
  uint64_t index_files_loaded = 0;      // sealed segments an open (without checkpoint) took from their index files
  uint64_t index_files = 0;             // sealed segments whose event ids their index file serves
  uint64_t index_file_bytes = 0;        // those files' bytes (mapped, not heap)
  int64_t open_micros = 0;              // how long Open took
  uint8_t role = 0;                     // Role: writer, client, read-only
  uint64_t clients = 0;                 // writers: client processes connected
};

// Copies matched events out: the caller's allocator returns `n` writable
// bytes. Record layout (documented in FORMAT.md, "Read records"):
//   +0 u32 record span (multiple of 8)  +4 u32 entity id  +8 u32 scope id
//   +12 u32 reserved  +16 the frame, as on disk
using Allocator = std::function<uint8_t*(size_t n)>;

constexpr size_t kRecordPrefix = 16;

struct SnapshotReport {
  uint64_t sequence = 0;  // the copy holds every event below this sequence
  uint64_t segments = 0, linked = 0, copied = 0, bytes = 0;
};

struct SegmentInfo {
  uint64_t id = 0, base_sequence = 0, next_sequence = 0, bytes = 0;
  bool sealed = false, active = false;
};

}  // namespace causeway
