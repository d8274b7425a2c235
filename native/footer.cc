#include "footer.h"

#include <cstring>
#include <unordered_map>
#include <vector>

#include "crc32c.h"
#include "frame.h"
#include "log_reader.h"

namespace causeway {
namespace {

constexpr char kMagic[8] = {'C', 'W', 'F', 'O', 'O', 'T', 'v', '1'};
constexpr size_t kHeader = 56;  // + u64 segment id, i64 segment created-at
constexpr size_t kRecord = 52;

// Lays out a footer: names get local ids in order of first appearance, each
// frame a record. Both builders below feed it the same frames in the same
// order, so they produce the same bytes.
class FooterWriter {
 public:
  // A new name: returns its local id (entities and scopes share the numbering).
  uint32_t AddName(uint8_t type, const uint8_t* p, uint16_t len) {
    const uint32_t id = name_count_++;
    nw_.Put<uint8_t>(type);
    nw_.Put<uint16_t>(len);
    nw_.Bytes(p, len);
    heads_.resize(id + 1, Head{0, nullptr, 0});
    if (type == 0) {
      heads_[id].at = names_.size();
      names_.append(36, '\0');  // clock and hash, filled in by Finish
    }
    return id;
  }

  void AddFrame(const FrameView& v, uint64_t off, uint32_t e, uint32_t s) {
    heads_[e].clock = v.clock;
    heads_[e].hash = v.content_hash();
    const bool corr = std::memcmp(v.correlation_id(), v.event_id(), 16) != 0;
    rw_.Put<uint32_t>(static_cast<uint32_t>(off));
    rw_.Put<uint8_t>(v.flags);
    rw_.Put<uint8_t>(corr ? 1 : 0);
    rw_.Put<uint16_t>(v.kind);
    rw_.Put<uint32_t>(e);
    rw_.Put<uint32_t>(s);
    rw_.Put<uint32_t>(v.clock);
    rw_.Put<uint64_t>(v.sequence);
    rw_.Put<int64_t>(v.timestamp_us);
    rw_.Bytes(v.event_id(), 16);
    if (corr) rw_.Bytes(v.correlation_id(), 16);
    if (v.flags & kFlagHasCausation) rw_.Bytes(v.causation_id(), 16);
    if (v.flags & kFlagIdempotent) rw_.Bytes(v.idempotency(), 16);
    frames_++;
  }

  void Finish(const Segment& seg, std::string* out) {
    for (const Head& h : heads_) {
      if (!h.hash) continue;  // a scope's slot, or an entity without frames
      std::memcpy(names_.data() + h.at, &h.clock, 4);
      std::memcpy(names_.data() + h.at + 4, h.hash, 32);
    }
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

 private:
  struct Head {
    uint32_t clock;
    const uint8_t* hash;
    size_t at;  // where an entity's clock and hash sit in names_
  };
  std::string names_, records_;
  ByteWriter nw_{&names_}, rw_{&records_};
  std::vector<Head> heads_;  // by local id
  uint32_t name_count_ = 0;
  uint64_t frames_ = 0;
};

}  // namespace

Status BuildFooter(const Segment& seg, uint64_t end, std::string* out) {
  FooterWriter fw;
  std::unordered_map<std::string, uint32_t> entity_ids, scope_ids;
  auto intern = [&](std::unordered_map<std::string, uint32_t>& ids, uint8_t type, const uint8_t* p, uint16_t len) {
    std::string key(reinterpret_cast<const char*>(p), len);
    auto it = ids.find(key);
    if (it != ids.end()) return it->second;
    const uint32_t id = fw.AddName(type, p, len);
    ids.emplace(std::move(key), id);
    return id;
  };
  ScanOutcome so = ScanFrames(seg.data(), kSegmentHeaderSize, end, seg.base_sequence(), [&](const FrameView& v, uint64_t off) {
    const uint32_t e = intern(entity_ids, 0, v.entity(), v.entity_len);
    const uint32_t s = intern(scope_ids, 1, v.scope(), v.scope_len);
    fw.AddFrame(v, off, e, s);
  });
  if (so.stop != FrameCheck::kEnd || so.committed_end != end || so.pending_batch)
    return Status::Corruption("segment " + Segment::FileName(seg.id()) + ": frames do not end at " + std::to_string(end));
  fw.Finish(seg, out);
  return Status::OK();
}

Status BuildFooterFromIndex(const Segment& seg, uint64_t end, const Index& index, uint32_t slot, Row first,
                            std::string* out) {
  FooterWriter fw;
  constexpr uint32_t kNone = UINT32_MAX;
  std::vector<uint32_t> entity_local(index.entity_count(), kNone), scope_local(index.scope_count(), kNone);
  uint64_t expect_off = kSegmentHeaderSize;
  for (Row r = first; r < index.size(); r++) {
    const RowLocation loc = index.Location(r);
    if (loc.segment_slot != slot || loc.offset != expect_off || loc.offset + kFrameHeaderSize > end)
      return Status::Corruption("segment " + Segment::FileName(seg.id()) + ": index rows do not tile its frames");
    FrameView v;
    ViewEncodedFrame(seg.data() + loc.offset, &v);
    const uint32_t ge = index.Entity(r), gs = index.Scope(r);
    uint32_t& e = entity_local[ge];
    if (e == kNone) {
      const std::string& n = index.EntityName(ge);
      e = fw.AddName(0, reinterpret_cast<const uint8_t*>(n.data()), static_cast<uint16_t>(n.size()));
    }
    uint32_t& s = scope_local[gs];
    if (s == kNone) {
      const std::string& n = index.ScopeName(gs);
      s = fw.AddName(1, reinterpret_cast<const uint8_t*>(n.data()), static_cast<uint16_t>(n.size()));
    }
    fw.AddFrame(v, loc.offset, e, s);
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
  const uint64_t avail = seg.size() - f.end;
  if (std::memcmp(p, kMagic, 8) != 0 || LoadLE<uint64_t>(p + 16) != avail) return false;
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
  index->Reserve(index->size() + recs.size());
  index->ReserveIds(recs.size());
  for (const Rec& rec : recs) index->Add(rec.f, RowLocation{slot, rec.offset}, global[rec.entity], global[rec.scope]);
  for (uint32_t i = 0; i < name_count; i++)
    if (names[i].type == 0 && names[i].clock > 0 && index->EntityClock(global[i]) <= names[i].clock)
      index->RaiseEntity(global[i], names[i].clock, names[i].hash.data());
  return true;
}

}  // namespace causeway
