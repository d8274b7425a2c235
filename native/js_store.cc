#include "js_store.h"

#include <algorithm>

#include "js_addon.h"
#include "js_errors.h"
#include "store_registry.h"

namespace causeway::js {
namespace {

// A boolean argument, read without coercion: napi_coerce_to_bool refuses to
// run once a worker is being terminated (can_call_into_js is false), and
// node-addon-api turns that refusal into a fatal error when C++ exceptions
// are off. napi_typeof and napi_get_value_bool have no such check.
bool Flag(const Napi::Value& v) { return v.IsBoolean() && v.As<Napi::Boolean>().Value(); }

// Marks objects made by this addon's NativeStore constructor, so a wrapped
// object from another copy of the addon (or another environment's class) is
// told apart from ours before its pointer is used.
constexpr napi_type_tag kJsStoreTag = {0x63617573657761ULL, 0x4e617469766553ULL};

void WriteReceipt(const Receipt& r, uint8_t* out) {
  StoreLE<uint64_t>(out + rcpt::kSequence, r.sequence);
  StoreLE<uint32_t>(out + rcpt::kClock, r.clock);
  out[rcpt::kFlags] = static_cast<uint8_t>((r.durable ? rcpt::kDurable : 0) |
                                           (r.deduplicated ? rcpt::kDeduplicated : 0) |
                                           (r.has_causation ? rcpt::kHasCausation : 0));
  StoreLE<int64_t>(out + rcpt::kTimestamp, r.timestamp_us);
  std::memcpy(out + rcpt::kEventId, r.event_id, 16);
  std::memcpy(out + rcpt::kCorrelation, r.correlation_id, 16);
  std::memcpy(out + rcpt::kCausation, r.causation_id, 16);
  std::memcpy(out + rcpt::kContentHash, r.content_hash, 32);
  std::memcpy(out + rcpt::kPrevHash, r.prev_hash, 32);
}

double NumberOr(Napi::Object o, const char* key, double dflt) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : dflt;
}

}  // namespace

Napi::Function JsStore::Define(Napi::Env env) {
  Napi::Function f = DefineClass(env, "NativeStore",
                                 {
                                     InstanceMethod<&JsStore::SetBuffers>("setBuffers"),
                                     InstanceMethod<&JsStore::InternEntity>("internEntity"),
                                     InstanceMethod<&JsStore::InternScope>("internScope"),
                                     InstanceMethod<&JsStore::Append>("append"),
                                     InstanceMethod<&JsStore::AppendBatch>("appendBatch"),
                                     InstanceMethod<&JsStore::Sync>("sync"),
                                     InstanceMethod<&JsStore::Close>("close"),
                                     InstanceMethod<&JsStore::Query>("query"),
                                     InstanceMethod<&JsStore::Get>("get"),
                                     InstanceMethod<&JsStore::Stats>("stats"),
                                     InstanceMethod<&JsStore::EntityName>("entityName"),
                                     InstanceMethod<&JsStore::ScopeName>("scopeName"),
                                     InstanceMethod<&JsStore::ByCorrelation>("byCorrelation"),
                                     InstanceMethod<&JsStore::Effects>("effects"),
                                     InstanceMethod<&JsStore::SubscriptionHead>("subscriptionHead"),
                                     InstanceMethod<&JsStore::SubscriptionPoll>("subscriptionPoll"),
                                     InstanceMethod<&JsStore::NextSequence>("nextSequence"),
                                     InstanceMethod<&JsStore::DurableSequence>("durableSequence"),
                                     InstanceMethod<&JsStore::SetNotify>("setNotify"),
                                     InstanceMethod<&JsStore::ArmNotify>("armNotify"),
                                     InstanceMethod<&JsStore::IdleNotify>("idleNotify"),
                                     InstanceMethod<&JsStore::SealedInfo>("sealedInfo"),
                                     InstanceMethod<&JsStore::Compact>("compact"),
                                     InstanceMethod<&JsStore::Snapshot>("snapshot"),
                                     InstanceMethod<&JsStore::Refresh>("refresh"),
                                     InstanceMethod<&JsStore::Segments>("segments"),
                                     InstanceMethod<&JsStore::ScanVerified>("scanVerified"),
                                 });
  GetData(env)->store_ctor = Napi::Persistent(f);
  return f;
}

