// The binding of one core Store: unwrap arguments, call the core, turn a
// Status into a TypeScript error. Arguments cross as integers and shared
// buffers; the layouts are in src/native.ts and FORMAT.md ("Boundary").
#pragma once

#include <napi.h>

#include <memory>

#include "store.h"

namespace causeway::js {

// Shared request buffer layout (TypeScript writes, native reads).
namespace req {
constexpr size_t kEntity = 0, kScope = 4, kKind = 8, kFlags = 10, kExpected = 12, kCorrelation = 16,
                 kCausation = 32, kKeyLen = 48, kKey = 52;
constexpr size_t kSize = 52 + 1024;
constexpr uint8_t kHasExpected = 1, kHasKey = 2, kHasCorrelation = 4, kHasCausation = 8, kPriorItem = 16;
}  // namespace req

// Receipt layout (native writes), kSize bytes per receipt.
namespace rcpt {
constexpr size_t kSequence = 0, kClock = 8, kFlags = 12, kTimestamp = 16, kEventId = 24, kCorrelation = 40,
                 kCausation = 56, kContentHash = 72, kPrevHash = 104, kSize = 136;
constexpr uint8_t kDurable = 1, kDeduplicated = 2, kHasCausation = 4;
}  // namespace rcpt

// Batch item descriptor layout, kSize bytes per item; variable bytes live in a second buffer.
namespace item {
constexpr size_t kEntity = 0, kScope = 4, kKind = 8, kFlags = 10, kExpected = 12, kPriorItem = 16,
                 kPayloadOffset = 20, kPayloadLen = 24, kKeyOffset = 28, kKeyLen = 32, kCorrelation = 40,
                 kCausation = 56, kSize = 72;
}  // namespace item

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
  Napi::Value Sync(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Query(const Napi::CallbackInfo& info);
  Napi::Value Get(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
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

  Store* Live(Napi::Env env);  // the store, or throws StoreClosedError and returns null
  Napi::Value Records(Napi::Env env, const std::function<Status(const Allocator&)>& fill);
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
  Napi::Reference<Napi::Uint8Array> request_ref_, receipt_ref_;
  uint8_t* request_ = nullptr;
  uint8_t* receipt_ = nullptr;
  size_t receipt_len_ = 0;
};

}  // namespace causeway::js
