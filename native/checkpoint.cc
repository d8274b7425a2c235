#include "checkpoint.h"

#include "crc32c.h"
#include "fsutil.h"

namespace causeway {
namespace {

// v2: the event-id table's slots carry a hash tag (8 bytes each). v1 files
// still load; their id table is rebuilt from checked frames (Index::Load).
constexpr char kMagic[8] = {'C', 'W', 'C', 'K', 'P', 'T', 'v', '6'};  // version 6: files' names mapped at first use
constexpr char kMagicV5[8] = {'C', 'W', 'C', 'K', 'P', 'T', 'v', '5'};  // version 5: rows in index files left out
constexpr char kMagicV4[8] = {'C', 'W', 'C', 'K', 'P', 'T', 'v', '4'};  // version 4: no event-id table
constexpr char kMagicV3[8] = {'C', 'W', 'C', 'K', 'P', 'T', 'v', '3'};  // version 3: tag postings
constexpr char kMagicV2[8] = {'C', 'W', 'C', 'K', 'P', 'T', 'v', '2'};
constexpr char kMagicV1[8] = {'C', 'W', 'C', 'K', 'P', 'T', 'v', '1'};

}  // namespace

void ByteWriter::Bytes(const void* p, size_t n) { out_->append(static_cast<const char*>(p), n); }

bool ByteReader::Bytes(void* p, size_t n) {
  if (n > static_cast<size_t>(end_ - p_)) return false;
  std::memcpy(p, p_, n);
  p_ += n;
  return true;
}

void EncodeCheckpoint(const Index& index, const CheckpointHeader& header, std::string* file) {
  std::string body;
  ByteWriter w(&body);
  w.Put<uint32_t>(static_cast<uint32_t>(header.segments.size()));
  for (const CoveredSegment& s : header.segments) {
    w.Put(s.id);
    w.Put(s.base_sequence);
    w.Put(s.end);
    w.Put(s.next_sequence);
    w.Put(s.last_frame);
    w.Put(s.created_us);
    w.Bytes(s.last_event_id, 16);
  }
  w.Put(header.last_timestamp_us);
  index.Save(&w);
  file->assign(kMagic, 8);
  ByteWriter fw(file);
  const uint64_t len = body.size();
  uint32_t crc = crc32c::Extend(0, reinterpret_cast<const uint8_t*>(&len), 8);
  crc = crc32c::Extend(crc, reinterpret_cast<const uint8_t*>(body.data()), body.size());
  fw.Put<uint32_t>(crc32c::Mask(crc));
  fw.Put<uint64_t>(len);
  *file += body;
}

Status WriteCheckpointFile(const std::string& dir, const std::string& file, uint32_t file_mode) {
  // Checked against the segments at every open (LoadCheckpoint): no sync needed.
  return fsutil::WriteCacheFileAtomic(dir, kCheckpointName, file, file_mode);
}

Status WriteCheckpoint(const std::string& dir, const Index& index, const CheckpointHeader& header, uint32_t file_mode) {
  std::string file;
  EncodeCheckpoint(index, header, &file);
  return WriteCheckpointFile(dir, file, file_mode);
}

Status ReadCheckpoint(const std::string& dir, Index* index, CheckpointHeader* header, int* version) {
  std::string file;
  CW_RETURN_IF_ERROR(fsutil::ReadFile(dir + "/" + kCheckpointName, &file));
  const auto* p = reinterpret_cast<const uint8_t*>(file.data());
  if (file.size() < 20) return Status::Corruption("checkpoint: bad magic");
  if (std::memcmp(p, kMagic, 8) == 0) *version = 6;
  else if (std::memcmp(p, kMagicV5, 8) == 0) *version = 5;
  else if (std::memcmp(p, kMagicV4, 8) == 0) *version = 4;
  else if (std::memcmp(p, kMagicV3, 8) == 0) *version = 3;
  else if (std::memcmp(p, kMagicV2, 8) == 0) *version = 2;
  else if (std::memcmp(p, kMagicV1, 8) == 0) *version = 1;
  else return Status::Corruption("checkpoint: bad magic");
  const uint32_t stored = LoadLE<uint32_t>(p + 8);
  const uint64_t len = LoadLE<uint64_t>(p + 12);
  if (len != file.size() - 20) return Status::Corruption("checkpoint: length mismatch");
  uint32_t crc = crc32c::Extend(0, p + 12, 8);
  crc = crc32c::Extend(crc, p + 20, len);
  if (crc32c::Mask(crc) != stored) return Status::Corruption("checkpoint: checksum mismatch");
  ByteReader r(p + 20, len);
  uint32_t nseg = 0;
  if (!r.Get(&nseg)) return Status::Corruption("checkpoint: truncated");
  header->segments.resize(nseg);
  for (CoveredSegment& s : header->segments) {
    if (!r.Get(&s.id) || !r.Get(&s.base_sequence) || !r.Get(&s.end) || !r.Get(&s.next_sequence) ||
        !r.Get(&s.last_frame) || !r.Get(&s.created_us) || !r.Bytes(s.last_event_id, 16))
      return Status::Corruption("checkpoint: truncated");
  }
  if (!r.Get(&header->last_timestamp_us) || !index->Load(&r, *version) || !r.done())
    return Status::Corruption("checkpoint: malformed index");
  return Status::OK();
}

Status RemoveCheckpoint(const std::string& dir) { return fsutil::RemoveFile(dir + "/" + kCheckpointName); }

}  // namespace causeway