JsStore::JsStore(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsStore>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) {
    ThrowInvalid(env, "NativeStore expects an options object");
    return;
  }
  Napi::Object o = info[0].As<Napi::Object>();
  StoreOptions opts;
  Napi::Value dir = o.Get("dataDir");
  if (!dir.IsString()) {
    ThrowInvalid(env, "dataDir must be a string");
    return;
  }
  opts.dir = dir.As<Napi::String>().Utf8Value();
  opts.segment_max_bytes = static_cast<uint64_t>(NumberOr(o, "segmentMaxBytes", double(opts.segment_max_bytes)));
  opts.sync_every_events = static_cast<uint64_t>(NumberOr(o, "syncEveryEvents", double(opts.sync_every_events)));
  opts.sync_every_ms = static_cast<uint32_t>(NumberOr(o, "syncEveryMs", opts.sync_every_ms));
  opts.max_payload_bytes = static_cast<uint32_t>(NumberOr(o, "maxPayloadBytes", opts.max_payload_bytes));
  opts.read_only = Flag(o.Get("readOnly"));
  opts.salvage = Flag(o.Get("salvage"));
  Napi::Value mode = o.Get("syncMode");
  if (mode.IsString()) {
    std::string m = mode.As<Napi::String>().Utf8Value();
    opts.sync_mode = m == "all" ? SyncMode::kAll : m == "none" ? SyncMode::kNone : SyncMode::kData;
  }
  opts.subscriber_capacity = static_cast<uint32_t>(NumberOr(o, "subscriberCapacity", opts.subscriber_capacity));
  if (opts.subscriber_capacity < 16) opts.subscriber_capacity = 16;
  AddonData* data = GetData(env);
  std::shared_ptr<Store> store;
  std::string canonical;
  Status s = OpenShared(opts, &store, &canonical);
  if (s.ok() && data->open_dirs.count(canonical))
    s = Status::Locked("the store at " + canonical + " is already open in this thread; share that Store object");
  if (!s.ok()) {
    ThrowStatus(env, s);
    return;
  }
  store_ = std::move(store);
  dir_ = canonical;
  napi_type_tag_object(env, info.This(), &kJsStoreTag);
  read_only_ = opts.read_only;
  data->open_dirs.insert(dir_);
  data->open_stores.insert(this);
}

JsStore::~JsStore() { CloseQuietly(); }

void JsStore::Release() {
  if (notifier_) {
    if (store_) store_->RemoveListener(notifier_.get());
    notifier_->tsfn.Release();
    notifier_.reset();
  }
  // Other environments may still share the store: it closes with its last holder.
  store_.reset();
}

void JsStore::CloseQuietly() {
  Release();
  // The data outlives every store of its environment; erase is a no-op during its teardown.
  Napi::Env env = Env();
  if (AddonData* d = GetData(env)) {
    d->open_stores.erase(this);
    d->open_dirs.erase(dir_);
  }
}

Store* JsStore::Live(Napi::Env env) {
  if (!store_ || store_->closed()) {
    ThrowStatus(env, Status::Closed("the store is closed"));
    return nullptr;
  }
  return store_.get();
}

bool JsStore::IsOurs(Napi::Env env, Napi::Value v) {
  bool ok = false;
  return v.IsObject() && napi_check_object_type_tag(env, v, &kJsStoreTag, &ok) == napi_ok && ok;
}

Napi::Value JsStore::SetBuffers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsOurs(env, info.This())) {
    Napi::TypeError::New(env, "setBuffers called on an object that is not a causeway NativeStore").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!info[0].IsTypedArray() || !info[1].IsTypedArray()) {
    ThrowInvalid(env, "setBuffers expects two Uint8Arrays");
    return env.Undefined();
  }
  auto rq = info[0].As<Napi::Uint8Array>();
  auto rc = info[1].As<Napi::Uint8Array>();
  if (rq.ByteLength() < req::kSize || rc.ByteLength() < rcpt::kSize) {
    ThrowInvalid(env, "setBuffers: buffers too small");
    return env.Undefined();
  }
  // The references keep the buffers alive, so the raw pointers stay valid.
  request_ref_ = Napi::Persistent(rq);
  receipt_ref_ = Napi::Persistent(rc);
  request_ = rq.Data();
  receipt_ = rc.Data();
  receipt_len_ = rc.ByteLength();
  return env.Undefined();
}

