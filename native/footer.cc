#include "footer.h"

#include <unordered_map>
#include <vector>

#include "crc32c.h"
#include "log_reader.h"

namespace causeway {
namespace {

constexpr char kMagic[8] = {'C', 'W', 'F', 'O', 'O', 'T', 'v', '1'};
constexpr size_t kHeader = 56;  // + u64 segment id, i64 segment created-at
constexpr size_t kRecord = 52;

}  // namespace

Status BuildFooter(const Segment& seg, uint64_t end, std::string* out) {
  std::string names, records;
  ByteWriter nw(&names), rw(&records);
  std::unordered_map<std::string, uint32_t> entity_ids, scope_ids;
  struct Head {
    uint32_t clock;
    const uint8_t* hash;
  };
  std::vector<Head> heads;          // by local entity id
  std::vector<size_t> head_at;      // where each entity's head sits in `names`
  uint32_t name_count = 0;
  uint64_t frames = 0;
  auto intern = [&](std::unordered_map<std::string, uint32_t>& ids, uint8_t type, const uint8_t* p, uint16_t len) {
    std::string key(reinterpret_cast<const char*>(p), len);
    auto it = ids.find(key);
    if (it != ids.end()) return it->second;
    const uint32_t id = name_count++;
    ids.emplace(std::move(key), id);
    nw.Put<uint8_t>(type);
    nw.Put<uint16_t>(len);
    nw.Bytes(p, len);
    if (type == 0) {
      head_at.resize(id + 1, 0);
      heads.resize(id + 1, Head{0, nullptr});
      head_at[id] = names.size();
      names.append(36, '\0');  // clock and hash, filled in below
    }
    return id;
  };
  ScanOutcome so = ScanFrames(seg.data(), kSegmentHeaderSize, end, seg.base_sequence(), [&](const FrameView& v, uint64_t off) {
    const uint32_t e = intern(entity_ids, 0, v.entity(), v.entity_len);
    const uint32_t s = intern(scope_ids, 1, v.scope(), v.scope_len);
    heads[e] = Head{v.clock, v.content_hash()};
    const bool corr = std::memcmp(v.correlation_id(), v.event_id(), 16) != 0;
    rw.Put<uint32_t>(static_cast<uint32_t>(off));
    rw.Put<uint8_t>(v.flags);
    rw.Put<uint8_t>(corr ? 1 : 0);
    rw.Put<uint16_t>(v.kind);
    rw.Put<uint32_t>(e);
    rw.Put<uint32_t>(s);
    rw.Put<uint32_t>(v.clock);
    rw.Put<uint64_t>(v.sequence);
    rw.Put<int64_t>(v.timestamp_us);
    rw.Bytes(v.event_id(), 16);
    if (corr) rw.Bytes(v.correlation_id(), 16);
    if (v.flags & kFlagHasCausation) rw.Bytes(v.causation_id(), 16);
    if (v.flags & kFlagIdempotent) rw.Bytes(v.idempotency(), 16);
    frames++;
  });
  if (so.stop != FrameCheck::kEnd || so.committed_end != end || so.pending_batch)
    return Status::Corruption("segment " + Segment::FileName(seg.id()) + ": frames do not end at " + std::to_string(end));
  for (size_t e = 0; e < heads.size(); e++) {
    if (!heads[e].hash) continue;  // a scope's slot: names and scopes share the numbering
    std::memcpy(names.data() + head_at[e], &heads[e].clock, 4);
    std::memcpy(names.data() + head_at[e] + 4, heads[e].hash, 32);
  }
  out->assign(kMagic, 8);
  ByteWriter w(out);
  w.Put<uint32_t>(0);  // CRC, below
  w.Put<uint32_t>(0);
  w.Put<uint64_t>(kHeader + names.size() + records.size());
  w.Put<uint64_t>(frames);
  w.Put<uint32_t>(name_count);
  w.Put<uint32_t>(0);
  w.Put<uint64_t>(seg.id());
  w.Put<int64_t>(seg.created_us());
  *out += names;
  *out += records;
  const uint32_t crc = crc32c::Mask(crc32c::Value(reinterpret_cast<const uint8_t*>(out->data()) + 16, out->size() - 16));
  std::memcpy(out->data() + 8, &crc, 4);
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
