#include "footer.h"

#include <cstring>
#include <vector>

#include "crc32c.h"
#include "frame.h"

namespace causeway {
namespace {

constexpr char kMagic[8] = {'C', 'W', 'F', 'O', 'O', 'T', 'v', '1'};
constexpr size_t kHeader = 56;  // + u64 segment id, i64 segment created-at
constexpr size_t kRecord = 52;

}  // namespace

uint32_t FooterWriter::AddName(uint8_t type, const uint8_t* p, uint16_t len) {
  const uint32_t id = name_count_++;
  ByteWriter nw(&names_);
  nw.Put<uint8_t>(type);
  nw.Put<uint16_t>(len);
  nw.Bytes(p, len);
  heads_.resize(id + 1);
  if (type == 0) {
    heads_[id].at = names_.size();
    names_.append(36, '\0');  // clock and hash, filled in by Finish
  }
  return id;
}

void FooterWriter::Reserve(uint64_t segment_bytes) { records_.reserve(segment_bytes / kFrameHeaderSize * kRecord); }

void FooterWriter::AddFrame(const FrameView& v, uint64_t off, uint32_t e, uint32_t s) {
  Head& h = heads_[e];
  h.set = true;
  h.clock = v.clock;
  std::memcpy(h.hash.data(), v.content_hash(), 32);
  const bool corr = std::memcmp(v.correlation_id(), v.event_id(), 16) != 0;
  uint8_t rec[kRecord];
  StoreLE<uint32_t>(rec, static_cast<uint32_t>(off));
  rec[4] = v.flags;
  rec[5] = corr ? 1 : 0;
  StoreLE<uint16_t>(rec + 6, v.kind);
  StoreLE<uint32_t>(rec + 8, e);
  StoreLE<uint32_t>(rec + 12, s);
  StoreLE<uint32_t>(rec + 16, v.clock);
  StoreLE<uint64_t>(rec + 20, v.sequence);
  StoreLE<int64_t>(rec + 28, v.timestamp_us);
  std::memcpy(rec + 36, v.event_id(), 16);
  warm_records_.Cover(records_.data(), records_.size() + 3 * 16 + kRecord, records_.capacity());
  records_.append(reinterpret_cast<const char*>(rec), kRecord);
  if (corr) records_.append(reinterpret_cast<const char*>(v.correlation_id()), 16);
  if (v.flags & kFlagHasCausation) records_.append(reinterpret_cast<const char*>(v.causation_id()), 16);
  if (v.flags & kFlagIdempotent) records_.append(reinterpret_cast<const char*>(v.idempotency()), 16);
  frames_++;
}

void FooterWriter::AddIndexedFrame(const FrameView& v, uint64_t off, uint32_t entity, uint32_t scope, const Index& index) {
  constexpr uint32_t kNone = UINT32_MAX;
  if (entity >= entity_local_.size()) entity_local_.resize(entity + 1, kNone);
  if (scope >= scope_local_.size()) scope_local_.resize(scope + 1, kNone);
  uint32_t& e = entity_local_[entity];
  if (e == kNone) {
    const std::string& n = index.EntityName(entity);
    e = AddName(0, reinterpret_cast<const uint8_t*>(n.data()), static_cast<uint16_t>(n.size()));
  }
  uint32_t& s = scope_local_[scope];
  if (s == kNone) {
    const std::string& n = index.ScopeName(scope);
    s = AddName(1, reinterpret_cast<const uint8_t*>(n.data()), static_cast<uint16_t>(n.size()));
  }
  AddFrame(v, off, e, s);
}

void FooterWriter::Finish(const Segment& seg, std::string* out) {
  for (const Head& h : heads_) {
    if (!h.set) continue;  // a scope's slot
    std::memcpy(names_.data() + h.at, &h.clock, 4);
    std::memcpy(names_.data() + h.at + 4, h.hash.data(), 32);
  }
  // Reserved at its size, resident before it is written: one copy of each part, no fault per page.
  out->clear();
  out->reserve(kHeader + names_.size() + records_.size());
  WarmAhead::All(out->data(), out->capacity());
  out->assign(kMagic, 8);
  ByteWriter w(out);
  w.Put<uint32_t>(0);  // CRC, below
  w.Put<uint32_t>(0);
  w.Put<uint64_t>(kHeader + names_.size() + records_.size());
  w.Put<uint64_t>(frames_);
  w.Put<uint32_t>(name_count_);
  w.Put<uint32_t>(0);
  w.Put<uint64_t>(seg.id());
  w.Put<int64_t>(seg.created_us());
  *out += names_;
  *out += records_;
  const uint32_t crc = crc32c::Mask(crc32c::Value(reinterpret_cast<const uint8_t*>(out->data()) + 16, out->size() - 16));
  std::memcpy(out->data() + 8, &crc, 4);
}

Status BuildFooterFromIndex(const Segment& seg, uint64_t end, const Index& index, uint32_t slot, Row first,
                            std::string* out) {
  FooterWriter fw;
  uint64_t expect_off = kSegmentHeaderSize;
  for (Row r = first; r < index.size(); r++) {
    const RowLocation loc = index.Location(r);
    if (loc.segment_slot != slot || loc.offset != expect_off || loc.offset + kFrameHeaderSize > end)
      return Status::Corruption("segment " + Segment::FileName(seg.id()) + ": index rows do not tile its frames");
    FrameView v;
    ViewEncodedFrame(seg.data() + loc.offset, &v);
    fw.AddIndexedFrame(v, loc.offset, index.Entity(r), index.Scope(r), index);
    expect_off = loc.offset + AlignFrame(v.length);
  }
  if (expect_off != end)
    return Status::Corruption("segment " + Segment::FileName(seg.id()) + ": frames do not end at " + std::to_string(end));
  fw.Finish(seg, out);
  return Status::OK();
}

bool LoadFooter(const Segment& seg, uint32_t slot, uint64_t next_sequence, Index* index) {
  const Frontier& f = seg.frontier();
  if (f.state != kFrontierSealed || seg.size() < f.end + kHeader) return false;
  const uint8_t* p = seg.data() + f.end;
  // Usually the footer runs to the end of the file. On Windows a segment
  // another process maps cannot be cut at sealing, and keeps zeros after it.
  const uint64_t avail = LoadLE<uint64_t>(p + 16);
  if (std::memcmp(p, kMagic, 8) != 0 || avail < kHeader || avail > seg.size() - f.end) return false;
  if (LoadLE<uint32_t>(p + 8) != crc32c::Mask(crc32c::Value(p + 16, avail - 16))) return false;
  const uint64_t frames = LoadLE<uint64_t>(p + 24);
  const uint32_t name_count = LoadLE<uint32_t>(p + 32);
  // Which file it describes: a footer copied from another segment or store is refused.
  if (LoadLE<uint64_t>(p + 40) != seg.id() || LoadLE<int64_t>(p + 48) != seg.created_us()) return false;
  ByteReader r(p + kHeader, avail - kHeader);

  struct Name {
    uint8_t type;
    std::string text;
    uint32_t clock = 0;
    std::array<uint8_t, 32> hash{};
  };
  std::vector<Name> names(name_count);
  for (Name& n : names) {
    uint16_t len;
    if (!r.Get(&n.type) || n.type > 1 || !r.Get(&len) || len == 0 || len > kMaxNameBytes) return false;
    n.text.resize(len);
    if (!r.Bytes(n.text.data(), len)) return false;
    if (n.type == 0 && (!r.Get(&n.clock) || !r.Bytes(n.hash.data(), 32))) return false;
  }
  struct Rec {
    uint32_t offset, entity, scope;
    Index::RowFields f;
  };
  std::vector<Rec> recs(frames);
  const uint8_t* base = p + kHeader + (avail - kHeader - r.left());
  const uint8_t* end = p + avail;
  const uint8_t* q = base;
  uint64_t expect = next_sequence;
  uint64_t last_offset = 0;
  for (Rec& rec : recs) {
    if (q + kRecord > end) return false;
    rec.offset = LoadLE<uint32_t>(q);
    rec.f.flags = q[4];
    const uint8_t extra = q[5];
    rec.f.kind = LoadLE<uint16_t>(q + 6);
    rec.entity = LoadLE<uint32_t>(q + 8);
    rec.scope = LoadLE<uint32_t>(q + 12);
    rec.f.clock = LoadLE<uint32_t>(q + 16);
    rec.f.sequence = LoadLE<uint64_t>(q + 20);
    rec.f.timestamp_us = LoadLE<int64_t>(q + 28);
    rec.f.event_id = q + 36;
    q += kRecord;
    rec.f.correlation_id = nullptr;
    if (extra & 1) {
      if (q + 16 > end) return false;
      rec.f.correlation_id = q;
      q += 16;
    }
    if (rec.f.flags & kFlagHasCausation) {
      if (q + 16 > end) return false;
      rec.f.causation_id = q;
      q += 16;
    }
    if (rec.f.flags & kFlagIdempotent) {
      if (q + 16 > end) return false;
      rec.f.idempotency = q;
      q += 16;
    }
    // The footer must describe frames in order, inside the segment, in sequence.
    if (rec.offset < kSegmentHeaderSize || rec.offset >= f.end || (last_offset && rec.offset <= last_offset)) return false;
    if (rec.f.flags & kFlagExtension) {
      // The footer keeps no tags: they come from the frame, checked whole.
      FrameView v;
      if (DecodeFrame(seg.data() + rec.offset, f.end - rec.offset, &v) != FrameCheck::kOk ||
          v.sequence != rec.f.sequence)
        return false;
      rec.f.extension = v.extension();
    }
    if (rec.f.sequence < expect || rec.f.sequence >= f.next_sequence) return false;
    if (rec.entity >= name_count || names[rec.entity].type != 0 || rec.scope >= name_count || names[rec.scope].type != 1)
      return false;
    expect = rec.f.sequence + 1;
    last_offset = rec.offset;
  }
  if (q != end) return false;
  // The last frame must end where the sealed frontier says the frames end.
  if (!recs.empty()) {
    const uint32_t len = LoadLE<uint32_t>(seg.data() + recs.back().offset);
    if (len < kFrameHeaderSize || recs.back().offset + AlignFrame(len) != f.end) return false;
  }
  // Trusted: add the rows.
  std::vector<uint32_t> global(name_count);
  for (uint32_t i = 0; i < name_count; i++)
    global[i] = names[i].type == 0 ? index->InternEntity(names[i].text) : index->InternScope(names[i].text);
  for (const Rec& rec : recs) index->Add(rec.f, RowLocation{slot, rec.offset}, global[rec.entity], global[rec.scope]);
  for (uint32_t i = 0; i < name_count; i++)
    if (names[i].type == 0 && names[i].clock > 0 && index->EntityClock(global[i]) <= names[i].clock)
      index->RaiseEntity(global[i], names[i].clock, names[i].hash.data());
  return true;
}

}  // namespace causeway
