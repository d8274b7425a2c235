// The long operations off the event loop: compactAsync and snapshotAsync run
// the core call on the libuv pool (Napi::AsyncProgressQueueWorker) and settle
// a promise on this environment's thread. Progress crosses through the
// worker's thread-safe queue, every report in order and all of them before
// the promise settles (at most one per 4 MiB: long_op.h; a worker keeping
// only the newest report gave a fast operation its final report alone); a
// cancel flag crosses the other way (JsStore::CancelAsync, or the store closing).
#include <memory>
#include <string>
#include <utility>

#include "js_convert.h"
#include "js_errors.h"
#include "js_store.h"

namespace causeway::js {
namespace {

struct ProgressReport {
  uint64_t done, total;
};

class LongOpWorker : public Napi::AsyncProgressQueueWorker<ProgressReport>, public JsStore::AsyncJob {
 public:
  // "owner" stays alive while `self` (its JS object) is referenced here.
  LongOpWorker(Napi::Env env, JsStore* owner, Napi::Object self, std::shared_ptr<Store> store, uint32_t id,
               Napi::Value on_progress)
      : Napi::AsyncProgressQueueWorker<ProgressReport>(env, "causeway-long-op"),
        deferred_(Napi::Promise::Deferred::New(env)),
        owner_(owner),
        self_(Napi::Persistent(self)),
        store_(std::move(store)),
        id_(id) {
    if (on_progress.IsFunction()) on_progress_ = Napi::Persistent(on_progress.As<Napi::Function>());
    reports_ = !on_progress_.IsEmpty();
    owner_->JobStarted(id_, this);
  }
  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  virtual Status Run(Store* store, const LongOpControl& control) = 0;  // on the pool thread
  virtual Napi::Value Result(Napi::Env env) = 0;

  void Execute(const ExecutionProgress& progress) override {
    LongOpControl control;
    control.cancel = &cancel;
    // Nothing to queue without a callback to hand the reports to.
    if (reports_)
      control.progress = [&progress](uint64_t done, uint64_t total) {
        ProgressReport r{done, total};
        progress.Send(&r, 1);
      };
    status_ = Run(store_.get(), control);
  }

  void OnProgress(const ProgressReport* r, size_t n) override {
    if (n == 0 || on_progress_.IsEmpty() || settled_) return;
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    // The TypeScript wrapper catches what the user's callback throws.
    on_progress_.Call({Number(env, double(r->done)), Number(env, double(r->total))});
  }

  void OnOK() override {
    settled_ = true;
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    owner_->JobEnded(id_);
    store_.reset();  // before settling: a close() in the continuation is the last holder
    Status st = status_;
    if (by_close && (st.code() == Status::Code::kCancelled || st.code() == Status::Code::kClosed))
      st = Status::Closed("the store was closed while the operation ran; nothing was changed");
    if (st.ok()) deferred_.Resolve(Result(env));
    else deferred_.Reject(StatusError(env, st));
    self_.Reset();
  }
  void OnError(const Napi::Error& e) override {  // not used: Execute never calls SetError
    settled_ = true;
    owner_->JobEnded(id_);
    store_.reset();
    deferred_.Reject(e.Value());
    self_.Reset();
  }

 private:
  Napi::Promise::Deferred deferred_;
  JsStore* owner_;
  Napi::ObjectReference self_;
  std::shared_ptr<Store> store_;
  uint32_t id_;
  Napi::FunctionReference on_progress_;
  Status status_;
  bool settled_ = false;
  bool reports_ = false;  // set before the pool thread starts; read there only
};

class CompactWorker : public LongOpWorker {
 public:
  CompactWorker(Napi::Env env, JsStore* owner, Napi::Object self, std::shared_ptr<Store> store, uint32_t id,
                Napi::Value on_progress, CompactionPlan plan)
      : LongOpWorker(env, owner, self, std::move(store), id, on_progress), plan_(std::move(plan)) {}

 protected:
  Status Run(Store* store, const LongOpControl& control) override {
    plan_.control = control;
    return store->Compact(plan_, &report_);
  }
  Napi::Value Result(Napi::Env env) override { return CompactionReportToJs(env, report_); }

 private:
  CompactionPlan plan_;
  CompactionReport report_;
};

class SnapshotWorker : public LongOpWorker {
 public:
  SnapshotWorker(Napi::Env env, JsStore* owner, Napi::Object self, std::shared_ptr<Store> store, uint32_t id,
                 Napi::Value on_progress, std::string dest)
      : LongOpWorker(env, owner, self, std::move(store), id, on_progress), dest_(std::move(dest)) {}

 protected:
  Status Run(Store* store, const LongOpControl& control) override { return store->Snapshot(dest_, &report_, control); }
  Napi::Value Result(Napi::Env env) override { return SnapshotReportToJs(env, report_); }

 private:
  std::string dest_;
  SnapshotReport report_;
};

}  // namespace

// compactAsync(strategy, upToId, minSegments, rejected, id, onProgress?) -> Promise<report>
Napi::Value JsStore::CompactAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Live(env)) return env.Undefined();
  CompactionPlan plan;
  Status st = ParseCompactionPlan(info, &plan);
  if (st.ok() && !info[4].IsNumber()) st = Status::InvalidArgument("compactAsync expects an operation id");
  if (!st.ok()) {
    ThrowStatus(env, st);
    return env.Undefined();
  }
  auto* w = new CompactWorker(env, this, info.This().As<Napi::Object>(), store_,
                              info[4].As<Napi::Number>().Uint32Value(), info[5], std::move(plan));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// snapshotAsync(dest, id, onProgress?) -> Promise<report>
Napi::Value JsStore::SnapshotAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Live(env)) return env.Undefined();
  if (!info[0].IsString() || !info[1].IsNumber()) {
    ThrowInvalid(env, "snapshotAsync expects (destination, id, onProgress?)");
    return env.Undefined();
  }
  auto* w = new SnapshotWorker(env, this, info.This().As<Napi::Object>(), store_,
                               info[1].As<Napi::Number>().Uint32Value(), info[2],
                               info[0].As<Napi::String>().Utf8Value());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// cancelAsync(id): the operation stops at its next check, before its commit
// point, and rejects with OperationAbortedError; past it, it finishes.
Napi::Value JsStore::CancelAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info[0].IsNumber()) {
    auto it = jobs_.find(info[0].As<Napi::Number>().Uint32Value());
    // Relaxed: the flag carries no data (see LongOpControl).
    if (it != jobs_.end()) it->second->cancel.store(true, std::memory_order_relaxed);
  }
  return env.Undefined();
}

}  // namespace causeway::js
