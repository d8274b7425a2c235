// The id directory's part of the checkpoint, and the ids an open holds back
// until it knows which segments their index files answer for.
#include <algorithm>

#include "id_directory.h"
#include "index.h"
#include "index_part.h"

namespace causeway {

void IdDirectory::PendTag(uint32_t slot, uint32_t tag) {
  if (pending_.size() <= slot) pending_.resize(size_t(slot) + 1);
  pending_[slot].push_back(tag);
}

bool IdDirectory::InsertPending(uint32_t slot, Row first, Row end) {
  if (slot >= pending_.size() || pending_[slot].size() != end - first) return false;
  std::vector<uint32_t> tags;
  tags.swap(pending_[slot]);
  for (Row r = first; r < end; r++) InsertTag(r, slot, tags[r - first]);
  return true;
}

void IdDirectory::DropPending() {
  pending_.clear();
  pending_.shrink_to_fit();
  loaded_files_.clear();
}

// Per part: u8 kind (1: an index file covers it, 0: tags follow), u32 slot,
// u32 first row, u32 rows; kind 1 then has (version 5) the file's smallest
// and largest id, 16 bytes each; kind 0 a u32 tag per row, in row order.
void IdDirectory::Save(ByteWriter* w) const {
  const List* l = list_.load(std::memory_order_relaxed);
  const uint32_t parts = l ? static_cast<uint32_t>(l->parts.size()) : 0;
  w->Put<uint32_t>(parts);
  for (uint32_t i = 0; i < parts; i++) {
    const Part& p = l->parts[i];
    w->Put<uint8_t>(p.file ? 1 : 0);
    w->Put<uint32_t>(p.slot);
    w->Put<uint32_t>(p.base);
    const Row rows = p.Rows();
    w->Put<uint32_t>(rows);
    if (p.file) {
      w->Bytes(p.file->min.data(), 16);
      w->Bytes(p.file->max.data(), 16);
      continue;
    }
    std::vector<uint32_t> tags(rows, 0);
    for (size_t k = 0; k <= p.table->mask; k++) {
      const uint64_t e = p.table->slots[k].load(std::memory_order_relaxed);
      const Row r = static_cast<Row>(e) - 1;
      if (e && r >= p.base && r - p.base < rows) tags[r - p.base] = static_cast<uint32_t>(e >> 32);
    }
    for (uint32_t t : tags) w->Put<uint32_t>(t);
  }
}

bool IdDirectory::Load(ByteReader* r, Row n, bool with_ranges) {
  uint32_t parts;
  if (!r->Get(&parts)) return false;
  Row next = 0;  // parts cover rows [0, n) in order, without gaps
  for (uint32_t i = 0; i < parts; i++) {
    uint8_t kind;
    CoveredSlot c;
    if (!r->Get(&kind) || !r->Get(&c.slot) || !r->Get(&c.base) || !r->Get(&c.rows) || kind > 1) return false;
    if (c.base != next || c.rows > n - next) return false;
    next += c.rows;
    if (kind == 1) {
      if (with_ranges) {
        if (!r->Bytes(c.min.data(), 16) || !r->Bytes(c.max.data(), 16)) return false;
        c.has_range = true;
      }
      loaded_files_.push_back(c);
      continue;
    }
    if (c.rows > r->left() / 4) return false;
    for (Row k = 0; k < c.rows; k++) {
      uint32_t tag;
      if (!r->Get(&tag)) return false;
      PendTag(c.slot, tag);
    }
  }
  return next == n;
}

}  // namespace causeway
