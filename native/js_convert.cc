#include <cstring>
#include "js_convert.h"

#include <algorithm>

#include "segment.h"

namespace causeway::js {

// ---- arguments and options ----

// napi_coerce_to_bool refuses to run once a worker is being terminated
// (can_call_into_js is false), and node-addon-api turns that refusal into a
// fatal error when C++ exceptions are off. napi_typeof and
// napi_get_value_bool have no such check.
bool Flag(const Napi::Value& v) { return v.IsBoolean() && v.As<Napi::Boolean>().Value(); }

double NumberOr(Napi::Object o, const char* key, double dflt) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : dflt;
}

bool Id16(const Napi::Value& v) { return v.IsTypedArray() && v.As<Napi::Uint8Array>().ByteLength() == 16; }

Status ParseOpenOptions(const Napi::Value& v, StoreOptions* opts) {
  if (!v.IsObject()) return Status::InvalidArgument("NativeStore expects an options object");
  Napi::Object o = v.As<Napi::Object>();
  Napi::Value dir = o.Get("dataDir");
  if (!dir.IsString()) return Status::InvalidArgument("dataDir must be a string");
  opts->dir = dir.As<Napi::String>().Utf8Value();
  opts->segment_max_bytes = static_cast<uint64_t>(NumberOr(o, "segmentMaxBytes", double(opts->segment_max_bytes)));
  opts->sync_every_events = static_cast<uint64_t>(NumberOr(o, "syncEveryEvents", double(opts->sync_every_events)));
  opts->sync_every_ms = static_cast<uint32_t>(NumberOr(o, "syncEveryMs", opts->sync_every_ms));
  opts->max_payload_bytes = static_cast<uint32_t>(NumberOr(o, "maxPayloadBytes", opts->max_payload_bytes));
  opts->read_only = Flag(o.Get("readOnly"));
  // Shared unless asked for exclusive: another process's writer is served, not refused.
  opts->shared = !Flag(o.Get("exclusive"));
  opts->writer_timeout_ms = static_cast<uint32_t>(NumberOr(o, "writerTimeoutMs", opts->writer_timeout_ms));
  opts->salvage = Flag(o.Get("salvage"));
  opts->file_mode = static_cast<uint32_t>(NumberOr(o, "fileMode", opts->file_mode));
  Napi::Value mode = o.Get("syncMode");
  if (mode.IsString()) {
    std::string m = mode.As<Napi::String>().Utf8Value();
    opts->sync_mode = m == "all" ? SyncMode::kAll : m == "none" ? SyncMode::kNone : SyncMode::kData;
  }
  opts->subscriber_capacity = static_cast<uint32_t>(NumberOr(o, "subscriberCapacity", opts->subscriber_capacity));
  if (opts->subscriber_capacity < 16) opts->subscriber_capacity = 16;
  return Status::OK();
}

namespace {
// The parts of a filter that a DCB query item may carry too: kinds, tags, event time.
void ParseExtendedParts(Napi::Object o, RegionFilter* f) {
  Napi::Value v = o.Get("kinds");
  if (v.IsArray()) {
    Napi::Array a = v.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value k = a.Get(i);
      if (k.IsNumber()) f->kinds.push_back(static_cast<uint16_t>(k.As<Napi::Number>().Uint32Value()));
    }
  }
  v = o.Get("tags");
  if (v.IsArray()) {
    Napi::Array a = v.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value t = a.Get(i);
      if (!t.IsString()) continue;
      const std::string s = t.As<Napi::String>().Utf8Value();
      f->tags.push_back(Index::TagKey(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
    }
  }
  v = o.Get("occurredFromUs");
  if (v.IsNumber()) {
    f->has_occurred = true;
    f->occurred_from_us = static_cast<int64_t>(v.As<Napi::Number>().DoubleValue());
    f->occurred_to_us = static_cast<int64_t>(NumberOr(o, "occurredToUs", 9.2e18));
  }
}
}  // namespace