Napi::Value JsStore::InternEntity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  uint32_t id = 0;
  Status st = s->InternEntity(info[0].As<Napi::String>().Utf8Value(), &id);
  if (!st.ok()) {
    ThrowStatus(env, st);
    return env.Undefined();
  }
  return Napi::Number::New(env, id);
}

Napi::Value JsStore::InternScope(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  uint32_t id = 0;
  Status st = s->InternScope(info[0].As<Napi::String>().Utf8Value(), &id);
  if (!st.ok()) {
    ThrowStatus(env, st);
    return env.Undefined();
  }
  return Napi::Number::New(env, id);
}

// Reads a filter object (see NativeFilter in src/native.ts).
static RegionFilter ParseFilter(Napi::Object o) {
  RegionFilter f;
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
  double lim = NumberOr(o, "limit", -1);
  if (lim >= 0) f.limit = static_cast<uint64_t>(lim);
  return f;
}

static void ThrowAppendStatus(Napi::Env env, const Status& st, const AppendError& e) {
  Napi::Object d;
  if (st.code() == Status::Code::kSequenceMismatch) {
    d = Napi::Object::New(env);
    d.Set("entity", e.entity);
    d.Set("expected", Napi::Number::New(env, e.expected));
    d.Set("actual", Napi::Number::New(env, e.actual));
    d.Set("item", Napi::Number::New(env, e.item));
  } else if (st.code() == Status::Code::kConditionFailed) {
    d = Napi::Object::New(env);
    d.Set("conflictSequence", Napi::BigInt::New(env, e.conflict_sequence));
  }
  ThrowStatus(env, st, d);
}

Napi::Value JsStore::Append(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  if (!request_ || !info[0].IsTypedArray()) {
    ThrowInvalid(env, "append expects an encoded payload");
    return env.Undefined();
  }
  auto payload = info[0].As<Napi::Uint8Array>();
  const bool durable = Flag(info[1]);
  const uint8_t* q = request_;
  const uint8_t flags = q[req::kFlags];
  AppendRequest r;
  r.entity = LoadLE<uint32_t>(q + req::kEntity);
  r.scope = LoadLE<uint32_t>(q + req::kScope);
  r.kind = LoadLE<uint16_t>(q + req::kKind);
  r.payload = payload.Data();
  r.payload_len = static_cast<uint32_t>(payload.ByteLength());
  r.has_expected = flags & req::kHasExpected;
  r.expected_clock = LoadLE<uint32_t>(q + req::kExpected);
  if (flags & req::kHasKey) {
    r.idempotency_key = q + req::kKey;
    r.idempotency_key_len = std::min<uint32_t>(LoadLE<uint32_t>(q + req::kKeyLen), 1024);
  }
  if (flags & req::kHasCorrelation) r.correlation_id = q + req::kCorrelation;
  if (flags & req::kHasCausation) r.causation_id = q + req::kCausation;
  Receipt out;
  AppendError err;
  Status st = s->Append(r, &out, durable, &err);
  if (!st.ok()) {
    ThrowAppendStatus(env, st, err);
    return env.Undefined();
  }
  // The receipt goes to a slot of the receipt arena the caller names.
  size_t at = info[2].IsNumber() ? info[2].As<Napi::Number>().Uint32Value() : 0;
  if (at + rcpt::kSize > receipt_len_) at = 0;
  WriteReceipt(out, receipt_ + at);
  return env.Undefined();
}

