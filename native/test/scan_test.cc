// ScanFrames: where a scan of hand-built frames stops, and what it calls committed.

#include <string>
#include <vector>

#include "../log_reader.h"
#include "fixture.h"

namespace causeway::test {
namespace {

// ===========================================================================
// ScanFrames

struct Visited {
  std::vector<uint64_t> sequences;
  std::vector<uint64_t> offsets;
};

ScanOutcome Scan(const std::vector<uint8_t>& buf, uint64_t next_sequence, Visited* seen, uint64_t limit = UINT64_MAX) {
  if (limit == UINT64_MAX) limit = buf.size();
  return ScanFrames(buf.data(), 0, limit, next_sequence, [&](const FrameView& v, uint64_t off) {
    seen->sequences.push_back(v.sequence);
    seen->offsets.push_back(off);
  });
}

FrameSpec Seq(uint64_t seq, uint8_t flags = 0) {
  FrameSpec s;
  s.sequence = seq;
  s.flags = flags;
  s.seed = static_cast<uint8_t>(seq);
  s.payload = std::string(seq % 11, 'p');
  return s;
}

TEST(ScanMissesCommittedFrames) {
  std::vector<uint8_t> buf;
  AppendFrame(&buf, Seq(0));
  AppendFrame(&buf, Seq(1));
  AppendFrame(&buf, Seq(2, kFlagBatchMember));
  AppendFrame(&buf, Seq(3, kFlagBatchMember));
  AppendFrame(&buf, Seq(4, kFlagBatchMember | kFlagBatchEnd));
  AppendFrame(&buf, Seq(5, kFlagBatchMember | kFlagBatchEnd));  // a batch of one
  const uint64_t end = buf.size();
  buf.resize(end + 512, 0);
  Visited seen;
  ScanOutcome out = Scan(buf, 0, &seen);
  CHECK_EQ(out.stop, FrameCheck::kEnd);
  CHECK(!out.pending_batch);
  CHECK_EQ(out.frames, uint64_t(6));
  CHECK_EQ(out.committed_end, end);
  CHECK_EQ(out.stop_offset, end);
  CHECK_EQ(out.next_sequence, uint64_t(6));
  CHECK(seen.sequences == (std::vector<uint64_t>{0, 1, 2, 3, 4, 5}));
  CHECK_EQ(seen.offsets[0], uint64_t(0));
  // Exactly at the limit: a clean end too.
  Visited seen2;
  out = Scan(buf, 0, &seen2, end);
  CHECK_EQ(out.stop, FrameCheck::kEnd);
  CHECK_EQ(out.stop_offset, end);
  CHECK_EQ(out.frames, uint64_t(6));
  // Sequences may start later than expected (a gap is allowed, not a repeat).
  Visited seen3;
  out = Scan(buf, 0, &seen3);
  CHECK_EQ(out.next_sequence, uint64_t(6));
}

TEST(OpenBatchVisited) {
  std::vector<uint8_t> buf;
  AppendFrame(&buf, Seq(0));
  AppendFrame(&buf, Seq(1, kFlagBatchMember));
  AppendFrame(&buf, Seq(2, kFlagBatchMember | kFlagBatchEnd));
  const uint64_t committed = buf.size();
  AppendFrame(&buf, Seq(3, kFlagBatchMember));
  AppendFrame(&buf, Seq(4, kFlagBatchMember));
  const uint64_t written = buf.size();
  buf.resize(written + 256, 0);
  Visited seen;
  ScanOutcome out = Scan(buf, 0, &seen);
  CHECK(out.pending_batch);
  CHECK_EQ(out.stop, FrameCheck::kEnd);
  CHECK_EQ(out.frames, uint64_t(3));
  CHECK_EQ(out.committed_end, committed);
  CHECK_EQ(out.next_sequence, uint64_t(3));
  CHECK_EQ(out.stop_offset, written);
  CHECK(seen.sequences == (std::vector<uint64_t>{0, 1, 2}));
  // The same batch cut by the scan limit mid-way.
  Visited seen2;
  out = Scan(buf, 0, &seen2, written);
  CHECK(out.pending_batch);
  CHECK_EQ(out.committed_end, committed);
  CHECK_EQ(out.frames, uint64_t(3));
  // The open batch followed by a torn frame.
  buf.resize(written);
  AppendFrame(&buf, Seq(5, kFlagBatchMember | kFlagBatchEnd));
  buf[written + 100] ^= 0x01;
  Visited seen3;
  out = Scan(buf, 0, &seen3);
  CHECK(out.pending_batch);
  CHECK_EQ(out.stop, FrameCheck::kBadChecksum);
  CHECK_EQ(out.stop_offset, written);
  CHECK_EQ(out.committed_end, committed);
  CHECK_EQ(seen3.sequences.size(), size_t(3));
}

TEST(MalformedBatchNotAStop) {
  // A single frame inside an open batch: the batch never ended.
  std::vector<uint8_t> buf;
  AppendFrame(&buf, Seq(0, kFlagBatchMember));
  const uint64_t at = AppendFrame(&buf, Seq(1));
  Visited seen;
  ScanOutcome out = Scan(buf, 0, &seen);
  CHECK_EQ(out.stop, FrameCheck::kBadFields);
  CHECK_EQ(out.stop_offset, at);
  CHECK_EQ(out.committed_end, uint64_t(0));
  CHECK(out.pending_batch);
  CHECK(seen.sequences.empty());
  // An end flag without the member flag.
  buf.clear();
  AppendFrame(&buf, Seq(0));
  const uint64_t at2 = AppendFrame(&buf, Seq(1, kFlagBatchEnd));
  Visited seen2;
  out = Scan(buf, 0, &seen2);
  CHECK_EQ(out.stop, FrameCheck::kBadFields);
  CHECK_EQ(out.stop_offset, at2);
  CHECK_EQ(out.frames, uint64_t(1));
}

TEST(SequenceGoingBackwardsNotAStop) {
  std::vector<uint8_t> buf;
  AppendFrame(&buf, Seq(10));
  AppendFrame(&buf, Seq(11));
  const uint64_t second_end = buf.size();
  const uint64_t at = AppendFrame(&buf, Seq(11));  // a repeat
  AppendFrame(&buf, Seq(12));
  Visited seen;
  ScanOutcome out = Scan(buf, 10, &seen);
  CHECK_EQ(out.stop, FrameCheck::kBadFields);
  CHECK_EQ(out.stop_offset, at);
  CHECK_EQ(out.committed_end, second_end);
  CHECK_EQ(out.next_sequence, uint64_t(12));
  CHECK(seen.sequences == (std::vector<uint64_t>{10, 11}));
  // The first frame below the sequence the previous segment ended at.
  Visited seen2;
  out = Scan(buf, 11, &seen2);
  CHECK_EQ(out.stop, FrameCheck::kBadFields);
  CHECK_EQ(out.stop_offset, uint64_t(0));
  CHECK_EQ(out.frames, uint64_t(0));
  CHECK_EQ(out.next_sequence, uint64_t(11));
}

TEST(CorruptFrameDoesNotStopScan) {
  std::vector<uint8_t> buf;
  AppendFrame(&buf, Seq(0));
  const uint64_t at = AppendFrame(&buf, Seq(1));
  AppendFrame(&buf, Seq(2));
  buf[at + frame::kVariable + 1] ^= 0x80;
  Visited seen;
  ScanOutcome out = Scan(buf, 0, &seen);
  CHECK_EQ(out.stop, FrameCheck::kBadChecksum);
  CHECK_EQ(out.stop_offset, at);
  CHECK_EQ(out.committed_end, at);
  CHECK(seen.sequences == (std::vector<uint64_t>{0}));
}

}  // namespace
}  // namespace causeway::test
