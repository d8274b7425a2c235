// One core Store per directory per process. Worker threads (each its own
// Node environment) that open the same directory share it: their appends go
// into one log with one sequence. The store closes when its last holder lets go.
#pragma once

#include <memory>

#include "store.h"

namespace causeway {

// Opens the store for `options.dir` or joins the one this process has open.
// *canonical receives the directory's realpath. A writable open of a
// directory this process holds read-only (or the reverse) is Locked.
Status OpenShared(const StoreOptions& options, std::shared_ptr<Store>* out, std::string* canonical);

}  // namespace causeway
