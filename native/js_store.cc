#include "js_store.h"

#include "js_addon.h"
#include "js_convert.h"
#include "js_errors.h"
#include "store_registry.h"
#include "warm_ahead.h"

namespace causeway::js {
namespace {

// Marks objects made by this addon's NativeStore constructor, so a wrapped
// object from another copy of the addon (or another environment's class) is
// told apart from ours before its pointer is used.
constexpr napi_type_tag kJsStoreTag = {0x63617573657761ULL, 0x4e617469766553ULL};

}  // namespace

Napi::Function JsStore::Define(Napi::Env env) {
  Napi::Function f = DefineClass(env, "NativeStore",
                                 {
                                     InstanceMethod<&JsStore::SetBuffers>("setBuffers"),
                                     InstanceMethod<&JsStore::InternEntity>("internEntity"),
                                     InstanceMethod<&JsStore::InternScope>("internScope"),
                                     InstanceMethod<&JsStore::Append>("append"),
                                     InstanceMethod<&JsStore::AppendBatch>("appendBatch"),
                                     InstanceMethod<&JsStore::AppendFrames>("appendFrames"),
                                     InstanceMethod<&JsStore::Sync>("sync"),
                                     InstanceMethod<&JsStore::Close>("close"),
                                     InstanceMethod<&JsStore::Query>("query"),
                                     InstanceMethod<&JsStore::Aggregate>("aggregate"),
                                     InstanceMethod<&JsStore::ClockOf>("clockOf"),
                                     InstanceMethod<&JsStore::Get>("get"),
                                     InstanceMethod<&JsStore::Stats>("stats"),
                                     InstanceMethod<&JsStore::Metrics>("metrics"),
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
                                     InstanceMethod<&JsStore::CompactAsync>("compactAsync"),
                                     InstanceMethod<&JsStore::SnapshotAsync>("snapshotAsync"),
                                     InstanceMethod<&JsStore::CancelAsync>("cancelAsync"),
                                 });
  GetData(env)->store_ctor = Napi::Persistent(f);
  return f;
}

JsStore::JsStore(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsStore>(info) {
  Napi::Env env = info.Env();
  StoreOptions opts;
  if (Status st = ParseOpenOptions(info[0], &opts); !st.ok()) {
    ThrowStatus(env, st);
    return;
  }
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
  // Operations in flight stop at their next check (or finish past their
  // commit point); they settle with StoreClosedError.
  for (auto& [id, job] : jobs_) {
    job->by_close = true;
    job->cancel.store(true, std::memory_order_relaxed);
  }
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
  // A new receipt arena is fresh memory the appends fill 136 bytes at a
  // time: made resident in one call here, not a page fault every 30 appends.
  WarmAhead::All(receipt_, receipt_len_);
  return env.Undefined();
}

Napi::Value JsStore::InternEntity(const Napi::CallbackInfo& info) {
  uint32_t id = 0;
  return Call(
      info, [&](Store* s) { return s->InternEntity(info[0].As<Napi::String>().Utf8Value(), &id); },
      [&](Napi::Env env) { return Number(env, id); });
}

Napi::Value JsStore::InternScope(const Napi::CallbackInfo& info) {
  uint32_t id = 0;
  return Call(
      info, [&](Store* s) { return s->InternScope(info[0].As<Napi::String>().Utf8Value(), &id); },
      [&](Napi::Env env) { return Number(env, id); });
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
  AppendRequest r = DecodeRequest(request_, payload.Data(), payload.ByteLength());
  Receipt out;
  AppendError err;
  Status st = s->Append(r, &out, durable, &err);
  if (!st.ok()) {
    ThrowAppendStatus(env, st, err);
    return env.Undefined();
  }
  // The receipt goes to a slot of the receipt arena the caller names.
  WriteReceiptAt(out, receipt_, receipt_len_, info[2]);
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
  // Kept between calls (up to a size): a fresh pair per batch went back to
  // malloc, which gave the heap's top back to the kernel and took it again,
  // fault by fault.
  constexpr size_t kKeptItems = 4096;
  std::vector<AppendRequest> big_items;
  std::vector<Receipt> big_receipts;
  std::vector<AppendRequest>& items = n <= kKeptItems ? batch_items_ : big_items;
  items.assign(n, AppendRequest{});
  Status decoded = DecodeItems(desc.Data(), n, bytes.Data(), bytes.ByteLength(), items.data());
  if (!decoded.ok()) {
    ThrowStatus(env, decoded);
    return env.Undefined();
  }
  std::vector<Receipt>& out = n <= kKeptItems ? batch_receipts_ : big_receipts;
  out.assign(n, Receipt{});
  AppendCondition cond;
  const bool conditional = info.Length() > 5 && info[5].IsObject();
  if (conditional) cond.filter = ParseFilter(info[5].As<Napi::Object>());
  AppendError err;
  Status st = s->AppendBatch(items.data(), n, out.data(), conditional ? &cond : nullptr, durable, &err);
  if (!st.ok()) {
    ThrowAppendStatus(env, st, err);
    return env.Undefined();
  }
  WriteReceipts(out.data(), n, receipts.Data());
  return env.Undefined();
}

// appendFrames(frames, count, durable, receipts): a replica's append of
// another store's frames, each padded to 8 (Store::AppendFrames).
Napi::Value JsStore::AppendFrames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  if (!info[0].IsTypedArray() || !info[1].IsNumber() || !info[3].IsTypedArray()) {
    ThrowInvalid(env, "appendFrames expects (frames, count, durable, receipts)");
    return env.Undefined();
  }
  auto frames = info[0].As<Napi::Uint8Array>();
  const size_t n = info[1].As<Napi::Number>().Uint32Value();
  const bool durable = Flag(info[2]);
  auto receipts = info[3].As<Napi::Uint8Array>();
  if (receipts.ByteLength() < n * rcpt::kSize) {
    ThrowInvalid(env, "appendFrames: receipts buffer too small for the frame count");
    return env.Undefined();
  }
  std::vector<Receipt> out(n);
  Status st = s->AppendFrames(frames.Data(), frames.ByteLength(), n, out.data(), durable);
  if (!st.ok()) {
    ThrowStatus(env, st);
    return env.Undefined();
  }
  WriteReceipts(out.data(), n, receipts.Data());
  return env.Undefined();
}

Napi::Value JsStore::Sync(const Napi::CallbackInfo& info) {
  return Call(info, [](Store* s) { return s->Sync(); });
}

Napi::Value JsStore::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!store_) return env.Undefined();
  std::shared_ptr<Store> s = store_;
  CloseQuietly();
  // The last holder closes the store and reports how the final sync went.
  // Operations in flight hold a share each: Close waits for them to stop.
  Status st;
  if (s.use_count() == 1 + static_cast<long>(jobs_.size())) st = s->Close();
  s.reset();
  if (!st.ok()) ThrowStatus(env, st);
  return env.Undefined();
}

