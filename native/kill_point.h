// Whitebox crash points for tests (RocksDB's kill points, in miniature): when
// the environment variable CAUSEWAY_KILL_AT names this point, the process
// kills itself with SIGKILL right here. Only on rare paths (compaction,
// snapshot), never on the append path.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace causeway {

inline void KillPoint(const char* name) {
  const char* at = std::getenv("CAUSEWAY_KILL_AT");
  if (at && std::strcmp(at, name) == 0) ::kill(::getpid(), SIGKILL);
}

}  // namespace causeway
