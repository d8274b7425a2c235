// A replica's append: frames another store wrote (shipped over NATS
// JetStream by causeway/replicate) appended as they are, so the replica's
// log is byte for byte the source's: ids, times, idempotency digests,
// hashes and chains kept, every frame checked to continue this log.
#include <cstring>
#include <string>
#include <vector>

#include "frame.h"
#include "store.h"

namespace causeway {

Status Store::AppendFrames(const uint8_t* bytes, size_t len, size_t n, Receipt* out, bool durable) {
  if (n == 0) return Status::InvalidArgument("appendFrames needs at least one frame");
  if (role() != Role::kWriter)
    return Status::InvalidArgument("appendFrames needs this process to be the store's writer (open it exclusive)");
  std::vector<FrameView> views(n);
  std::vector<AppendRequest> items(n);
  size_t off = 0;
  for (size_t i = 0; i < n; i++) {
    FrameView& f = views[i];
    if (off >= len) return Status::InvalidArgument("appendFrames: fewer frames than the count");
    const FrameCheck c = DecodeFrame(bytes + off, len - off, &f);
    if (c != FrameCheck::kOk)
      return Status::InvalidArgument("replicated frame " + std::to_string(i) + " does not check: " + FrameCheckName(c));
    if (f.flags & kFlagTombstone)
      return Status::InvalidArgument("replicated frame " + std::to_string(i) + " is a tombstone: its payload is gone");
    AppendRequest& r = items[i];
    CW_RETURN_IF_ERROR(InternEntity(std::string(reinterpret_cast<const char*>(f.entity()), f.entity_len), &r.entity));
    CW_RETURN_IF_ERROR(InternScope(std::string(reinterpret_cast<const char*>(f.scope()), f.scope_len), &r.scope));
    r.kind = f.kind;
    r.payload = f.payload();
    r.payload_len = f.payload_len;
    r.correlation_id = f.correlation_id();
    r.causation_id = (f.flags & kFlagHasCausation) ? f.causation_id() : nullptr;
    r.extension = f.extension();
    r.ext_len = f.ext_len;
    r.replica = &f;
    off += AlignFrame(f.length);
  }
  if (off != len) return Status::InvalidArgument("appendFrames: bytes left after the last frame");
  return AppendBatch(items.data(), n, out, nullptr, durable, nullptr);
}

// 2b. (ValidateItems) A replicated frame continues this log exactly: the next
// sequence, the entity's next clock, its chain, the payload's hash, the
// source batch's bounds and one timestamp per batch. REQUIRES: combiner role.
Status Store::CheckReplicaFrame(const PendingAppend& p, size_t i, uint32_t clock, const uint8_t* prev_hash) const {
  const FrameView& f = *p.items[i].replica;
  const std::string at = "replicated frame at sequence " + std::to_string(f.sequence);
  if (f.sequence != next_sequence_ + i)
    return Status::InvalidArgument(at + " does not follow this log, which is at sequence " +
                                   std::to_string(next_sequence_ + i));
  if (f.clock != clock)
    return Status::InvalidArgument(at + " has clock " + std::to_string(f.clock) + " where this log's entity is at " +
                                   std::to_string(clock - 1));
  if (std::memcmp(f.content_hash(), p.hashes[i], 32) != 0) return Status::InvalidArgument(at + ": payload does not hash to its content hash");
  if (std::memcmp(f.prev_hash(), prev_hash, 32) != 0)
    return Status::InvalidArgument(at + ": its prev hash is not the content hash of the entity's previous event here");
  const uint8_t bounds = static_cast<uint8_t>((p.n > 1 ? kFlagBatchMember : 0) | (p.n > 1 && i + 1 == p.n ? kFlagBatchEnd : 0));
  if ((f.flags & (kFlagBatchMember | kFlagBatchEnd)) != bounds)
    return Status::InvalidArgument(at + ": its batch bounds differ from the frames appended with it");
  if (!p.items[0].replica || f.timestamp_us != p.items[0].replica->timestamp_us)
    return Status::InvalidArgument(at + ": frames of one batch carry one timestamp");
  return Status::OK();
}

}  // namespace causeway
