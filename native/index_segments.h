// One segment's rows as the index (index.h) holds them: from the segment's
// index file (index_part.h) once it is attached, else in memory, where the
// index's columns hold the rows and the segment's own postings list them.
// A sealed segment's rows leave memory when its file is attached: memory
// grows with the segments that have no file yet (the active one), not the log.
//
// Threads: as the index. The list of segments is immutable once published
// and replaced whole (release) when a segment starts or gets its file; the
// list it replaced, and a segment no list holds any more, wait in the
// index's RetireList until Reclaim.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "concurrent.h"
#include "index_part.h"

namespace causeway {

struct IndexSegment {
  uint32_t slot = 0;  // the store's segment list index
  Row first = 0;      // the segment's first row
  // From its file: rows [first, first + file->rows()). The file numbers
  // entities and scopes by name order; these map them to the index's ids.
  std::shared_ptr<const IndexPart> file;
  // Filled when the file is attached, or (a version-6 checkpoint's segment,
  // map_names) by the first EnsureSegment, before it publishes ready = 1.
  mutable std::vector<uint32_t> entity_of, scope_of;
  bool map_names = false;
  uint32_t last_offset = 0;  // its last row's frame offset (known without reading the file)
  // Whether the file is known good for this index: 1 yes; 0 not yet (a
  // checkpoint's segment: the file's body is checked, and its names looked
  // up, or compared with entity_of and scope_of, at first use,
  // Index::EnsureSegment); 2 it failed.
  mutable std::atomic<int> ready{1};
  mutable std::mutex ready_mu;
  mutable std::string ready_error;
  // Loading only: a checkpoint says the file covers `awaiting_rows` rows;
  // the open attaches the file before any read, or refuses the checkpoint.
  bool awaiting = false;
  Row awaiting_rows = 0;
  // In memory: this segment's rows by entity and scope (keyed by the
  // index's id, EntityKey), by kind (KindKey) and by tag (Index::TagKey).
  PostingsTable entities, scopes, kinds, tags;

  bool in_file() const { return file || awaiting; }
  // Rows, for a segment from its file; in memory, up to the next segment's first (or the index's size).
  Row file_rows() const { return file ? file->rows() : awaiting_rows; }

  static void IdKey(uint32_t id, uint8_t* key) {
    std::memset(key, 0, 16);
    std::memcpy(key, &id, 4);
  }
  static void KindKey(uint16_t kind, uint8_t* key) {
    std::memset(key, 0, 16);
    key[0] = static_cast<uint8_t>(kind);
    key[1] = static_cast<uint8_t>(kind >> 8);
  }
};

struct IndexSegmentList {
  std::vector<std::shared_ptr<IndexSegment>> segs;  // ascending slots and rows
  Row mem_from = 0;  // rows from here on are all in memory (in the columns)
  // The segment holding row r (REQUIRES: a segment starts at or before r).
  const IndexSegment* Of(Row r) const {
    size_t lo = 0, hi = segs.size();
    while (hi - lo > 1) {
      const size_t mid = (lo + hi) / 2;
      if (segs[mid]->first <= r) lo = mid;
      else hi = mid;
    }
    return segs[lo].get();
  }
};

}  // namespace causeway
