// The NativeStore methods that read or maintain the store without appending:
// queries, subscriptions, names, stats, compaction, snapshots, refresh.
// Each is one Call (js_store.h): arguments converted in, the core called,
// its result converted out (js_convert.h).
#include "js_convert.h"
#include "js_store.h"

namespace causeway::js {

Napi::Value JsStore::Query(const Napi::CallbackInfo& info) {
  RecordsOut recs(info.Env());
  size_t count = 0;
  return Call(
      info,
      [&](Store* s) {
        if (!info[0].IsObject()) return Status::InvalidArgument("query expects a filter object");
        return s->QueryRecords(ParseFilter(info[0].As<Napi::Object>()), recs.alloc(), &count);
      },
      [&](Napi::Env) { return recs.Value(); });
}

// clockOf(entity) -> the entity's clock, read from the index (no frame).
Napi::Value JsStore::ClockOf(const Napi::CallbackInfo& info) {
  uint32_t clock = 0;
  return Call(
      info,
      [&](Store* s) {
        if (!info[0].IsString()) return Status::InvalidArgument("clockOf expects an entity name");
        return s->EntityClock(info[0].As<Napi::String>().Utf8Value(), &clock);
      },
      [&](Napi::Env env) { return Number(env, double(clock)); });
}

Napi::Value JsStore::Get(const Napi::CallbackInfo& info) {
  RecordsOut recs(info.Env());
  bool found = false;
  return Call(
      info,
      [&](Store* s) {
        if (!Id16(info[0])) return Status::InvalidArgument("get expects a 16-byte event id");
        return s->GetRecord(info[0].As<Napi::Uint8Array>().Data(), recs.alloc(), &found);
      },
      [&](Napi::Env env) { return env.IsExceptionPending() || !found ? env.Undefined() : recs.Value(); });
}

Napi::Value JsStore::ByCorrelation(const Napi::CallbackInfo& info) {
  RecordsOut recs(info.Env());
  size_t count = 0;
  return Call(
      info,
      [&](Store* s) {
        if (!Id16(info[0])) return Status::InvalidArgument("byCorrelation expects a 16-byte id");
        return s->CorrelationRecords(info[0].As<Napi::Uint8Array>().Data(), recs.alloc(), &count);
      },
      [&](Napi::Env) { return recs.Value(); });
}

Napi::Value JsStore::Effects(const Napi::CallbackInfo& info) {
  RecordsOut recs(info.Env());
  size_t count = 0;
  return Call(
      info,
      [&](Store* s) {
        if (!Id16(info[0])) return Status::InvalidArgument("effects expects a 16-byte id");
        return s->EffectRecords(info[0].As<Napi::Uint8Array>().Data(), recs.alloc(), &count);
      },
      [&](Napi::Env) { return recs.Value(); });
}

Napi::Value JsStore::SubscriptionHead(const Napi::CallbackInfo& info) {
  uint64_t head = 0;
  return Call(info, [&](Store* s) { head = s->BroadcastHead(); }, [&](Napi::Env env) { return Number(env, double(head)); });
}

// subscriptionPoll(filter, pos, max) -> { records, pos, lagged }
Napi::Value JsStore::SubscriptionPoll(const Napi::CallbackInfo& info) {
  RecordsOut recs(info.Env());
  uint64_t pos = 0, lagged = 0;
  size_t count = 0;
  return Call(
      info,
      [&](Store* s) {
        if (!info[0].IsObject() || !info[1].IsNumber() || !info[2].IsNumber())
          return Status::InvalidArgument("subscriptionPoll expects (filter, position, max)");
        RegionFilter f = ParseFilter(info[0].As<Napi::Object>());
        pos = static_cast<uint64_t>(info[1].As<Napi::Number>().DoubleValue());
        uint64_t max = static_cast<uint64_t>(info[2].As<Napi::Number>().DoubleValue());
        return s->SubscriptionPoll(f, &pos, max, recs.alloc(), &lagged, &count);
      },
      [&](Napi::Env env) -> Napi::Value {
        if (env.IsExceptionPending()) return env.Undefined();
        Napi::Object o = Napi::Object::New(env);
        o.Set("records", recs.Value());
        o.Set("position", Number(env, double(pos)));
        o.Set("lagged", Number(env, double(lagged)));
        return o;
      });
}

// scanVerified(fromSequence, limit) -> { records, damaged: [{ sequence, message }] }
Napi::Value JsStore::ScanVerified(const Napi::CallbackInfo& info) {
  RecordsOut recs(info.Env());
  std::vector<Store::Damaged> damaged;
  size_t count = 0;
  return Call(
      info,
      [&](Store* s) {
        if (!info[0].IsNumber() || !info[1].IsNumber())
          return Status::InvalidArgument("scanVerified expects (fromSequence, limit)");
        return s->ScanRecords(static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue()),
                              static_cast<uint64_t>(info[1].As<Napi::Number>().DoubleValue()), recs.alloc(), &count,
                              &damaged);
      },
      [&](Napi::Env env) -> Napi::Value {
        if (env.IsExceptionPending()) return env.Undefined();
        Napi::Object o = Napi::Object::New(env);
        o.Set("records", recs.Value());
        o.Set("damaged", DamagedToJs(env, damaged));
        return o;
      });
}

