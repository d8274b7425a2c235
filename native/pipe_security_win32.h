// Who may use the writer link's named pipe on Windows (local_socket_win32.cc):
// its name, derived from the data directory, and the checks that stand in for
// the POSIX socket's 0600 mode inside a 0700 directory and SO_PEERCRED. The
// pipe namespace is machine-wide, not inside the data directory, so both ends
// check the other: the writer creates the pipe owner-only, with our user SID
// as its owner; a client refuses a pipe another user owns (someone who took
// the name first), and the writer refuses a client of another user.
#pragma once

#if defined(_WIN32)
#include "win_text.h"  // <windows.h>, lean, without min/max

#include <string>
#include <vector>

#include "status.h"

namespace causeway::sock::win {

// "\\.\pipe\causeway-" + 32 hex digits: the first 16 bytes of BLAKE3 over the
// UTF-8 of the canonical directory path (fsutil::RealPath), lowercased
// (NTFS names are case-insensitive). PROTOCOL.md documents it.
std::wstring PipeName(const std::string& dir);

// A security descriptor granting FILE_ALL_ACCESS to this process's user SID
// and nobody else, with that SID as owner. Must outlive its use.
struct OwnerOnly {
  std::vector<uint8_t> acl;
  SECURITY_DESCRIPTOR sd;
  SECURITY_ATTRIBUTES sa;  // not inheritable: a child process gets no link handle
};
Status MakeOwnerOnly(OwnerOnly* out);

// The pipe `h` (either end) is owned by this process's user: the writer set
// that owner when it created the pipe, and only our user could.
Status CheckPipeOwner(HANDLE h);
// The process at the other end of the server end `h` runs as our user.
Status CheckClientUser(HANDLE h);

// "<what> (Windows error N: message)" as an IoError.
Status WinError(const std::string& what, DWORD err);

}  // namespace causeway::sock::win
#endif
