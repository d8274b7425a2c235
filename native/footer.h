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

#include <string>

#include "index.h"
#include "segment.h"
#include "status.h"

namespace causeway {

// The footer for the frames [128, end) of `seg` (whole, committed frames),
// from a scan that re-checks every frame. The reference for the one below.
Status BuildFooter(const Segment& seg, uint64_t end, std::string* out);

// The same bytes from the index: its rows [first, size) must be exactly the
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
