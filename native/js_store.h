// The binding of one core Store: unwrap arguments, call the core, turn a
// Status into a TypeScript error. Arguments cross as integers and shared
// buffers; the layouts are in js_layouts.h, mirrored in src/native and
// documented in FORMAT.md ("Boundary"). The conversions are in js_convert.h.
#pragma once

#include <napi.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "js_errors.h"
#include "js_layouts.h"
#include "store.h"

namespace causeway::js {

class JsStore : public Napi::ObjectWrap<JsStore> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit JsStore(const Napi::CallbackInfo& info);
  ~JsStore() override;
  // Closes the core store (cleanup hooks call this when the environment ends).
  void CloseQuietly();
  // True when `v` was made by this addon's NativeStore (its napi type tag):
  // check before unwrapping a store passed in as an argument.
  static bool IsOurs(Napi::Env env, Napi::Value v);

 private:
  Napi::Value SetBuffers(const Napi::CallbackInfo& info);
  Napi::Value InternEntity(const Napi::CallbackInfo& info);
  Napi::Value InternScope(const Napi::CallbackInfo& info);
  Napi::Value Append(const Napi::CallbackInfo& info);
  Napi::Value AppendBatch(const Napi::CallbackInfo& info);
  Napi::Value AppendFrames(const Napi::CallbackInfo& info);
  Napi::Value Sync(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Query(const Napi::CallbackInfo& info);
  Napi::Value Aggregate(const Napi::CallbackInfo& info);  // js_aggregate.cc
  Napi::Value ClockOf(const Napi::CallbackInfo& info);
  Napi::Value Get(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Metrics(const Napi::CallbackInfo& info);
  Napi::Value EntityName(const Napi::CallbackInfo& info);
  Napi::Value ScopeName(const Napi::CallbackInfo& info);
  Napi::Value ByCorrelation(const Napi::CallbackInfo& info);
  Napi::Value Effects(const Napi::CallbackInfo& info);
  Napi::Value SubscriptionHead(const Napi::CallbackInfo& info);
  Napi::Value SubscriptionPoll(const Napi::CallbackInfo& info);
  Napi::Value NextSequence(const Napi::CallbackInfo& info);
  Napi::Value DurableSequence(const Napi::CallbackInfo& info);
  Napi::Value SetNotify(const Napi::CallbackInfo& info);
  Napi::Value ArmNotify(const Napi::CallbackInfo& info);
  Napi::Value IdleNotify(const Napi::CallbackInfo& info);
  Napi::Value SealedInfo(const Napi::CallbackInfo& info);
  Napi::Value Compact(const Napi::CallbackInfo& info);
  Napi::Value Snapshot(const Napi::CallbackInfo& info);
  Napi::Value Refresh(const Napi::CallbackInfo& info);
  Napi::Value Segments(const Napi::CallbackInfo& info);
  Napi::Value ScanVerified(const Napi::CallbackInfo& info);
  // Off the event loop (js_async.cc): compaction's rewrite and snapshots run
  // on the libuv pool and return promises; cancelAsync(id) asks one to stop.
  Napi::Value CompactAsync(const Napi::CallbackInfo& info);
  Napi::Value SnapshotAsync(const Napi::CallbackInfo& info);
  Napi::Value CancelAsync(const Napi::CallbackInfo& info);

 public:
  // What this handle knows of one operation running on the pool. Touched
  // only on this environment's thread, except `cancel`, which the pool
  // thread reads.
  struct AsyncJob {
    std::atomic<bool> cancel{false};
    bool by_close = false;  // cancelled because the store closed: reject with StoreClosedError
  };
  void JobStarted(uint32_t id, AsyncJob* job) { jobs_[id] = job; }
  void JobEnded(uint32_t id) { jobs_.erase(id); }

 private:

  Store* Live(Napi::Env env);  // the store, or throws StoreClosedError and returns null
  // The preamble the methods share (below): body(store) on the live store,
  // its Status thrown as the TypeScript error, else result(env).
  template <class Body, class Result>
  Napi::Value Call(const Napi::CallbackInfo& info, Body&& body, Result&& result);
  template <class Body>
  Napi::Value Call(const Napi::CallbackInfo& info, Body&& body);
  void Release();  // drops this handle's share of the store

  // Wakes this environment's waiters (cursors, subscriptions) after appends
  // from any thread, through a thread-safe function: no thread blocks waiting.
  struct Notifier : Listener {
    Napi::ThreadSafeFunction tsfn;
    void Notify() override { tsfn.NonBlockingCall(); }
  };

  std::shared_ptr<Store> store_;
  std::string dir_;
  bool read_only_ = false;
  std::unique_ptr<Notifier> notifier_;
  // Operations in flight, by the id TypeScript gave them. Each holds a share
  // of store_ until it settles.
  std::unordered_map<uint32_t, AsyncJob*> jobs_;
  Napi::Reference<Napi::Uint8Array> request_ref_, receipt_ref_;
  uint8_t* request_ = nullptr;
  uint8_t* receipt_ = nullptr;
  size_t receipt_len_ = 0;
  std::vector<AppendRequest> batch_items_;  // appendBatch's, reused (this thread only)
  std::vector<Receipt> batch_receipts_;
};

// The preamble every method but append and appendBatch shares: a closed
// store throws StoreClosedError; `body(store)` runs on the live one and
// returns a Status (or nothing, when it cannot fail), thrown as the matching
// TypeScript error when it fails; else the method returns `result(env)`, or
// undefined when there is no result.
template <class Body, class Result>
inline Napi::Value JsStore::Call(const Napi::CallbackInfo& info, Body&& body, Result&& result) {
  Napi::Env env = info.Env();
  Store* s = Live(env);
  if (!s) return env.Undefined();
  if constexpr (std::is_void_v<std::invoke_result_t<Body&, Store*>>) {
    body(s);
  } else {
    Status st = body(s);
    if (!st.ok()) {
      ThrowStatus(env, st);
      return env.Undefined();
    }
  }
  return result(env);
}

template <class Body>
inline Napi::Value JsStore::Call(const Napi::CallbackInfo& info, Body&& body) {
  return Call(info, std::forward<Body>(body), [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
}

}  // namespace causeway::js
