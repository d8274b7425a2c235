// Reads: every query copies matched frames out under the reader lock; and
// the store's statistics and names.
#include "store.h"

#include <algorithm>
#include <cstring>

#include "frame.h"

namespace causeway {

Status Store::FrameAt(Row r, FrameView* v) const {
  RowLocation loc = index_.Location(r);
  const Segment& seg = *segments_[loc.segment_slot];
  FrameCheck c = DecodeFrame(seg.data() + loc.offset, seg.size() - loc.offset, v);
  if (c != FrameCheck::kOk)
    return Status::Corruption("segment " + Segment::FileName(seg.id()) + " offset " + std::to_string(loc.offset) +
                              ": " + FrameCheckName(c) + " on read");
  return Status::OK();
}

Status Store::WriteRecords(const std::vector<Row>& rows, const Allocator& alloc) {
  std::vector<FrameView> views(rows.size());
  for (size_t i = 0; i < rows.size(); i++) CW_RETURN_IF_ERROR(FrameAt(rows[i], &views[i]));
  return WriteViews(rows, views, alloc);
}

Status Store::WriteViews(const std::vector<Row>& rows, const std::vector<FrameView>& views, const Allocator& alloc) {
  size_t total = 0;
  for (const FrameView& v : views) total += kRecordPrefix + AlignFrame(v.length);
  uint8_t* dst = alloc(total);
  if (!dst && total) return Status::OutOfMemory("out of memory for " + std::to_string(total) + " bytes of results");
  for (size_t i = 0; i < rows.size(); i++) {
    const uint32_t span = static_cast<uint32_t>(kRecordPrefix + AlignFrame(views[i].length));
    StoreLE<uint32_t>(dst, span);
    StoreLE<uint32_t>(dst + 4, index_.Entity(rows[i]));
    StoreLE<uint32_t>(dst + 8, index_.Scope(rows[i]));
    StoreLE<uint32_t>(dst + 12, 0);
    std::memcpy(dst + kRecordPrefix, views[i].base, views[i].length);
    std::memset(dst + kRecordPrefix + views[i].length, 0, span - kRecordPrefix - views[i].length);
    dst += span;
  }
  return Status::OK();
}

Status Store::QueryRecords(const RegionFilter& filter, const Allocator& alloc, size_t* count) {
  auto g = ReadLock();
  if (closed()) return Status::Closed("the store is closed");
  std::vector<Row> rows;
  CW_RETURN_IF_ERROR(index_.Query(filter, &rows));
  *count = rows.size();
  return WriteRecords(rows, alloc);
}

Status Store::EntityClock(std::string_view entity, uint32_t* clock) {
  auto g = ReadLock();
  if (closed()) return Status::Closed("the store is closed");
  const uint32_t e = index_.FindEntity(entity);
  *clock = e == kNoId ? 0 : index_.PublishedClock(e);
  return Status::OK();
}

Status Store::ScanRecords(uint64_t from_sequence, uint64_t limit, const Allocator& alloc, size_t* count,
                          std::vector<Damaged>* damaged) {
  auto g = ReadLock();
  if (closed()) return Status::Closed("the store is closed");
  RegionFilter f;
  f.after_sequence = from_sequence;
  f.limit = limit;
  std::vector<Row> rows, good;
  CW_RETURN_IF_ERROR(index_.Query(f, &rows));
  std::vector<FrameView> views;
  good.reserve(rows.size());
  views.reserve(rows.size());
  for (Row r : rows) {
    FrameView v;
    Status st = FrameAt(r, &v);
    if (!st.ok()) {
      damaged->push_back({index_.Sequence(r), st.message()});
      continue;
    }
    good.push_back(r);
    views.push_back(v);
  }
  *count = good.size();
  return WriteViews(good, views, alloc);  // checked once above, not again
}

Status Store::CorrelationRecords(const uint8_t* id, const Allocator& alloc, size_t* count) {
  auto g = ReadLock();
  if (closed()) return Status::Closed("the store is closed");
  std::vector<Row> rows;
  CW_RETURN_IF_ERROR(index_.ByCorrelation(id, &rows));
  *count = rows.size();
  return WriteRecords(rows, alloc);
}

Status Store::EffectRecords(const uint8_t* id, const Allocator& alloc, size_t* count) {
  auto g = ReadLock();
  if (closed()) return Status::Closed("the store is closed");
  std::vector<Row> rows;
  CW_RETURN_IF_ERROR(index_.ByCausation(id, &rows));
  *count = rows.size();
  return WriteRecords(rows, alloc);
}

Status Store::SubscriptionPoll(const RegionFilter& filter, uint64_t* pos, uint64_t max, const Allocator& alloc,
                               uint64_t* lagged, size_t* count) {
  auto g = ReadLock();
  if (closed()) return Status::Closed("the store is closed");
  std::vector<Row> rows;
  uint64_t p = *pos;
  while (rows.size() < max) {
    uint64_t seq;
    BroadcastRing::Read r = ring_.TryRead(p, &seq);
    if (r == BroadcastRing::Read::kEmpty) break;
    if (r == BroadcastRing::Read::kLagged) {
      // Skip to the oldest message still in the ring.
      const uint64_t h = ring_.head();
      const uint64_t oldest = h > ring_.capacity() ? h - ring_.capacity() : 0;
      const uint64_t to = std::max(oldest, p + 1);
      *lagged += to - p;
      p = to;
      continue;
    }
    p++;
    int64_t row;
    CW_RETURN_IF_ERROR(index_.FindSequence(seq, &row));
    if (row >= 0 && index_.Matches(static_cast<Row>(row), filter)) rows.push_back(static_cast<Row>(row));
  }
  *pos = p;
  *count = rows.size();
  return WriteRecords(rows, alloc);
}

Status Store::GetRecord(const uint8_t* event_id, const Allocator& alloc, bool* found) {
  auto g = ReadLock();
  if (closed()) return Status::Closed("the store is closed");
  int64_t r = -1;
  *found = false;
  CW_RETURN_IF_ERROR(index_.FindId(event_id, &r));
  if (r < 0) return Status::OK();
  CW_RETURN_IF_ERROR(index_.EnsureRow(static_cast<Row>(r)));  // its names, before its entity is read
  *found = true;
  return WriteRecords({static_cast<Row>(r)}, alloc);
}

Status Store::RecordsBySequence(uint64_t from, uint64_t limit, const Allocator& alloc, size_t* count) {
  RegionFilter f;
  f.after_sequence = from;
  f.limit = limit;
  return QueryRecords(f, alloc, count);
}

Status Store::Stats(StoreStats* out) {
  // The role too: the byte counts walk what the writer grows.
  WriterRole role(this);
  std::lock_guard<std::mutex> g(mu_);
  if (closed()) return Status::Closed("the store is closed");
  out->events = index_.size();
  out->next_sequence = next_sequence_;
  out->durable_sequence = sync_.durable_sequence.load();
  out->segments = segments_.size();
  uint64_t bytes = 0;
  // A shared store's sealed files keep their zero tail; a client's last file is read to read_end_.
  for (const auto& s : segments_)
    bytes += s == active_                                   ? write_pos_
             : s->frontier().state == kFrontierSealed       ? std::min(s->size(), s->frontier().end)
             : s == segments_.back() && !writer()           ? read_end_
                                                            : s->size();
  out->bytes = bytes;
  out->index_bytes = index_.MemoryBytes();
  out->role = static_cast<uint8_t>(this->role());
  out->clients = ClientCount();
  out->entities = index_.entity_count();
  out->scopes = index_.scope_count();
  out->last_sync_us = sync_.last_sync_us;
  out->syncs = sync_.syncs;
  out->sync_errors = sync_.errors;
  out->recovered_torn_bytes = recovered_torn_bytes_;
  out->opened_from_checkpoint = opened_from_checkpoint_;
  out->footers_loaded = footers_loaded_;
  out->index_files_loaded = index_files_loaded_;
  out->index_files_checked = index_.checked_files();
  out->index_files = index_.ids().attached_parts();
  out->index_file_bytes = index_.ids().attached_bytes();
  out->damage = damage_;
  out->open_micros = open_micros_;
  return Status::OK();
}

Status Store::EntityName(uint32_t id, std::string* out) {
  std::lock_guard<std::mutex> g(mu_);
  if (id >= index_.entity_count()) return Status::NotFound("entity id " + std::to_string(id));
  *out = index_.EntityName(id);
  return Status::OK();
}

Status Store::ScopeName(uint32_t id, std::string* out) {
  std::lock_guard<std::mutex> g(mu_);
  if (id >= index_.scope_count()) return Status::NotFound("scope id " + std::to_string(id));
  *out = index_.ScopeName(id);
  return Status::OK();
}

Status Store::Metrics(uint64_t sync_from, uint64_t roll_from, MetricsReport* out) {
  std::lock_guard<std::mutex> g(mu_);
  out->syncs = sync_.syncs;
  out->sync_errors = sync_.errors;
  out->rolls = sync_.rolls;
  out->sync_next = sync_.sync_log.Since(sync_from, &out->sync_us);
  out->roll_next = sync_.roll_log.Since(roll_from, &out->roll_us);
  return Status::OK();
}

}  // namespace causeway
