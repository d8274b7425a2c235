#include "link_wire.h"

#include <algorithm>
#include <cstring>

namespace causeway::link {
namespace {

// Little-endian writer and a bounds-checked reader over one message body.
class Out {
 public:
  template <typename T>
  Out& Put(T v) {
    s.append(reinterpret_cast<const char*>(&v), sizeof v);
    return *this;
  }
  Out& Raw(const void* p, size_t n) {
    s.append(static_cast<const char*>(p), n);
    return *this;
  }
  Out& Str(const std::string& v) { return Put<uint32_t>(static_cast<uint32_t>(v.size())).Raw(v.data(), v.size()); }
  std::string s;
};

class In {
 public:
  In(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
  template <typename T>
  bool Get(T* v) {
    if (left() < sizeof *v) return false;
    std::memcpy(v, p_, sizeof *v);
    p_ += sizeof *v;
    return true;
  }
  bool Raw(void* v, size_t n) {
    if (left() < n) return false;
    std::memcpy(v, p_, n);
    p_ += n;
    return true;
  }
  // A view of the next n bytes (n bounded by what is left).
  bool View(size_t n, const uint8_t** v) {
    if (left() < n) return false;
    *v = p_;
    p_ += n;
    return true;
  }
  bool Str(std::string* v, uint32_t max) {
    uint32_t len;
    const uint8_t* b;
    if (!Get(&len) || len > max || !View(len, &b)) return false;
    v->assign(reinterpret_cast<const char*>(b), len);
    return true;
  }
  size_t left() const { return static_cast<size_t>(end_ - p_); }
  bool done() const { return p_ == end_; }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

constexpr uint32_t kMaxString = 1u << 16;  // names, keys, messages

Status Bad(const std::string& what) { return Status::InvalidArgument("malformed writer-link message: " + what); }

void PutFilter(Out& o, const RegionFilter& f, bool item = false) {
  o.Put<uint8_t>(f.has_entity | f.exact_entity << 1 | f.has_scope << 2 | f.has_clock << 3 | f.has_time << 4 |
                 f.has_occurred << 5);
  o.Str(f.entity).Str(f.scope).Put<uint8_t>(static_cast<uint8_t>(f.kind_mode)).Put(f.kind);
  o.Put(f.clock_from).Put(f.clock_to).Put(f.time_from_us).Put(f.time_to_us).Put(f.after_sequence).Put(f.limit);
  o.Put(f.occurred_from_us).Put(f.occurred_to_us);
  o.Put<uint32_t>(static_cast<uint32_t>(f.kinds.size()));
  for (uint16_t k : f.kinds) o.Put(k);
  o.Put<uint32_t>(static_cast<uint32_t>(f.tags.size()));
  for (const auto& t : f.tags) o.Raw(t.data(), 16);
  if (item) return;  // items nest one level only
  o.Put<uint32_t>(static_cast<uint32_t>(f.any_of.size()));
  for (const RegionFilter& g : f.any_of) PutFilter(o, g, true);
}

bool GetFilter(In& in, RegionFilter* f, bool item = false) {
  uint8_t flags, mode;
  if (!in.Get(&flags) || flags > 63 || !in.Str(&f->entity, kMaxString) || !in.Str(&f->scope, kMaxString) ||
      !in.Get(&mode) || mode > 2 || !in.Get(&f->kind))
    return false;
  f->has_entity = flags & 1;
  f->exact_entity = flags & 2;
  f->has_scope = flags & 4;
  f->has_clock = flags & 8;
  f->has_time = flags & 16;
  f->has_occurred = flags & 32;
  f->kind_mode = static_cast<RegionFilter::Kind>(mode);
  uint32_t kinds, tags;
  if (!in.Get(&f->clock_from) || !in.Get(&f->clock_to) || !in.Get(&f->time_from_us) || !in.Get(&f->time_to_us) ||
      !in.Get(&f->after_sequence) || !in.Get(&f->limit) || !in.Get(&f->occurred_from_us) ||
      !in.Get(&f->occurred_to_us) || !in.Get(&kinds) || kinds > in.left() / 2)
    return false;
  f->kinds.resize(kinds);
  for (uint16_t& k : f->kinds)
    if (!in.Get(&k)) return false;
  if (!in.Get(&tags) || tags > in.left() / 16) return false;
  f->tags.resize(tags);
  for (auto& t : f->tags)
    if (!in.Raw(t.data(), 16)) return false;
  if (item) return true;
  uint32_t items;
  if (!in.Get(&items) || items > in.left() / 40) return false;
  f->any_of.resize(items);
  for (RegionFilter& g : f->any_of)
    if (!GetFilter(in, &g, true)) return false;
  return true;
}

void PutStatus(Out& o, const Status& s) { o.Put<uint8_t>(static_cast<uint8_t>(s.code())).Str(s.message()); }

bool GetStatus(In& in, Status* s) {
  uint8_t code;
  std::string msg;
  if (!in.Get(&code) || code > static_cast<uint8_t>(Status::Code::kWriterUnavailable) || !in.Str(&msg, kMaxString))
    return false;
  *s = code == 0 ? Status::OK() : Status::FromCode(static_cast<Status::Code>(code), std::move(msg));
  return true;
}

}  // namespace

std::string Frame(const std::string& body) {
  Out o;
  o.Put<uint32_t>(static_cast<uint32_t>(body.size())).Raw(body.data(), body.size());
  return std::move(o.s);
}

std::string EncodeHello(HelloMode mode) {
  Out o;
  o.Put(static_cast<uint8_t>(Op::kHello)).Put(kMagic).Put(kVersion).Put(static_cast<uint8_t>(mode));
  return std::move(o.s);
}

std::string EncodeAppend(const AppendRequest* items, size_t n, const std::vector<std::string>& entities,
                         const std::vector<std::string>& scopes, const AppendCondition* condition, bool durable) {
  Out o;
  o.Put(static_cast<uint8_t>(Op::kAppend)).Put<uint8_t>(durable | (condition != nullptr) << 1);
  if (condition) PutFilter(o, condition->filter);
  o.Put<uint32_t>(static_cast<uint32_t>(n));
  for (size_t i = 0; i < n; i++) {
    const AppendRequest& r = items[i];
    o.Str(entities[i]).Str(scopes[i]).Put(r.kind);
    o.Put<uint8_t>(r.has_expected | (r.idempotency_key != nullptr) << 1 | (r.correlation_id != nullptr) << 2 |
                   (r.causation_id != nullptr) << 3 | (r.ext_len != 0) << 4);
    o.Put(r.expected_clock).Put(r.causation_prior_item);
    if (r.idempotency_key) o.Put(r.idempotency_key_len).Raw(r.idempotency_key, r.idempotency_key_len);
    if (r.correlation_id) o.Raw(r.correlation_id, 16);
    if (r.causation_id) o.Raw(r.causation_id, 16);
    o.Put(r.payload_len).Raw(r.payload, r.payload_len);
    if (r.ext_len) o.Put(r.ext_len).Raw(r.extension, r.ext_len);
  }
  return std::move(o.s);
}

std::string EncodeSync() { return std::string(1, static_cast<char>(Op::kSync)); }

std::string EncodeCompact(const CompactionPlan& plan) {
  Out o;
  o.Put(static_cast<uint8_t>(Op::kCompact)).Put(static_cast<uint8_t>(plan.strategy));
  o.Put(plan.up_to_segment).Put(plan.min_segments).Put<uint64_t>(plan.rejected.size());
  for (uint64_t r : plan.rejected) o.Put(r);
  return std::move(o.s);
}

Status DecodeOp(const uint8_t* p, size_t n, Op* op) {
  if (n == 0) return Bad("empty message");
  if (p[0] < 1 || p[0] > 4) return Bad("unknown operation " + std::to_string(p[0]));
  *op = static_cast<Op>(p[0]);
  return Status::OK();
}

std::string EncodeNote(uint64_t next_sequence, uint64_t durable_sequence) {
  Out o;
  o.Put(next_sequence).Put(durable_sequence);
  return std::move(o.s);
}

bool NoteReader::Feed(const uint8_t* p, size_t n, uint64_t* next, uint64_t* durable) {
  bool got = false;
  while (n > 0) {
    const size_t take = std::min(n, kNoteSize - have_);
    std::memcpy(part_ + have_, p, take);
    have_ += take;
    p += take;
    n -= take;
    if (have_ == kNoteSize) {
      std::memcpy(next, part_, 8);
      std::memcpy(durable, part_ + 8, 8);
      have_ = 0;
      got = true;
    }
  }
  return got;
}

Status DecodeHello(const uint8_t* p, size_t n, HelloMode* mode) {
  In in(p + 1, n - 1);
  uint32_t magic, version;
  uint8_t w;
  if (!in.Get(&magic) || !in.Get(&version) || !in.Get(&w) || !in.done() || w > 2) return Bad("hello");
  if (magic != kMagic) return Bad("not a causeway client");
  if (version != kVersion)
    return Status::InvalidArgument("writer-link version " + std::to_string(version) + " is not this writer's (" +
                                   std::to_string(kVersion) + "): run one causeway version per store");
  *mode = static_cast<HelloMode>(w);
  return Status::OK();
}

Status DecodeAppend(const uint8_t* p, size_t n, AppendMessage* out) {
  In in(p + 1, n - 1);
  uint8_t flags;
  if (!in.Get(&flags) || flags > 3) return Bad("append flags");
  out->durable = flags & 1;
  out->has_condition = flags & 2;
  if (out->has_condition && !GetFilter(in, &out->condition)) return Bad("append condition");
  uint32_t count;
  if (!in.Get(&count) || count == 0 || count > kMaxItems) return Bad("append item count");
  // Each item takes at least 23 bytes: a count past that cannot be real.
  if (count > in.left() / 23) return Bad("append item count exceeds the message");
  out->items.resize(count);
  for (uint32_t i = 0; i < count; i++) {
    WireItem& it = out->items[i];
    AppendRequest& r = it.req;
    uint8_t f;
    if (!in.Str(&it.entity, kMaxString) || !in.Str(&it.scope, kMaxString) || !in.Get(&r.kind) || !in.Get(&f) ||
        f > 31 || !in.Get(&r.expected_clock) || !in.Get(&r.causation_prior_item))
      return Bad("append item " + std::to_string(i));
    r.has_expected = f & 1;
    if (r.causation_prior_item < -1 || r.causation_prior_item >= static_cast<int32_t>(i))
      return Bad("append item " + std::to_string(i) + ": causation names no earlier item");
    if (f & 2) {
      if (!in.Get(&r.idempotency_key_len) || r.idempotency_key_len > kMaxString ||
          !in.View(r.idempotency_key_len, &r.idempotency_key))
        return Bad("append item " + std::to_string(i) + " idempotency key");
    }
    if (f & 4) {
      if (!in.Raw(it.correlation, 16)) return Bad("append item " + std::to_string(i) + " correlation id");
      r.correlation_id = it.correlation;
    }
    if (f & 8) {
      if (!in.Raw(it.causation, 16)) return Bad("append item " + std::to_string(i) + " causation id");
      r.causation_id = it.causation;
    }
    if (!in.Get(&r.payload_len) || !in.View(r.payload_len, &r.payload))
      return Bad("append item " + std::to_string(i) + " payload");
    // The block itself is checked by the writer's append (CheckExtension).
    if ((f & 16) && (!in.Get(&r.ext_len) || r.ext_len == 0 || !in.View(r.ext_len, &r.extension)))
      return Bad("append item " + std::to_string(i) + " extension");
  }
  if (!in.done()) return Bad("bytes after the last append item");
  return Status::OK();
}

Status DecodeCompact(const uint8_t* p, size_t n, CompactionPlan* out) {
  In in(p + 1, n - 1);
  uint8_t strategy;
  uint64_t count;
  if (!in.Get(&strategy) || strategy > 2 || !in.Get(&out->up_to_segment) || !in.Get(&out->min_segments) ||
      !in.Get(&count) || count > in.left() / 8)
    return Bad("compact");
  out->strategy = static_cast<CompactionStrategy>(strategy);
  out->rejected.resize(count);
  for (uint64_t i = 0; i < count; i++) {
    if (!in.Get(&out->rejected[i]) || (i && out->rejected[i] <= out->rejected[i - 1])) return Bad("compact: rejected sequences");
  }
  if (!in.done()) return Bad("bytes after the compaction plan");
  return Status::OK();
}

std::string EncodeStatusReply(const Status& s) {
  Out o;
  PutStatus(o, s);
  return std::move(o.s);
}

std::string EncodeAppendReply(const Status& s, const Receipt* receipts, size_t n, const AppendError& e) {
  Out o;
  PutStatus(o, s);
  if (!s.ok()) {
    o.Put(e.item).Str(e.entity).Put(e.expected).Put(e.actual).Put(e.conflict_sequence);
    return std::move(o.s);
  }
  o.Put<uint32_t>(static_cast<uint32_t>(n));
  for (size_t i = 0; i < n; i++) {
    const Receipt& r = receipts[i];
    o.Put(r.sequence).Put(r.clock).Put(r.timestamp_us).Raw(r.event_id, 16).Raw(r.correlation_id, 16);
    o.Raw(r.causation_id, 16).Raw(r.content_hash, 32).Raw(r.prev_hash, 32);
    o.Put<uint8_t>(r.has_causation | r.durable << 1 | r.deduplicated << 2);
  }
  return std::move(o.s);
}

std::string EncodeCompactReply(const Status& s, const CompactionReport& r) {
  Out o;
  PutStatus(o, s);
  o.Put<uint8_t>(r.performed).Str(r.reason).Put(r.segments_before).Put(r.segments_after).Put(r.bytes_before);
  o.Put(r.bytes_after).Put(r.events_dropped).Put(r.events_tombstoned).Put(r.events_kept);
  o.Put(r.first_segment).Put(r.last_segment);
  return std::move(o.s);
}

std::string EncodeSyncReply(const Status& s, uint64_t durable_sequence) {
  Out o;
  PutStatus(o, s);
  if (s.ok()) o.Put(durable_sequence);
  return std::move(o.s);
}

Status DecodeSyncReply(const uint8_t* p, size_t n, Status* remote, uint64_t* durable_sequence) {
  In in(p, n);
  *durable_sequence = 0;
  if (!GetStatus(in, remote) || (remote->ok() && !in.Get(durable_sequence)) || !in.done()) return Bad("sync reply");
  return Status::OK();
}

Status DecodeStatusReply(const uint8_t* p, size_t n, Status* remote) {
  In in(p, n);
  if (!GetStatus(in, remote) || !in.done()) return Bad("status reply");
  return Status::OK();
}

Status DecodeAppendReply(const uint8_t* p, size_t n, Status* remote, Receipt* receipts, size_t expect,
                         AppendError* error) {
  In in(p, n);
  if (!GetStatus(in, remote)) return Bad("append reply");
  if (!remote->ok()) {
    AppendError e;
    if (!in.Get(&e.item) || !in.Str(&e.entity, kMaxString) || !in.Get(&e.expected) || !in.Get(&e.actual) ||
        !in.Get(&e.conflict_sequence) || !in.done())
      return Bad("append refusal");
    if (error) *error = std::move(e);
    return Status::OK();
  }
  uint32_t count;
  if (!in.Get(&count) || count != expect) return Bad("append reply: receipt count");
  for (size_t i = 0; i < count; i++) {
    Receipt& r = receipts[i];
    uint8_t f;
    if (!in.Get(&r.sequence) || !in.Get(&r.clock) || !in.Get(&r.timestamp_us) || !in.Raw(r.event_id, 16) ||
        !in.Raw(r.correlation_id, 16) || !in.Raw(r.causation_id, 16) || !in.Raw(r.content_hash, 32) ||
        !in.Raw(r.prev_hash, 32) || !in.Get(&f))
      return Bad("append reply: receipt " + std::to_string(i));
    r.has_causation = f & 1;
    r.durable = f & 2;
    r.deduplicated = f & 4;
  }
  if (!in.done()) return Bad("bytes after the last receipt");
  return Status::OK();
}

Status DecodeCompactReply(const uint8_t* p, size_t n, Status* remote, CompactionReport* r) {
  In in(p, n);
  uint8_t performed;
  if (!GetStatus(in, remote) || !in.Get(&performed) || !in.Str(&r->reason, kMaxString) || !in.Get(&r->segments_before) ||
      !in.Get(&r->segments_after) || !in.Get(&r->bytes_before) || !in.Get(&r->bytes_after) ||
      !in.Get(&r->events_dropped) || !in.Get(&r->events_tombstoned) || !in.Get(&r->events_kept) ||
      !in.Get(&r->first_segment) || !in.Get(&r->last_segment) || !in.done())
    return Bad("compact reply");
  r->performed = performed;
  return Status::OK();
}

}  // namespace causeway::link
