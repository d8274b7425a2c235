#include "js_errors.h"

#include "js_addon.h"

namespace causeway::js {
namespace {

const char* ClassFor(Status::Code c) {
  switch (c) {
    case Status::Code::kCorruption: return "CorruptionError";
    case Status::Code::kIoError: return "IoError";
    case Status::Code::kInvalidArgument: return "InvalidArgumentError";
    case Status::Code::kFull: return "PayloadTooLargeError";
    case Status::Code::kClosed: return "StoreClosedError";
    case Status::Code::kLocked: return "StoreLockedError";
    case Status::Code::kPoisoned: return "StorePoisonedError";
    case Status::Code::kSequenceMismatch: return "SequenceMismatchError";
    case Status::Code::kNotFound: return "NotFoundError";
    case Status::Code::kConditionFailed: return "AppendConditionError";
    case Status::Code::kClockOverflow: return "ClockOverflowError";
    case Status::Code::kNameTableFull: return "NameTableFullError";
    case Status::Code::kOutOfMemory: return "OutOfMemoryError";
    case Status::Code::kCancelled: return "OperationAbortedError";
    case Status::Code::kWriterUnavailable: return "WriterUnavailableError";
    case Status::Code::kOk: break;
  }
  return "CausewayError";
}

}  // namespace

Napi::Value InitErrors(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) {
    Napi::TypeError::New(env, "init expects an object of error classes").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object classes = info[0].As<Napi::Object>();
  AddonData* data = GetData(env);
  Napi::Array names = classes.GetPropertyNames();
  for (uint32_t i = 0; i < names.Length(); i++) {
    std::string name = names.Get(i).As<Napi::String>().Utf8Value();
    Napi::Value v = classes.Get(name);
    if (v.IsFunction()) data->errors[name] = Napi::Persistent(v.As<Napi::Function>());
  }
  return env.Undefined();
}

Napi::Value StatusError(Napi::Env env, const Status& s, Napi::Object details) {
  AddonData* data = GetData(env);
  const char* cls = ClassFor(s.code());
  auto it = data->errors.find(cls);
  if (it == data->errors.end()) it = data->errors.find("CausewayError");
  if (it == data->errors.end()) return Napi::Error::New(env, s.message()).Value();
  if (details.IsEmpty()) details = Napi::Object::New(env);
  if (s.sys_errno()) details.Set("errno", Napi::Number::New(env, s.sys_errno()));
  return it->second.New({Napi::String::New(env, s.message()), details});
}

void ThrowStatus(Napi::Env env, const Status& s, Napi::Object details) {
  Napi::Value err = StatusError(env, s, details);
  if (env.IsExceptionPending()) return;
  Napi::Error(env, err).ThrowAsJavaScriptException();
}

void ThrowInvalid(Napi::Env env, const std::string& message) {
  ThrowStatus(env, Status::InvalidArgument(message));
}

}  // namespace causeway::js
