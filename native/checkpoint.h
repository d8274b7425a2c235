// The index checkpoint: "<dir>/index.ckpt", written on close so the next open
// loads the index instead of scanning every frame. It is a cache: it carries
// its own CRC, names the segment positions it covers, and is checked against
// the log at open (the last covered frame must be where it says, with the
// sequence it says). Anything missing, stale or damaged means a full scan,
// never a wrong answer.
//
// File: "CWCKPTv1" | u32 crc32c (masked) of everything after this field |
//       u64 body length | body (see checkpoint.cc for the body's fields).
#pragma once

#include <string>
#include <vector>

#include "index.h"
#include "status.h"

namespace causeway {

constexpr char kCheckpointName[] = "index.ckpt";

struct CoveredSegment {
  uint64_t id = 0;
  uint64_t base_sequence = 0;
  uint64_t end = 0;             // frames of this segment in the index end here
  uint64_t next_sequence = 0;   // sequence after the last covered frame
  uint64_t last_frame = 0;      // offset of the last covered frame (0 when none)
  int64_t created_us = 0;       // the segment header's creation time: which file this is
  uint8_t last_event_id[16] = {};  // id of the last covered frame: which frames these are
};

struct CheckpointHeader {
  std::vector<CoveredSegment> segments;
  int64_t last_timestamp_us = 0;
};

// Writes the checkpoint atomically (temp file and rename; no fsync: an open
// checks it against the log), created with `file_mode`.
Status WriteCheckpoint(const std::string& dir, const Index& index, const CheckpointHeader& header, uint32_t file_mode);
// The same in two steps: the file's bytes (under the writer role), then
// written without fsync (on any thread: a writer's periodic checkpoint goes
// to its builder thread; an open checks it against the log either way).
void EncodeCheckpoint(const Index& index, const CheckpointHeader& header, std::string* file);
Status WriteCheckpointFile(const std::string& dir, const std::string& file, uint32_t file_mode);
// Loads it into `index` (which must be empty). NotFound when absent;
// Corruption when it fails its checks (the caller then scans instead).
// *version: 2, or 1 for a file whose id table the caller must rebuild
// (Index::RebuildIds) before any lookup.
Status ReadCheckpoint(const std::string& dir, Index* index, CheckpointHeader* header, int* version);
// Removes it (before the log changes under it, e.g. compaction).
Status RemoveCheckpoint(const std::string& dir);

}  // namespace causeway