Napi::Value JsStore::AppendBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  if (!info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsNumber() || !info[4].IsTypedArray()) {
    ThrowInvalid(env, "appendBatch expects (items, bytes, count, durable, receipts)");
    return env.Undefined();
  }
  auto desc = info[0].As<Napi::Uint8Array>();
  auto bytes = info[1].As<Napi::Uint8Array>();
  const size_t n = info[2].As<Napi::Number>().Uint32Value();
  const bool durable = Flag(info[3]);
  auto receipts = info[4].As<Napi::Uint8Array>();
  if (desc.ByteLength() < n * item::kSize || receipts.ByteLength() < n * rcpt::kSize) {
    ThrowInvalid(env, "appendBatch: buffers too small for the item count");
    return env.Undefined();
  }
  std::vector<AppendRequest> items(n);
  const uint8_t* b = bytes.Data();
  const size_t blen = bytes.ByteLength();
  for (size_t i = 0; i < n; i++) {
    const uint8_t* d = desc.Data() + i * item::kSize;
    const uint8_t flags = d[item::kFlags];
    AppendRequest& r = items[i];
    r.entity = LoadLE<uint32_t>(d + item::kEntity);
    r.scope = LoadLE<uint32_t>(d + item::kScope);
    r.kind = LoadLE<uint16_t>(d + item::kKind);
    uint32_t po = LoadLE<uint32_t>(d + item::kPayloadOffset), pl = LoadLE<uint32_t>(d + item::kPayloadLen);
    uint32_t ko = LoadLE<uint32_t>(d + item::kKeyOffset), kl = LoadLE<uint32_t>(d + item::kKeyLen);
    if (uint64_t(po) + pl > blen || uint64_t(ko) + kl > blen) {
      ThrowInvalid(env, "appendBatch: item " + std::to_string(i) + " points outside the byte buffer");
      return env.Undefined();
    }
    r.payload = b + po;
    r.payload_len = pl;
    r.has_expected = flags & req::kHasExpected;
    r.expected_clock = LoadLE<uint32_t>(d + item::kExpected);
    if (flags & req::kHasKey) {
      r.idempotency_key = b + ko;
      r.idempotency_key_len = kl;
    }
    if (flags & req::kHasCorrelation) r.correlation_id = d + item::kCorrelation;
    if (flags & req::kHasCausation) r.causation_id = d + item::kCausation;
    if (flags & req::kPriorItem) r.causation_prior_item = LoadLE<int32_t>(d + item::kPriorItem);
  }
  std::vector<Receipt> out(n);
  AppendCondition cond;
  const bool conditional = info.Length() > 5 && info[5].IsObject();
  if (conditional) cond.filter = ParseFilter(info[5].As<Napi::Object>());
  AppendError err;
  Status st = s->AppendBatch(items.data(), n, out.data(), conditional ? &cond : nullptr, durable, &err);
  if (!st.ok()) {
    ThrowAppendStatus(env, st, err);
    return env.Undefined();
  }
  for (size_t i = 0; i < n; i++) WriteReceipt(out[i], receipts.Data() + i * rcpt::kSize);
  return env.Undefined();
}

Napi::Value JsStore::Sync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  Status st = s->Sync();
  if (!st.ok()) ThrowStatus(env, st);
  return env.Undefined();
}

Napi::Value JsStore::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!store_) return env.Undefined();
  std::shared_ptr<Store> s = store_;
  CloseQuietly();
  // The last holder closes the store and reports how the final sync went.
  Status st;
  if (s.use_count() == 1) st = s->Close();
  s.reset();
  if (!st.ok()) ThrowStatus(env, st);
  return env.Undefined();
}

Napi::Value JsStore::Records(Napi::Env env, const std::function<Status(const Allocator&)>& fill) {
  Napi::Buffer<uint8_t> buf;
  Allocator alloc = [&](size_t n) -> uint8_t* {
    buf = Napi::Buffer<uint8_t>::New(env, n);
    return buf.Data();
  };
  Status st = fill(alloc);
  if (!st.ok()) {
    ThrowStatus(env, st);
    return env.Undefined();
  }
  if (buf.IsEmpty()) return Napi::Buffer<uint8_t>::New(env, 0);
  return buf;
}

Napi::Value JsStore::Query(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  if (!info[0].IsObject()) {
    ThrowInvalid(env, "query expects a filter object");
    return env.Undefined();
  }
  RegionFilter f = ParseFilter(info[0].As<Napi::Object>());
  size_t count = 0;
  return Records(env, [&](const Allocator& a) { return s->QueryRecords(f, a, &count); });
}

static bool Id16(const Napi::Value& v) { return v.IsTypedArray() && v.As<Napi::Uint8Array>().ByteLength() == 16; }

