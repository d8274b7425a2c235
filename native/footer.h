// Segment footers: a sealed segment carries, after its last frame, a compact
// index of its frames, so an open without a usable index checkpoint (after a
// crash, say) loads sealed segments without reading and CRC-checking every
// frame. Like the checkpoint it is a cache: a footer that is missing, damaged,
// or does not match the frames it describes means the segment is scanned.
//
// Layout, at the segment's sealed end (the file ends with it):
//   +0  u8[8] "CWFOOTv1"   +8 u32 masked CRC32C of bytes [16, len)   +12 u32 0
//   +16 u64 len (whole footer)   +24 u64 frame count   +32 u32 name count   +36 u32 0
//   +40 u64 segment id   +48 i64 segment created-at (the header's): which file it describes
//   names: u8 type (0 entity, 1 scope), u16 length, bytes; an entity adds
//          u32 clock and u8[32] content hash of its last event in the segment
//   frames: u32 offset, u8 flags, u8 extra (1: correlation follows), u16 kind,
//           u32 entity name, u32 scope name, u32 clock, u64 sequence,
//           i64 timestamp, u8[16] event id; then u8[16] correlation (extra&1),
//           u8[16] causation (flag 0x08), u8[16] idempotency digest (flag 0x04)
#pragma once

#include <array>
#include <string>
#include <vector>

#include "format.h"
#include "index.h"
#include "segment.h"
#include "status.h"
#include "warm_ahead.h"

namespace causeway {

// Lays out a footer: names get local ids in order of first appearance
// (entities and scopes share the numbering), each frame a record. The store
// keeps one for its active segment and feeds it each frame as it is
// appended, so sealing only assembles the bytes.
class FooterWriter {
 public:
  // A new name; returns its local id.
  uint32_t AddName(uint8_t type, const uint8_t* p, uint16_t len);
  // The frame at `off`, of local entity e and scope s.
  void AddFrame(const FrameView& v, uint64_t off, uint32_t e, uint32_t s);
  // The same with the index's (global) entity and scope ids, named on first use.
  void AddIndexedFrame(const FrameView& v, uint64_t off, uint32_t entity, uint32_t scope, const Index& index);
  // Room for the records of a segment of `segment_bytes` filled with the
  // smallest frames (more only when they carry extra ids): address space
  // only, touched as records arrive, so the records never move while the
  // segment fills (a doubling copy faulted in fresh pages at every step).
  void Reserve(uint64_t segment_bytes);
  // The footer for `seg`, which must hold exactly the frames added.
  void Finish(const Segment& seg, std::string* out);
  uint64_t frames() const { return frames_; }

 private:
  struct Head {
    bool set = false;  // an entity with a frame (scopes never are)
    uint32_t clock = 0;
    std::array<uint8_t, 32> hash{};
    size_t at = 0;  // where an entity's clock and hash go in names_
  };
  std::string names_, records_;
  std::vector<Head> heads_;                     // by local id
  std::vector<uint32_t> entity_local_, scope_local_;  // global id -> local id (UINT32_MAX: none yet)
  uint32_t name_count_ = 0;
  uint64_t frames_ = 0;
  WarmAhead warm_records_;  // records_ is reserved whole: its pages are made resident ahead of the records
};

// The footer for the frames [128, end) of `seg`, from the index: its rows [first, size) must be exactly the
// frames of `seg` (slot `slot`), in order, ending at `end`. No frame is
// re-checked and no name hashed, so sealing costs one pass over the rows
// (the store holds its mutex meanwhile).
Status BuildFooterFromIndex(const Segment& seg, uint64_t end, const Index& index, uint32_t slot, Row first,
                            std::string* out);

// Adds the rows a sealed segment's footer describes to `index` (slot `slot`),
// after checking its CRC, that it names this very file, and that its frames
// are in order and end at the sealed end. Frames themselves are not read:
// each is CRC-checked when read, so a damaged one is reported then.
// False (index untouched) when the footer cannot be trusted.
bool LoadFooter(const Segment& seg, uint32_t slot, uint64_t next_sequence, Index* index);

}  // namespace causeway