RegionFilter ParseFilter(Napi::Object o) {
  RegionFilter f;
  ParseExtendedParts(o, &f);
  Napi::Value any = o.Get("anyOf");
  if (any.IsArray()) {
    Napi::Array a = any.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value item = a.Get(i);
      if (!item.IsObject()) continue;
      RegionFilter g = ParseFilter(item.As<Napi::Object>());
      g.any_of.clear();  // items nest one level only
      f.any_of.push_back(std::move(g));
    }
  }
  Napi::Value v = o.Get("entity");
  if (v.IsString()) {
    f.has_entity = true;
    f.entity = v.As<Napi::String>().Utf8Value();
    f.exact_entity = Flag(o.Get("exactEntity"));
  }
  v = o.Get("scope");
  if (v.IsString()) {
    f.has_scope = true;
    f.scope = v.As<Napi::String>().Utf8Value();
  }
  v = o.Get("kind");
  if (v.IsNumber()) {
    f.kind_mode = RegionFilter::Kind::kExact;
    f.kind = static_cast<uint16_t>(v.As<Napi::Number>().Uint32Value());
  }
  v = o.Get("category");
  if (v.IsNumber()) {
    f.kind_mode = RegionFilter::Kind::kCategory;
    f.kind = static_cast<uint16_t>(v.As<Napi::Number>().Uint32Value());
  }
  v = o.Get("clockFrom");
  if (v.IsNumber()) {
    f.has_clock = true;
    f.clock_from = static_cast<uint32_t>(v.As<Napi::Number>().DoubleValue());
    f.clock_to = static_cast<uint32_t>(NumberOr(o, "clockTo", 4294967295.0));
  }
  v = o.Get("timeFromUs");
  if (v.IsNumber()) {
    f.has_time = true;
    f.time_from_us = static_cast<int64_t>(v.As<Napi::Number>().DoubleValue());
    f.time_to_us = static_cast<int64_t>(NumberOr(o, "timeToUs", 9.2e18));
  }
  f.after_sequence = static_cast<uint64_t>(NumberOr(o, "fromSequence", 0));
  v = o.Get("beforeSequence");
  if (v.IsNumber()) f.before_sequence = static_cast<uint64_t>(v.As<Napi::Number>().DoubleValue());
  f.reverse = Flag(o.Get("reverse"));
  double lim = NumberOr(o, "limit", -1);
  if (lim >= 0) f.limit = static_cast<uint64_t>(lim);
  return f;
}

Status ParseCompactionPlan(const Napi::CallbackInfo& info, CompactionPlan* plan) {
  if (!info[0].IsString() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsTypedArray())
    return Status::InvalidArgument("compact expects (strategy, upToId, minSegments, rejected)");
  const std::string strategy = info[0].As<Napi::String>().Utf8Value();
  if (strategy == "merge") plan->strategy = CompactionStrategy::kMerge;
  else if (strategy == "retention") plan->strategy = CompactionStrategy::kRetention;
  else if (strategy == "tombstone") plan->strategy = CompactionStrategy::kTombstone;
  else return Status::InvalidArgument("strategy must be merge, retention or tombstone");
  plan->up_to_segment = static_cast<uint64_t>(info[1].As<Napi::Number>().DoubleValue());
  plan->min_segments = info[2].As<Napi::Number>().Uint32Value();
  auto rej = info[3].As<Napi::TypedArrayOf<double>>();
  plan->rejected.reserve(rej.ElementLength());
  for (size_t i = 0; i < rej.ElementLength(); i++) plan->rejected.push_back(static_cast<uint64_t>(rej[i]));
  std::sort(plan->rejected.begin(), plan->rejected.end());  // the plan holds them sorted
  return Status::OK();
}

// ---- appends ----

Status DecodeItems(const uint8_t* desc, size_t n, const uint8_t* bytes, size_t bytes_len, AppendRequest* items) {
  for (size_t i = 0; i < n; i++) {
    const uint8_t* d = desc + i * item::kSize;
    uint32_t po = LoadLE<uint32_t>(d + item::kPayloadOffset), pl = LoadLE<uint32_t>(d + item::kPayloadLen);
    uint32_t ko = LoadLE<uint32_t>(d + item::kKeyOffset), kl = LoadLE<uint32_t>(d + item::kKeyLen);
    uint32_t xo = 0, xl = 0;
    if (d[item::kFlags] & req::kHasExtension) {
      xo = LoadLE<uint32_t>(d + item::kExtOffset);
      xl = LoadLE<uint32_t>(d + item::kExtLen);
    }
    if (uint64_t(po) + pl > bytes_len || uint64_t(ko) + kl > bytes_len || uint64_t(xo) + xl > bytes_len)
      return Status::InvalidArgument("appendBatch: item " + std::to_string(i) + " points outside the byte buffer");
    DecodeFields<ItemFields>(d, bytes + po, pl, bytes + ko, kl, bytes + xo, xl, &items[i]);
  }
  return Status::OK();
}

