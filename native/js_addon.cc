// Module entry: per-environment data and the exported functions.
#include <napi.h>

#include "crc32c.h"
#include "hash.h"
#include "js_addon.h"
#include "js_convert.h"
#include "js_errors.h"
#include "js_store.h"

namespace causeway::js {

AddonData::~AddonData() {
  // The environment is going away (process exit or worker termination):
  // close what it left open so locks are released and data is synced.
  std::set<JsStore*> stores;
  stores.swap(open_stores);
  for (JsStore* s : stores) s->CloseQuietly();
}

AddonData* GetData(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

// blake3(bytes) -> Buffer(32): exposed so tests can cross-check the C library.
Napi::Value Blake3Js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray()) {
    ThrowInvalid(env, "blake3 expects a Uint8Array");
    return env.Undefined();
  }
  auto a = info[0].As<Napi::Uint8Array>();
  auto out = Napi::Buffer<uint8_t>::New(env, kHashSize);
  Blake3(a.Data(), a.ByteLength(), out.Data());
  return out;
}

// crc32c(bytes) -> number, and which implementation is in use.
Napi::Value Crc32cJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray()) {
    ThrowInvalid(env, "crc32c expects a Uint8Array");
    return env.Undefined();
  }
  auto a = info[0].As<Napi::Uint8Array>();
  bool portable = info.Length() > 1 && info[1].ToBoolean();
  uint32_t c = portable ? crc32c::ExtendPortable(0, a.Data(), a.ByteLength()) : crc32c::Value(a.Data(), a.ByteLength());
  return Napi::Number::New(env, c);
}

// native/js_index_part.cc: the internal index-part binding (tests only).
Napi::Object IndexPartToJs(Napi::Env env);

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData());
  exports.Set("init", Napi::Function::New(env, InitErrors, "init"));
  exports.Set("NativeStore", JsStore::Define(env));
  exports.Set("blake3", Napi::Function::New(env, Blake3Js, "blake3"));
  exports.Set("crc32c", Napi::Function::New(env, Crc32cJs, "crc32c"));
  exports.Set("crc32cImplementation", Napi::String::New(env, crc32c::Implementation()));
  exports.Set("formatVersion", Napi::Number::New(env, kFormatVersion));
  // The shared buffer layouts (js_layouts.h), for test/boundary-layouts.test.ts.
  exports.Set("layouts", LayoutsToJs(env));
  // Internal, not public API: the per-segment index file, for test/index-part.test.ts.
  exports.Set("indexPart", IndexPartToJs(env));
  return exports;
}

}  // namespace causeway::js

static Napi::Object InitCauseway(Napi::Env env, Napi::Object exports) { return causeway::js::Init(env, exports); }
NODE_API_MODULE(causeway, InitCauseway)
