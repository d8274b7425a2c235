// Internal binding of the index part (native/index_part.h), for tests only:
// build one for a sealed segment, check one, dump one, and run its lookups.
// Not part of the public API.
#include <napi.h>

#include "hash.h"
#include "index.h"
#include "index_part.h"
#include "js_errors.h"

namespace causeway::js {
namespace {

std::string Basename(const std::string& path) {
  const size_t at = path.find_last_of(platform::kPathSeparators);
  return at == std::string::npos ? path : path.substr(at + 1);
}

// The sealed segment at `path`, and the identity a part of it must carry.
Status OpenSealed(const std::string& path, std::unique_ptr<Segment>* seg, PartIdentity* id) {
  uint64_t n = 0;
  if (!Segment::ParseFileName(Basename(path), &n)) return Status::InvalidArgument("not a segment file name: " + path);
  CW_RETURN_IF_ERROR(Segment::Open(platform::Parent(path), n, false, seg));
  const Frontier& f = (*seg)->frontier();
  if (f.state != kFrontierSealed) return Status::InvalidArgument("segment " + path + " is not sealed");
  *id = PartIdentity{(*seg)->id(), (*seg)->created_us(), f.end};
  return Status::OK();
}

bool Strings(const Napi::CallbackInfo& info, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!info[i].IsString()) {
      ThrowInvalid(info.Env(), "indexPart: argument " + std::to_string(i + 1) + " must be a string");
      return false;
    }
  return true;
}

// Opens (and checks) the part info[0] of the segment info[1]; throws and returns null on failure.
std::unique_ptr<IndexPart> OpenPart(const Napi::CallbackInfo& info) {
  if (!Strings(info, 2)) return nullptr;
  std::unique_ptr<Segment> seg;
  PartIdentity id;
  std::unique_ptr<IndexPart> part;
  Status st = OpenSealed(info[1].As<Napi::String>().Utf8Value(), &seg, &id);
  if (st.ok()) st = IndexPart::Open(info[0].As<Napi::String>().Utf8Value(), id, &part);
  if (!st.ok()) ThrowStatus(info.Env(), st);
  return part;
}

Napi::Array Sequences(Napi::Env env, const IndexPart& p, RowSpan s) {
  Napi::Array a = Napi::Array::New(env, s.n);
  for (uint32_t i = 0; i < s.n; i++) a.Set(i, Napi::Number::New(env, double(p.Sequence(s.rows[i]))));
  return a;
}

std::string Hex(const uint8_t* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; i++) s += d[p[i] >> 4], s += d[p[i] & 15];
  return s;
}

bool FromHex(const std::string& h, uint8_t* out16) {
  if (h.size() != 32) return false;
  for (size_t i = 0; i < 32; i++) {
    const char c = h[i];
    const int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) return false;
    out16[i / 2] = uint8_t(i % 2 ? (out16[i / 2] | v) : v << 4);
  }
  return true;
}

// build(segmentPath, dir, fileMode?) -> {path, rows, bytes}
Napi::Value Build(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Strings(info, 2)) return env.Undefined();
  const std::string seg_path = info[0].As<Napi::String>().Utf8Value(), dir = info[1].As<Napi::String>().Utf8Value();
  const uint32_t mode = info[2].IsNumber() ? info[2].As<Napi::Number>().Uint32Value() : platform::kPrivateFileMode;
  if (!platform::ValidFileMode(mode)) return ThrowInvalid(env, "indexPart.build: bad file mode"), env.Undefined();
  std::unique_ptr<Segment> seg;
  PartIdentity id;
  std::string bytes;
  Status st = OpenSealed(seg_path, &seg, &id);
  if (st.ok()) st = BuildIndexPart(*seg, id.end, &bytes);
  if (st.ok()) st = WriteIndexPart(dir, Basename(seg_path), bytes, mode);
  if (!st.ok()) return ThrowStatus(env, st), env.Undefined();
  Napi::Object o = Napi::Object::New(env);
  o.Set("path", dir + "/" + IndexPartFileName(Basename(seg_path)));
  o.Set("rows", Napi::Number::New(env, double(LoadLE<uint32_t>(reinterpret_cast<const uint8_t*>(bytes.data()) + idxpart::kRows))));
  o.Set("bytes", Napi::Number::New(env, double(bytes.size())));
  return o;
}

// check(partPath, segmentPath) -> {ok: true}, or throws the typed error.
Napi::Value Check(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!OpenPart(info)) return env.Undefined();
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", true);
  return o;
}