// ---- results to JS ----

Napi::Number Number(Napi::Env env, double v) { return Napi::Number::New(env, v); }

Napi::Object SealedInfoToJs(Napi::Env env, uint64_t segments, uint64_t last_id, uint64_t from, uint64_t to) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("segments", Number(env, double(segments)));
  o.Set("lastId", Number(env, double(last_id)));
  o.Set("fromSequence", Number(env, double(from)));
  o.Set("toSequence", Number(env, double(to)));
  return o;
}

Napi::Object CompactionReportToJs(Napi::Env env, const CompactionReport& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("performed", Napi::Boolean::New(env, r.performed));
  o.Set("reason", Napi::String::New(env, r.reason));
  o.Set("segmentsBefore", Number(env, double(r.segments_before)));
  o.Set("segmentsAfter", Number(env, double(r.segments_after)));
  o.Set("bytesBefore", Number(env, double(r.bytes_before)));
  o.Set("bytesAfter", Number(env, double(r.bytes_after)));
  o.Set("eventsKept", Number(env, double(r.events_kept)));
  o.Set("eventsDropped", Number(env, double(r.events_dropped)));
  o.Set("eventsTombstoned", Number(env, double(r.events_tombstoned)));
  o.Set("firstSegment", Number(env, double(r.first_segment)));
  o.Set("lastSegment", Number(env, double(r.last_segment)));
  return o;
}

Napi::Object SnapshotReportToJs(Napi::Env env, const SnapshotReport& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("sequence", Number(env, double(r.sequence)));
  o.Set("segments", Number(env, double(r.segments)));
  o.Set("linked", Number(env, double(r.linked)));
  o.Set("copied", Number(env, double(r.copied)));
  o.Set("bytes", Number(env, double(r.bytes)));
  return o;
}

Napi::Object MetricsToJs(Napi::Env env, const MetricsReport& m) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("syncs", Number(env, double(m.syncs)));
  o.Set("syncErrors", Number(env, double(m.sync_errors)));
  o.Set("rolls", Number(env, double(m.rolls)));
  o.Set("syncNext", Number(env, double(m.sync_next)));
  o.Set("rollNext", Number(env, double(m.roll_next)));
  auto samples = [&](const std::vector<uint32_t>& v) {
    Napi::Uint32Array a = Napi::Uint32Array::New(env, v.size());
    if (!v.empty()) std::memcpy(a.Data(), v.data(), v.size() * sizeof(uint32_t));
    return a;
  };
  o.Set("syncMicros", samples(m.sync_us));
  o.Set("rollMicros", samples(m.roll_us));
  return o;
}

Napi::Object StatsToJs(Napi::Env env, const StoreStats& st) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("events", Number(env, double(st.events)));
  o.Set("nextSequence", Number(env, double(st.next_sequence)));
  o.Set("durableSequence", Number(env, double(st.durable_sequence)));
  o.Set("segments", Number(env, double(st.segments)));
  o.Set("bytes", Number(env, double(st.bytes)));
  o.Set("indexBytes", Number(env, double(st.index_bytes)));
  o.Set("entities", Number(env, double(st.entities)));
  o.Set("scopes", Number(env, double(st.scopes)));
  o.Set("lastSyncUs", Number(env, double(st.last_sync_us)));
  o.Set("syncs", Number(env, double(st.syncs)));
  o.Set("syncErrors", Number(env, double(st.sync_errors)));
  o.Set("recoveredTornBytes", Number(env, double(st.recovered_torn_bytes)));
  o.Set("openedFromCheckpoint", Napi::Boolean::New(env, st.opened_from_checkpoint));
  o.Set("footersLoaded", Number(env, double(st.footers_loaded)));
  o.Set("indexFilesLoaded", Number(env, double(st.index_files_loaded)));
  o.Set("indexFilesChecked", Number(env, double(st.index_files_checked)));
  o.Set("indexFiles", Number(env, double(st.index_files)));
  o.Set("indexFileBytes", Number(env, double(st.index_file_bytes)));
  Napi::Array dmg = Napi::Array::New(env, st.damage.size());
  for (size_t i = 0; i < st.damage.size(); i++) dmg.Set(i, Napi::String::New(env, st.damage[i]));
  o.Set("damage", dmg);
  o.Set("openMicros", Number(env, double(st.open_micros)));
  static const char* const kRoles[] = {"writer", "client", "read-only"};
  o.Set("role", Napi::String::New(env, kRoles[st.role < 3 ? st.role : 2]));
  o.Set("clients", Number(env, double(st.clients)));
  return o;
}

