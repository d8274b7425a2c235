// aggregate(filter, spec) -> { groups, starts, cellGroups, counts, stats }:
// the spec as the TypeScript layer checked and laid it out (src/aggregate),
// the cells back as typed arrays, so no object is built per cell here.
#include "js_convert.h"
#include "js_store.h"

namespace causeway::js {
namespace {

Status ParseSpec(const Napi::Value& v, AggregateSpec* spec) {
  if (!v.IsObject()) return Status::InvalidArgument("aggregate expects a spec object");
  Napi::Object o = v.As<Napi::Object>();
  Napi::Value size = o.Get("sizeUs"), step = o.Get("stepUs"), time = o.Get("time"), group = o.Get("group");
  if (!size.IsNumber() || !step.IsNumber() || !time.IsNumber() || !group.IsNumber())
    return Status::InvalidArgument("aggregate spec needs sizeUs, stepUs, time and group numbers");
  spec->size_us = size.As<Napi::Number>().Int64Value();
  spec->step_us = step.As<Napi::Number>().Int64Value();
  const uint32_t t = time.As<Napi::Number>().Uint32Value(), g = group.As<Napi::Number>().Uint32Value();
  if (t > uint32_t(AggregateTime::kEvent) || g > uint32_t(AggregateGroup::kTag))
    return Status::InvalidArgument("aggregate spec has an unknown time or group");
  spec->time = AggregateTime(t);
  spec->group = AggregateGroup(g);
  Napi::Value prefix = o.Get("tagPrefix");
  if (prefix.IsString()) spec->tag_prefix = prefix.As<Napi::String>().Utf8Value();
  Napi::Value fields = o.Get("fields");
  if (!fields.IsArray()) return Status::InvalidArgument("aggregate spec needs a fields array");
  Napi::Array fa = fields.As<Napi::Array>();
  for (uint32_t i = 0; i < fa.Length(); i++) {
    Napi::Value path = fa.Get(i);
    if (!path.IsArray()) return Status::InvalidArgument("each aggregate field is an array of keys");
    Napi::Array pa = path.As<Napi::Array>();
    std::vector<std::string> keys;
    for (uint32_t j = 0; j < pa.Length(); j++) {
      Napi::Value key = pa.Get(j);
      if (!key.IsString()) return Status::InvalidArgument("a field path key must be a string");
      keys.push_back(key.As<Napi::String>().Utf8Value());
    }
    spec->fields.push_back(std::move(keys));
  }
  return CheckAggregateSpec(*spec);
}

template <typename T, typename Array>
Array Copy(Napi::Env env, const std::vector<T>& from) {
  Array a = Array::New(env, from.size());
  for (size_t i = 0; i < from.size(); i++) a[i] = from[i];
  return a;
}

}  // namespace

Napi::Value JsStore::Aggregate(const Napi::CallbackInfo& info) {
  AggregateResult res;
  return Call(
      info,
      [&](Store* s) {
        if (!info[0].IsObject()) return Status::InvalidArgument("aggregate expects a filter object");
        AggregateSpec spec;
        Status st = ParseSpec(info[1], &spec);
        if (!st.ok()) return st;
        return s->Aggregate(ParseFilter(info[0].As<Napi::Object>()), spec, &res);
      },
      [&](Napi::Env env) -> Napi::Value {
        if (env.IsExceptionPending()) return env.Undefined();
        Napi::Object o = Napi::Object::New(env);
        Napi::Array groups = Napi::Array::New(env, res.groups.size());
        for (uint32_t i = 0; i < res.groups.size(); i++) groups.Set(i, Napi::String::New(env, res.groups[i]));
        o.Set("groups", groups);
        std::vector<double> starts(res.starts.begin(), res.starts.end());
        o.Set("starts", Copy<double, Napi::Float64Array>(env, starts));
        o.Set("cellGroups", Copy<uint32_t, Napi::Uint32Array>(env, res.cell_groups));
        o.Set("counts", Copy<double, Napi::Float64Array>(env, res.counts));
        o.Set("stats", Copy<double, Napi::Float64Array>(env, res.stats));
        return o;
      });
}

}  // namespace causeway::js