Napi::Value JsStore::NextSequence(const Napi::CallbackInfo& info) {
  uint64_t next = 0;
  return Call(info, [&](Store* s) { next = s->NextSequence(); }, [&](Napi::Env env) { return Number(env, double(next)); });
}

Napi::Value JsStore::DurableSequence(const Napi::CallbackInfo& info) {
  uint64_t durable = 0;
  return Call(
      info, [&](Store* s) { durable = s->DurableSequence(); }, [&](Napi::Env env) { return Number(env, double(durable)); });
}

Napi::Value JsStore::Stats(const Napi::CallbackInfo& info) {
  StoreStats st;
  return Call(info, [&](Store* s) { return s->Stats(&st); }, [&](Napi::Env env) { return StatsToJs(env, st); });
}

// metrics(syncFrom, rollFrom): counters and the sync/roll durations since the cursors.
Napi::Value JsStore::Metrics(const Napi::CallbackInfo& info) {
  MetricsReport m;
  const uint64_t sync_from = info[0].IsNumber() ? static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue()) : 0;
  const uint64_t roll_from = info[1].IsNumber() ? static_cast<uint64_t>(info[1].As<Napi::Number>().DoubleValue()) : 0;
  return Call(info, [&](Store* s) { return s->Metrics(sync_from, roll_from, &m); }, [&](Napi::Env env) { return MetricsToJs(env, m); });
}

Napi::Value JsStore::EntityName(const Napi::CallbackInfo& info) {
  std::string name;
  return Call(
      info, [&](Store* s) { return s->EntityName(info[0].As<Napi::Number>().Uint32Value(), &name); },
      [&](Napi::Env env) { return Napi::String::New(env, name); });
}

Napi::Value JsStore::ScopeName(const Napi::CallbackInfo& info) {
  std::string name;
  return Call(
      info, [&](Store* s) { return s->ScopeName(info[0].As<Napi::Number>().Uint32Value(), &name); },
      [&](Napi::Env env) { return Napi::String::New(env, name); });
}

Napi::Value JsStore::SealedInfo(const Napi::CallbackInfo& info) {
  uint64_t n, last, from, to;
  return Call(
      info, [&](Store* s) { return s->SealedInfo(&n, &last, &from, &to); },
      [&](Napi::Env env) { return SealedInfoToJs(env, n, last, from, to); });
}

Napi::Value JsStore::Segments(const Napi::CallbackInfo& info) {
  std::vector<SegmentInfo> segs;
  return Call(info, [&](Store* s) { return s->Segments(&segs); }, [&](Napi::Env env) { return SegmentsToJs(env, segs); });
}

// compact(strategy, upToId, minSegments, rejected: Float64Array of sequences) -> report
Napi::Value JsStore::Compact(const Napi::CallbackInfo& info) {
  CompactionReport r;
  return Call(
      info,
      [&](Store* s) {
        CompactionPlan plan;
        Status st = ParseCompactionPlan(info, &plan);
        return st.ok() ? s->Compact(plan, &r) : st;
      },
      [&](Napi::Env env) { return CompactionReportToJs(env, r); });
}

Napi::Value JsStore::Snapshot(const Napi::CallbackInfo& info) {
  SnapshotReport r;
  return Call(
      info,
      [&](Store* s) {
        if (!info[0].IsString()) return Status::InvalidArgument("snapshot expects a destination directory");
        return s->Snapshot(info[0].As<Napi::String>().Utf8Value(), &r);
      },
      [&](Napi::Env env) { return SnapshotReportToJs(env, r); });
}

Napi::Value JsStore::Refresh(const Napi::CallbackInfo& info) {
  uint64_t added = 0;
  return Call(info, [&](Store* s) { return s->Refresh(&added); }, [&](Napi::Env env) { return Number(env, double(added)); });
}

}  // namespace causeway::js