Napi::Array SegmentsToJs(Napi::Env env, const std::vector<SegmentInfo>& segs) {
  Napi::Array a = Napi::Array::New(env, segs.size());
  for (size_t i = 0; i < segs.size(); i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("id", Number(env, double(segs[i].id)));
    o.Set("file", Napi::String::New(env, Segment::FileName(segs[i].id)));
    o.Set("baseSequence", Number(env, double(segs[i].base_sequence)));
    o.Set("nextSequence", Number(env, double(segs[i].next_sequence)));
    o.Set("bytes", Number(env, double(segs[i].bytes)));
    o.Set("sealed", Napi::Boolean::New(env, segs[i].sealed));
    o.Set("active", Napi::Boolean::New(env, segs[i].active));
    a.Set(i, o);
  }
  return a;
}

Napi::Array DamagedToJs(Napi::Env env, const std::vector<Store::Damaged>& damaged) {
  Napi::Array d = Napi::Array::New(env, damaged.size());
  for (size_t i = 0; i < damaged.size(); i++) {
    Napi::Object x = Napi::Object::New(env);
    x.Set("sequence", Number(env, double(damaged[i].sequence)));
    x.Set("message", Napi::String::New(env, damaged[i].message));
    d.Set(i, x);
  }
  return d;
}

Napi::Object LayoutsToJs(Napi::Env env) {
  struct Field {
    const char* name;
    size_t value;
  };
  auto object = [env](std::initializer_list<Field> fields) {
    Napi::Object o = Napi::Object::New(env);
    for (const Field& f : fields) o.Set(f.name, Number(env, double(f.value)));
    return o;
  };
  Napi::Object o = Napi::Object::New(env);
  o.Set("request", object({{"entity", req::kEntity}, {"scope", req::kScope}, {"kind", req::kKind},
                           {"flags", req::kFlags}, {"expected", req::kExpected}, {"correlation", req::kCorrelation},
                           {"causation", req::kCausation}, {"keyLen", req::kKeyLen}, {"key", req::kKey},
                           {"size", req::kSize}, {"hasExpected", req::kHasExpected}, {"hasKey", req::kHasKey},
                           {"hasCorrelation", req::kHasCorrelation}, {"hasCausation", req::kHasCausation},
                           {"priorItem", req::kPriorItem}, {"extLen", req::kExtLen}, {"ext", req::kExt},
                           {"hasExtension", req::kHasExtension}}));
  o.Set("receipt", object({{"sequence", rcpt::kSequence}, {"clock", rcpt::kClock}, {"flags", rcpt::kFlags},
                           {"timestamp", rcpt::kTimestamp}, {"eventId", rcpt::kEventId},
                           {"correlation", rcpt::kCorrelation}, {"causation", rcpt::kCausation},
                           {"contentHash", rcpt::kContentHash}, {"prevHash", rcpt::kPrevHash}, {"size", rcpt::kSize},
                           {"durable", rcpt::kDurable}, {"deduplicated", rcpt::kDeduplicated},
                           {"hasCausation", rcpt::kHasCausation}}));
  o.Set("item", object({{"entity", item::kEntity}, {"scope", item::kScope}, {"kind", item::kKind},
                        {"flags", item::kFlags}, {"expected", item::kExpected}, {"priorItem", item::kPriorItem},
                        {"payloadOffset", item::kPayloadOffset}, {"payloadLen", item::kPayloadLen},
                        {"keyOffset", item::kKeyOffset}, {"keyLen", item::kKeyLen},
                        {"correlation", item::kCorrelation}, {"causation", item::kCausation},
                        {"extOffset", item::kExtOffset}, {"extLen", item::kExtLen}, {"size", item::kSize}}));
  o.Set("record", object({{"span", rec::kSpan}, {"entity", rec::kEntity}, {"scope", rec::kScope},
                          {"prefix", rec::kPrefix}}));
  return o;
}

RecordsOut::RecordsOut(Napi::Env env) : env_(env) {
  alloc_ = [this](size_t n) -> uint8_t* {
    buf_ = Napi::Buffer<uint8_t>::New(env_, n);
    return buf_.Data();
  };
}

Napi::Value RecordsOut::Value() const {
  if (buf_.IsEmpty()) return Napi::Buffer<uint8_t>::New(env_, 0);
  return buf_;
}

}  // namespace causeway::js
