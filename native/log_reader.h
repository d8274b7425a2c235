// Sequential scan of the frames of one segment, with atomic batches staged
// until their end frame. The caller decides what a stop means: below the
// durable frontier it is corruption, past it a torn tail (see recovery.cc).
#pragma once

#include <cstdint>
#include <vector>

#include "frame.h"

namespace causeway {

struct ScanOutcome {
  uint64_t committed_end = 0;  // offset just past the last committed frame
  uint64_t next_sequence = 0;  // global sequence after the last committed frame
  uint64_t stop_offset = 0;    // offset of the frame the scan stopped at
  FrameCheck stop = FrameCheck::kEnd;  // kEnd: clean end of data or `limit` reached
  bool pending_batch = false;  // stopped inside a batch whose end frame never came
  uint64_t frames = 0;         // committed frames visited
};

// Scans [begin, limit) of `base`. Frames must carry strictly increasing
// global sequences starting at or after `next_sequence`; a frame that does
// not is a stop (kBadFields). visit(const FrameView&, uint64_t offset) is
// called for every committed frame, batches only once their end frame checks.
template <typename Visit>
ScanOutcome ScanFrames(const uint8_t* base, uint64_t begin, uint64_t limit, uint64_t next_sequence, Visit&& visit) {
  ScanOutcome out;
  out.committed_end = begin;
  out.next_sequence = next_sequence;
  std::vector<std::pair<FrameView, uint64_t>> batch;
  uint64_t expect = next_sequence;
  uint64_t pos = begin;
  for (;;) {
    if (pos >= limit) {
      out.stop = FrameCheck::kEnd;
      break;
    }
    FrameView v;
    FrameCheck c = DecodeFrame(base + pos, limit - pos, &v);
    if (c == FrameCheck::kOk && v.sequence < expect) c = FrameCheck::kBadFields;
    bool in_batch = (v.flags & kFlagBatchMember) != 0;
    if (c == FrameCheck::kOk && !in_batch && !batch.empty()) c = FrameCheck::kBadFields;  // batch left open
    if (c == FrameCheck::kOk && !in_batch && (v.flags & kFlagBatchEnd)) c = FrameCheck::kBadFields;
    if (c != FrameCheck::kOk) {
      out.stop = c;
      break;
    }
    const uint64_t span = AlignFrame(v.length);
    expect = v.sequence + 1;
    if (in_batch) {
      if (batch.capacity() == 0) batch.reserve(128);  // one allocation for a common batch, not eight
      batch.emplace_back(v, pos);
      if (v.flags & kFlagBatchEnd) {
        for (auto& [bv, at] : batch) visit(bv, at);
        out.frames += batch.size();
        batch.clear();
        out.committed_end = pos + span;
        out.next_sequence = expect;
      }
    } else {
      visit(v, pos);
      out.frames++;
      out.committed_end = pos + span;
      out.next_sequence = expect;
    }
    pos += span;
  }
  out.stop_offset = pos;
  out.pending_batch = !batch.empty();
  return out;
}

}  // namespace causeway