Napi::Value JsStore::ByCorrelation(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  if (!Id16(info[0])) {
    ThrowInvalid(env, "byCorrelation expects a 16-byte id");
    return env.Undefined();
  }
  const uint8_t* id = info[0].As<Napi::Uint8Array>().Data();
  size_t count = 0;
  return Records(env, [&](const Allocator& a) { return s->CorrelationRecords(id, a, &count); });
}

Napi::Value JsStore::Effects(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  if (!Id16(info[0])) {
    ThrowInvalid(env, "effects expects a 16-byte id");
    return env.Undefined();
  }
  const uint8_t* id = info[0].As<Napi::Uint8Array>().Data();
  size_t count = 0;
  return Records(env, [&](const Allocator& a) { return s->EffectRecords(id, a, &count); });
}

Napi::Value JsStore::SubscriptionHead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  return Napi::Number::New(env, double(s->BroadcastHead()));
}

// subscriptionPoll(filter, pos, max) -> { records, pos, lagged }
Napi::Value JsStore::SubscriptionPoll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  if (!info[0].IsObject() || !info[1].IsNumber() || !info[2].IsNumber()) {
    ThrowInvalid(env, "subscriptionPoll expects (filter, position, max)");
    return env.Undefined();
  }
  RegionFilter f = ParseFilter(info[0].As<Napi::Object>());
  uint64_t pos = static_cast<uint64_t>(info[1].As<Napi::Number>().DoubleValue());
  uint64_t max = static_cast<uint64_t>(info[2].As<Napi::Number>().DoubleValue());
  uint64_t lagged = 0;
  size_t count = 0;
  Napi::Value recs = Records(env, [&](const Allocator& a) { return s->SubscriptionPoll(f, &pos, max, a, &lagged, &count); });
  if (env.IsExceptionPending()) return env.Undefined();
  Napi::Object o = Napi::Object::New(env);
  o.Set("records", recs);
  o.Set("position", Napi::Number::New(env, double(pos)));
  o.Set("lagged", Napi::Number::New(env, double(lagged)));
  return o;
}

Napi::Value JsStore::NextSequence(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  return Napi::Number::New(env, double(s->NextSequence()));
}

Napi::Value JsStore::DurableSequence(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  return Napi::Number::New(env, double(s->DurableSequence()));
}

// setNotify(fn): fn() runs on this thread after events are published while armed.
Napi::Value JsStore::SetNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  if (!info[0].IsFunction()) {
    ThrowInvalid(env, "setNotify expects a function");
    return env.Undefined();
  }
  if (notifier_) return env.Undefined();
  notifier_ = std::make_unique<Notifier>();
  notifier_->tsfn = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "causeway-notify", 0, 1);
  notifier_->tsfn.Unref(env);  // only an armed wait keeps the event loop alive
  s->AddListener(notifier_.get());
  return env.Undefined();
}

Napi::Value JsStore::SealedInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  uint64_t n, last, from, to;
  Status st = s->SealedInfo(&n, &last, &from, &to);
  if (!st.ok()) {
    ThrowStatus(env, st);
    return env.Undefined();
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("segments", Napi::Number::New(env, double(n)));
  o.Set("lastId", Napi::Number::New(env, double(last)));
  o.Set("fromSequence", Napi::Number::New(env, double(from)));
  o.Set("toSequence", Napi::Number::New(env, double(to)));
  return o;
}

