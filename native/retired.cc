// What retention leaves behind for the events it drops (see compaction.h):
// "retired.keys", the idempotency keys of dropped keyed events, and
// "retired.heads", the clock and head of entities whose newest event it
// dropped. Written by Compact, loaded and applied at open.
#include <cstring>

#include "compaction.h"
#include "crc32c.h"
#include "fsutil.h"
#include "store.h"

namespace causeway {
namespace {

// The retired-keys file: "CWKEYSv1", u32 masked crc of the rest, u64 count,
// then per key: 16-byte digest and the 168-byte header of the dropped frame.
constexpr char kKeysMagic[8] = {'C', 'W', 'K', 'E', 'Y', 'S', 'v', '1'};
constexpr size_t kKeyRecord = 16 + kFrameHeaderSize;

}  // namespace

Status Store::LoadRetiredKeys() {
  std::string file;
  Status s = fsutil::ReadFile(options_.dir + "/" + kRetiredKeysName, &file);
  if (s.code() == Status::Code::kNotFound) return Status::OK();
  CW_RETURN_IF_ERROR(s);
  const auto* p = reinterpret_cast<const uint8_t*>(file.data());
  if (file.size() < 20 || std::memcmp(p, kKeysMagic, 8) != 0)
    return Status::Corruption(std::string(kRetiredKeysName) + ": bad magic");
  const uint64_t n = LoadLE<uint64_t>(p + 12);
  if (file.size() != 20 + n * kKeyRecord) return Status::Corruption(std::string(kRetiredKeysName) + ": bad length");
  if (crc32c::Mask(crc32c::Value(p + 12, file.size() - 12)) != LoadLE<uint32_t>(p + 8))
    return Status::Corruption(std::string(kRetiredKeysName) + ": checksum mismatch");
  for (uint64_t i = 0; i < n; i++) {
    const uint8_t* r = p + 20 + i * kKeyRecord;
    Index::Digest d;
    std::memcpy(d.data(), r, 16);
    std::array<uint8_t, kFrameHeaderSize> h;
    std::memcpy(h.data(), r + 16, kFrameHeaderSize);
    retired_keys_[d] = h;
  }
  return Status::OK();
}

Status WriteRetiredKeys(const std::string& dir, const RetiredKeys& keys, uint32_t file_mode) {
  std::string body(12, '\0');
  const uint64_t n = keys.size();
  std::memcpy(body.data() + 4, &n, 8);
  for (const auto& [d, h] : keys) {
    body.append(reinterpret_cast<const char*>(d.data()), 16);
    body.append(reinterpret_cast<const char*>(h.data()), h.size());
  }
  const uint32_t crc =
      crc32c::Mask(crc32c::Value(reinterpret_cast<const uint8_t*>(body.data()) + 4, body.size() - 4));
  std::memcpy(body.data(), &crc, 4);
  return fsutil::WriteFileAtomic(dir, kRetiredKeysName, std::string(kKeysMagic, 8) + body, file_mode);
}

// "retired.heads": "CWHEADv1", u32 masked crc of the rest, u64 count, then
// per entity: u16 name length, name, u32 clock, 32-byte content hash.
constexpr char kHeadsMagic[8] = {'C', 'W', 'H', 'E', 'A', 'D', 'v', '1'};

Status WriteRetiredHeads(const std::string& dir, const RetiredHeads& heads, uint32_t file_mode) {
  std::string body(12, '\0');
  const uint64_t n = heads.size();
  std::memcpy(body.data() + 4, &n, 8);
  for (const auto& [name, h] : heads) {
    const uint16_t len = static_cast<uint16_t>(name.size());
    body.append(reinterpret_cast<const char*>(&len), 2);
    body += name;
    body.append(reinterpret_cast<const char*>(&h.first), 4);
    body.append(reinterpret_cast<const char*>(h.second.data()), 32);
  }
  const uint32_t crc =
      crc32c::Mask(crc32c::Value(reinterpret_cast<const uint8_t*>(body.data()) + 4, body.size() - 4));
  std::memcpy(body.data(), &crc, 4);
  return fsutil::WriteFileAtomic(dir, kRetiredHeadsName, std::string(kHeadsMagic, 8) + body, file_mode);
}

Status Store::LoadRetiredHeads() {
  std::string file;
  Status s = fsutil::ReadFile(options_.dir + "/" + kRetiredHeadsName, &file);
  if (s.code() == Status::Code::kNotFound) return Status::OK();
  CW_RETURN_IF_ERROR(s);
  const auto* p = reinterpret_cast<const uint8_t*>(file.data());
  if (file.size() < 20 || std::memcmp(p, kHeadsMagic, 8) != 0 ||
      crc32c::Mask(crc32c::Value(p + 12, file.size() - 12)) != LoadLE<uint32_t>(p + 8))
    return Status::Corruption(std::string(kRetiredHeadsName) + ": bad magic or checksum");
  ByteReader r(p + 20, file.size() - 20);
  const uint64_t n = LoadLE<uint64_t>(p + 12);
  for (uint64_t i = 0; i < n; i++) {
    uint16_t len;
    std::string name;
    uint32_t clock;
    std::array<uint8_t, 32> hash;
    if (!r.Get(&len)) return Status::Corruption(std::string(kRetiredHeadsName) + ": truncated");
    name.resize(len);
    if (!r.Bytes(name.data(), len) || !r.Get(&clock) || !r.Bytes(hash.data(), 32))
      return Status::Corruption(std::string(kRetiredHeadsName) + ": truncated");
    retired_heads_[name] = {clock, hash};
  }
  return Status::OK();
}

void Store::ApplyRetiredHeads() {
  for (const auto& [name, head] : retired_heads_) {
    const uint32_t e = index_.InternEntity(name);
    if (index_.EntityClock(e) < head.first) index_.RaiseEntity(e, head.first, head.second.data());
  }
}

}  // namespace causeway
