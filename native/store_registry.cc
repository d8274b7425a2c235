#include "store_registry.h"

#include <map>
#include <mutex>

#include "fsutil.h"

namespace causeway {
namespace {

std::mutex g_mu;
// Weak: the registry never keeps a store open by itself. Never destroyed, as
// environment cleanup hooks may still release stores during process exit.
std::map<std::string, std::weak_ptr<Store>>& Open() {
  static auto* m = new std::map<std::string, std::weak_ptr<Store>>();
  return *m;
}

}  // namespace

Status OpenShared(const StoreOptions& options, std::shared_ptr<Store>* out, std::string* canonical) {
  StoreOptions o = options;
  if (!platform::ValidFileMode(o.file_mode))  // before EnsureDir creates anything
    return Status::InvalidArgument("fileMode must be within 0o600..0o777 and include owner read and write");
  if (!o.read_only) CW_RETURN_IF_ERROR(fsutil::EnsureDir(o.dir, o.file_mode));
  CW_RETURN_IF_ERROR(fsutil::RealPath(o.dir, &o.dir));
  *canonical = o.dir;
  std::lock_guard<std::mutex> g(g_mu);
  auto& open = Open();
  auto it = open.find(o.dir);
  if (it != open.end()) {
    if (std::shared_ptr<Store> s = it->second.lock(); s && !s->closed()) {
      if (s->options().read_only != o.read_only)
        return Status::Locked("the store at " + o.dir + " is already open in this process " +
                              (s->options().read_only ? "read-only" : "for writing"));
      *out = std::move(s);
      return Status::OK();
    }
  }
  std::unique_ptr<Store> fresh;
  CW_RETURN_IF_ERROR(Store::Open(o, &fresh));
  std::shared_ptr<Store> s(fresh.release());
  open[o.dir] = s;
  *out = std::move(s);
  return Status::OK();
}

}  // namespace causeway