// compact(strategy, upToId, minSegments, rejected: Float64Array of sequences) -> report
Napi::Value JsStore::Compact(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  if (!info[0].IsString() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsTypedArray()) {
    ThrowInvalid(env, "compact expects (strategy, upToId, minSegments, rejected)");
    return env.Undefined();
  }
  CompactionPlan plan;
  const std::string strategy = info[0].As<Napi::String>().Utf8Value();
  if (strategy == "merge") plan.strategy = CompactionStrategy::kMerge;
  else if (strategy == "retention") plan.strategy = CompactionStrategy::kRetention;
  else if (strategy == "tombstone") plan.strategy = CompactionStrategy::kTombstone;
  else {
    ThrowInvalid(env, "strategy must be merge, retention or tombstone");
    return env.Undefined();
  }
  plan.up_to_segment = static_cast<uint64_t>(info[1].As<Napi::Number>().DoubleValue());
  plan.min_segments = info[2].As<Napi::Number>().Uint32Value();
  auto rej = info[3].As<Napi::TypedArrayOf<double>>();
  plan.rejected.reserve(rej.ElementLength());
  for (size_t i = 0; i < rej.ElementLength(); i++) plan.rejected.push_back(static_cast<uint64_t>(rej[i]));
  std::sort(plan.rejected.begin(), plan.rejected.end());
  CompactionReport r;
  Status st = s->Compact(plan, &r);
  if (!st.ok()) {
    ThrowStatus(env, st);
    return env.Undefined();
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("performed", Napi::Boolean::New(env, r.performed));
  o.Set("reason", Napi::String::New(env, r.reason));
  o.Set("segmentsBefore", Napi::Number::New(env, double(r.segments_before)));
  o.Set("segmentsAfter", Napi::Number::New(env, double(r.segments_after)));
  o.Set("bytesBefore", Napi::Number::New(env, double(r.bytes_before)));
  o.Set("bytesAfter", Napi::Number::New(env, double(r.bytes_after)));
  o.Set("eventsKept", Napi::Number::New(env, double(r.events_kept)));
  o.Set("eventsDropped", Napi::Number::New(env, double(r.events_dropped)));
  o.Set("eventsTombstoned", Napi::Number::New(env, double(r.events_tombstoned)));
  o.Set("firstSegment", Napi::Number::New(env, double(r.first_segment)));
  o.Set("lastSegment", Napi::Number::New(env, double(r.last_segment)));
  return o;
}

Napi::Value JsStore::Snapshot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  if (!info[0].IsString()) {
    ThrowInvalid(env, "snapshot expects a destination directory");
    return env.Undefined();
  }
  SnapshotReport r;
  Status st = s->Snapshot(info[0].As<Napi::String>().Utf8Value(), &r);
  if (!st.ok()) {
    ThrowStatus(env, st);
    return env.Undefined();
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("sequence", Napi::Number::New(env, double(r.sequence)));
  o.Set("segments", Napi::Number::New(env, double(r.segments)));
  o.Set("linked", Napi::Number::New(env, double(r.linked)));
  o.Set("copied", Napi::Number::New(env, double(r.copied)));
  o.Set("bytes", Napi::Number::New(env, double(r.bytes)));
  return o;
}

Napi::Value JsStore::Refresh(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  uint64_t added = 0;
  Status st = s->Refresh(&added);
  if (!st.ok()) {
    ThrowStatus(env, st);
    return env.Undefined();
  }
  return Napi::Number::New(env, double(added));
}

Napi::Value JsStore::Segments(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  std::vector<SegmentInfo> segs;
  Status st = s->Segments(&segs);
  if (!st.ok()) {
    ThrowStatus(env, st);
    return env.Undefined();
  }
  Napi::Array a = Napi::Array::New(env, segs.size());
  for (size_t i = 0; i < segs.size(); i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("id", Napi::Number::New(env, double(segs[i].id)));
    o.Set("file", Napi::String::New(env, Segment::FileName(segs[i].id)));
    o.Set("baseSequence", Napi::Number::New(env, double(segs[i].base_sequence)));
    o.Set("nextSequence", Napi::Number::New(env, double(segs[i].next_sequence)));
    o.Set("bytes", Napi::Number::New(env, double(segs[i].bytes)));
    o.Set("sealed", Napi::Boolean::New(env, segs[i].sealed));
    o.Set("active", Napi::Boolean::New(env, segs[i].active));
    a.Set(i, o);
  }
  return a;
}

// scanVerified(fromSequence, limit) -> { records, damaged: [{ sequence, message }], lastSequence }
Napi::Value JsStore::ScanVerified(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  if (!info[0].IsNumber() || !info[1].IsNumber()) {
    ThrowInvalid(env, "scanVerified expects (fromSequence, limit)");
    return env.Undefined();
  }
  std::vector<Store::Damaged> damaged;
  size_t count = 0;
  Napi::Value recs = Records(env, [&](const Allocator& a) {
    return s->ScanRecords(static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue()),
                          static_cast<uint64_t>(info[1].As<Napi::Number>().DoubleValue()), a, &count, &damaged);
  });
  if (env.IsExceptionPending()) return env.Undefined();
  Napi::Object o = Napi::Object::New(env);
  o.Set("records", recs);
  Napi::Array d = Napi::Array::New(env, damaged.size());
  for (size_t i = 0; i < damaged.size(); i++) {
    Napi::Object x = Napi::Object::New(env);
    x.Set("sequence", Napi::Number::New(env, double(damaged[i].sequence)));
    x.Set("message", Napi::String::New(env, damaged[i].message));
    d.Set(i, x);
  }
  o.Set("damaged", d);
  return o;
}

