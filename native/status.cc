#include "status.h"

#include <cstring>

namespace causeway {

Status Status::FromErrno(const std::string& what, int err) {
  Status s(Code::kIoError, what + ": " + std::strerror(err));
  s.errno_ = err;
  return s;
}

}  // namespace causeway
