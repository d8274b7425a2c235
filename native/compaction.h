// Compaction of sealed segments, and the marker protocol that makes it
// crash-safe. The active segment is never touched; appends go on meanwhile.
//
// Steps (a crash at any step leaves the old or the new generation, never a mix):
//  1. Remove the index checkpoint (it is about to describe the old files).
//  2. Write the replacement as "<first>.cwseg.compact" (through a .tmp name,
//     synced, sealed). Merge byte-copies frames; retention drops rejected
//     events (keyed ones go to "retired.keys" first, so their idempotency
//     keys stay known); tombstone keeps the frame with an empty payload,
//     flag 0x10 and the original content hash, so hash chains still link.
//  3. Write "compaction.marker" (first and last source id, the replacement's
//     creation stamp and end sequence) atomically: the commit point.
//  4. Swap the replacement (mapped under its .compact name) into the store
//     and drop the sources' mappings; then rename the replacement over the
//     first source and unlink the others.
//  5. Remove the marker.
// Open with a marker finishes steps 4-5 (roll forward); open with a
// ".compact" file and no marker deletes it (roll back). Where another
// process holds a source and the system refuses to rename over or unlink it
// (Windows without POSIX semantics), step 4 waits: the store reads the
// committed layout in place (pending_compaction_), and the next Compact,
// Close or open tries again.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "format.h"
#include "index.h"
#include "long_op.h"
#include "status.h"

namespace causeway {

enum class CompactionStrategy { kMerge, kRetention, kTombstone };

struct CompactionPlan {
  CompactionStrategy strategy = CompactionStrategy::kMerge;
  std::vector<uint64_t> rejected;  // sorted sequences the keep() predicate refused
  uint64_t up_to_segment = UINT64_MAX;  // compact sealed segments with ids up to this
  uint32_t min_segments = 2;
  // Progress in source bytes rewritten; cancellation honoured until the
  // marker is written (step 3), after which the compaction finishes.
  LongOpControl control;
};

struct CompactionReport {
  bool performed = false;
  std::string reason;  // why not, when not performed
  uint64_t segments_before = 0, segments_after = 0;
  uint64_t bytes_before = 0, bytes_after = 0;
  uint64_t events_dropped = 0, events_tombstoned = 0, events_kept = 0;
  uint64_t first_segment = 0, last_segment = 0;
};

constexpr char kCompactionMarker[] = "compaction.marker";
constexpr char kRetiredKeysName[] = "retired.keys";
constexpr char kRetiredHeadsName[] = "retired.heads";

// Idempotency digests of events retention dropped, with the dropped frame's
// header (enough to rebuild the original receipt).
using RetiredKeys = std::unordered_map<Index::Digest, std::array<uint8_t, kFrameHeaderSize>, Index::DigestHash>;
// Clock and content hash of entities whose newest event retention dropped.
using RetiredHeads = std::unordered_map<std::string, std::pair<uint32_t, std::array<uint8_t, 32>>>;
// Write "retired.keys" / "retired.heads" atomically, created with
// `file_mode` (retired.cc; Recover loads them).
Status WriteRetiredKeys(const std::string& dir, const RetiredKeys& keys, uint32_t file_mode);
Status WriteRetiredHeads(const std::string& dir, const RetiredHeads& heads, uint32_t file_mode);

}  // namespace causeway