// idleNotify(): nothing waits any more; let the event loop exit.
Napi::Value JsStore::IdleNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (notifier_) notifier_->tsfn.Unref(env);
  return env.Undefined();
}

// armNotify(seenNextSequence, keepAlive): fire the notify function once events past it exist.
Napi::Value JsStore::ArmNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  if (!notifier_) {
    ThrowInvalid(env, "armNotify before setNotify");
    return env.Undefined();
  }
  if (Flag(info[1])) notifier_->tsfn.Ref(env);
  else notifier_->tsfn.Unref(env);
  s->Arm(notifier_.get(), static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue()));
  return env.Undefined();
}

Napi::Value JsStore::Get(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  if (!info[0].IsTypedArray() || info[0].As<Napi::Uint8Array>().ByteLength() != 16) {
    ThrowInvalid(env, "get expects a 16-byte event id");
    return env.Undefined();
  }
  const uint8_t* id = info[0].As<Napi::Uint8Array>().Data();
  bool found = false;
  Napi::Value r = Records(env, [&](const Allocator& a) { return s->GetRecord(id, a, &found); });
  if (env.IsExceptionPending() || !found) return env.Undefined();
  return r;
}

Napi::Value JsStore::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  StoreStats st;
  Status status = s->Stats(&st);
  if (!status.ok()) {
    ThrowStatus(env, status);
    return env.Undefined();
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("events", Napi::Number::New(env, double(st.events)));
  o.Set("nextSequence", Napi::Number::New(env, double(st.next_sequence)));
  o.Set("durableSequence", Napi::Number::New(env, double(st.durable_sequence)));
  o.Set("segments", Napi::Number::New(env, double(st.segments)));
  o.Set("bytes", Napi::Number::New(env, double(st.bytes)));
  o.Set("indexBytes", Napi::Number::New(env, double(st.index_bytes)));
  o.Set("entities", Napi::Number::New(env, double(st.entities)));
  o.Set("scopes", Napi::Number::New(env, double(st.scopes)));
  o.Set("lastSyncUs", Napi::Number::New(env, double(st.last_sync_us)));
  o.Set("syncs", Napi::Number::New(env, double(st.syncs)));
  o.Set("syncErrors", Napi::Number::New(env, double(st.sync_errors)));
  o.Set("recoveredTornBytes", Napi::Number::New(env, double(st.recovered_torn_bytes)));
  o.Set("openedFromCheckpoint", Napi::Boolean::New(env, st.opened_from_checkpoint));
  o.Set("footersLoaded", Napi::Number::New(env, double(st.footers_loaded)));
  Napi::Array dmg = Napi::Array::New(env, st.damage.size());
  for (size_t i = 0; i < st.damage.size(); i++) dmg.Set(i, Napi::String::New(env, st.damage[i]));
  o.Set("damage", dmg);
  o.Set("openMicros", Napi::Number::New(env, double(st.open_micros)));
  return o;
}

Napi::Value JsStore::EntityName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  std::string name;
  Status st = s->EntityName(info[0].As<Napi::Number>().Uint32Value(), &name);
  if (!st.ok()) {
    ThrowStatus(env, st);
    return env.Undefined();
  }
  return Napi::String::New(env, name);
}

Napi::Value JsStore::ScopeName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  std::string name;
  Status st = s->ScopeName(info[0].As<Napi::Number>().Uint32Value(), &name);
  if (!st.ok()) {
    ThrowStatus(env, st);
    return env.Undefined();
  }
  return Napi::String::New(env, name);
}

}  // namespace causeway::js