// setNotify(fn): fn() runs on this thread after events are published while armed.
Napi::Value JsStore::SetNotify(const Napi::CallbackInfo& info) {
  return Call(info, [&](Store* s) {
    if (!info[0].IsFunction()) return Status::InvalidArgument("setNotify expects a function");
    if (notifier_) return Status::OK();
    Napi::Env env = info.Env();
    notifier_ = std::make_unique<Notifier>();
    notifier_->tsfn = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "causeway-notify", 0, 1);
    notifier_->tsfn.Unref(env);  // only an armed wait keeps the event loop alive
    s->AddListener(notifier_.get());
    return Status::OK();
  });
}

// idleNotify(): nothing waits any more; let the event loop exit.
Napi::Value JsStore::IdleNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (notifier_) notifier_->tsfn.Unref(env);
  return env.Undefined();
}

// armNotify(seenNextSequence, keepAlive): fire the notify function once events past it exist.
Napi::Value JsStore::ArmNotify(const Napi::CallbackInfo& info) {
  return Call(info, [&](Store* s) {
    if (!notifier_) return Status::InvalidArgument("armNotify before setNotify");
    if (Flag(info[1])) notifier_->tsfn.Ref(info.Env());
    else notifier_->tsfn.Unref(info.Env());
    s->Arm(notifier_.get(), static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue()));
    return Status::OK();
  });
}

}  // namespace causeway::js
