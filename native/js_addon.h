// Per-environment state of the addon: error classes, and the stores opened
// in this environment, closed by a cleanup hook when the environment (a
// worker, say) goes away.
#pragma once

#include <napi.h>

#include <set>
#include <string>
#include <unordered_map>

namespace causeway::js {

class JsStore;

struct AddonData {
  std::unordered_map<std::string, Napi::FunctionReference> errors;
  Napi::FunctionReference store_ctor;
  std::set<JsStore*> open_stores;
  // Directories this environment has open: a second open here is refused,
  // while another environment (a worker) shares the same core store.
  std::set<std::string> open_dirs;
  ~AddonData();
};

AddonData* GetData(Napi::Env env);

}  // namespace causeway::js
