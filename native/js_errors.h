// Turns a core Status into an instance of the error class the TypeScript
// layer handed over at init, so `instanceof` and `code` work in JS.
#pragma once

#include <napi.h>

#include "status.h"

namespace causeway::js {

// Per-environment addon data (one per main thread or worker).
struct AddonData;

// Registers the TypeScript error classes: init({ CorruptionError, ... }).
Napi::Value InitErrors(const Napi::CallbackInfo& info);

// `s` as an instance of the matching TypeScript error, not thrown (to reject
// a promise with). Empty, with an exception pending, if the constructor threw.
Napi::Value StatusError(Napi::Env env, const Status& s, Napi::Object details = Napi::Object());
// Throws `s` as the matching TypeScript error, with `details` merged in.
void ThrowStatus(Napi::Env env, const Status& s, Napi::Object details = Napi::Object());
// Throws a TypeError-like InvalidArgumentError with `message`.
void ThrowInvalid(Napi::Env env, const std::string& message);

}  // namespace causeway::js
