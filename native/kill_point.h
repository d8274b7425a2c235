// Whitebox crash points for tests (RocksDB's kill points, in miniature): when
// the environment variable CAUSEWAY_KILL_AT names this point, the process
// kills itself right here (SIGKILL; TerminateProcess on Windows). Only on
// rare paths (compaction, snapshot), never on the append path.
#pragma once

#include <cstdlib>
#include <cstring>

#include "platform.h"

namespace causeway {

inline void KillPoint(const char* name) {
  const char* at = std::getenv("CAUSEWAY_KILL_AT");
  if (at && std::strcmp(at, name) == 0) platform::KillSelf();
}

}  // namespace causeway