// inspect(partPath, segmentPath) -> a plain dump of every row, entity, scope and kind.
Napi::Value Inspect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::unique_ptr<IndexPart> p = OpenPart(info);
  if (!p) return env.Undefined();
  Napi::Array rows = Napi::Array::New(env, p->rows());
  for (uint32_t r = 0; r < p->rows(); r++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("sequence", double(p->Sequence(r)));
    o.Set("timestamp", double(p->Timestamp(r)));
    o.Set("offset", double(p->FrameOffset(r)));
    o.Set("entity", std::string(p->EntityName(p->Entity(r))));
    o.Set("scope", std::string(p->ScopeName(p->Scope(r))));
    o.Set("kind", double(p->Kind(r)));
    o.Set("clock", double(p->Clock(r)));
    rows.Set(r, o);
  }
  Napi::Array entities = Napi::Array::New(env, p->entity_count());
  for (uint32_t e = 0; e < p->entity_count(); e++) {
    Napi::Object o = Napi::Object::New(env);
    const std::string name(p->EntityName(e));
    o.Set("name", name);
    o.Set("found", double(p->FindEntity(name)));
    o.Set("lastClock", double(p->EntityLastClock(e)));
    o.Set("head", Hex(p->EntityHead(e), 32));
    o.Set("rows", Sequences(env, *p, p->EntityRows(e)));
    entities.Set(e, o);
  }
  Napi::Array scopes = Napi::Array::New(env, p->scope_count());
  for (uint32_t s = 0; s < p->scope_count(); s++) {
    Napi::Object o = Napi::Object::New(env);
    const std::string name(p->ScopeName(s));
    o.Set("name", name);
    o.Set("found", double(p->FindScope(name)));
    o.Set("rows", Sequences(env, *p, p->ScopeRows(s)));
    scopes.Set(s, o);
  }
  Napi::Object kinds = Napi::Object::New(env);
  for (uint32_t i = 0; i < p->kind_count(); i++)
    kinds.Set(std::to_string(p->KindAt(i)), Sequences(env, *p, p->KindRows(p->KindAt(i))));
  Napi::Object o = Napi::Object::New(env);
  o.Set("firstSequence", double(p->first_sequence()));
  o.Set("lastSequence", double(p->last_sequence()));
  o.Set("tagCount", double(p->tag_count()));
  o.Set("rows", rows);
  o.Set("entities", entities);
  o.Set("scopes", scopes);
  o.Set("kinds", kinds);
  return o;
}

// lookup(partPath, segmentPath, what, arg): findId / correlated / effects take
// an id as 32 hex digits, tagRows the tag text, findIdempotency the key text
// (digested as appends digest it: the first 16 bytes of BLAKE3). Row answers
// come back as global sequences; findId and findIdempotency give one or null.
Napi::Value Lookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Strings(info, 4)) return env.Undefined();
  std::unique_ptr<IndexPart> p = OpenPart(info);
  if (!p) return env.Undefined();
  const std::string what = info[2].As<Napi::String>().Utf8Value(), arg = info[3].As<Napi::String>().Utf8Value();
  uint8_t key[16];
  const auto* text = reinterpret_cast<const uint8_t*>(arg.data());
  auto one = [&](int64_t r) -> Napi::Value {
    return r < 0 ? env.Null() : Napi::Number::New(env, double(p->Sequence(uint32_t(r))));
  };
  if (what == "tagRows") return Sequences(env, *p, p->TagRows(Index::TagKey(text, arg.size()).data()));
  if (what == "findIdempotency") {
    Blake3Prefix(text, arg.size(), key, 16);
    return one(p->FindIdempotency(key));
  }
  if (!FromHex(arg, key)) return ThrowInvalid(env, "indexPart.lookup: an id is 32 lowercase hex digits"), env.Undefined();
  if (what == "findId") return one(p->FindId(key));
  if (what == "correlated") return Sequences(env, *p, p->Correlated(key));
  if (what == "effects") return Sequences(env, *p, p->Effects(key));
  return ThrowInvalid(env, "indexPart.lookup: unknown lookup " + what), env.Undefined();
}

}  // namespace

Napi::Object IndexPartToJs(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("build", Napi::Function::New(env, Build, "build"));
  o.Set("check", Napi::Function::New(env, Check, "check"));
  o.Set("inspect", Napi::Function::New(env, Inspect, "inspect"));
  o.Set("lookup", Napi::Function::New(env, Lookup, "lookup"));
  return o;
}

}  // namespace causeway::js
