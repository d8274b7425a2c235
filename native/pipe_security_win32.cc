// pipe_security_win32.h: the writer link's pipe name and its access checks.
#if defined(_WIN32)
#include "pipe_security_win32.h"

#include <aclapi.h>

#include <cstring>

#include "hash.h"
#include "win_text.h"

namespace causeway::sock::win {
namespace {

using causeway::win::Wide;
std::string Utf8(const std::wstring& w) { return causeway::win::Utf8(w.data(), w.size()); }

// The user SID of `token`'s owner process.
Status TokenUserSid(HANDLE token, std::vector<uint8_t>* sid) {
  DWORD n = 0;
  ::GetTokenInformation(token, TokenUser, nullptr, 0, &n);
  std::vector<uint8_t> buf(n ? n : 1);
  if (!::GetTokenInformation(token, TokenUser, buf.data(), n, &n)) return WinError("GetTokenInformation", ::GetLastError());
  PSID s = reinterpret_cast<TOKEN_USER*>(buf.data())->User.Sid;
  const uint8_t* p = static_cast<const uint8_t*>(s);
  sid->assign(p, p + ::GetLengthSid(s));
  return Status::OK();
}

Status OurSid(std::vector<uint8_t>* sid) {
  HANDLE token;
  if (!::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &token)) return WinError("OpenProcessToken", ::GetLastError());
  Status s = TokenUserSid(token, sid);
  ::CloseHandle(token);
  return s;
}

}  // namespace

Status WinError(const std::string& what, DWORD err) {
  wchar_t* text = nullptr;
  std::string msg;
  if (::FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr,
                       err, 0, reinterpret_cast<wchar_t*>(&text), 0, nullptr) && text) {
    msg = Utf8(text);
    ::LocalFree(text);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r' || msg.back() == ' ')) msg.pop_back();
  }
  return Status::IoError(what + " (Windows error " + std::to_string(err) + (msg.empty() ? "" : ": " + msg) + ")");
}

std::wstring PipeName(const std::string& dir) {
  std::wstring w = Wide(dir);
  if (!w.empty()) {
    // Invariant-locale lowercasing: the same in every process whatever its locale.
    std::wstring lower(w.size(), L'\0');
    int n = ::LCMapStringEx(LOCALE_NAME_INVARIANT, LCMAP_LOWERCASE, w.data(), static_cast<int>(w.size()), lower.data(),
                            static_cast<int>(lower.size()), nullptr, nullptr, 0);
    if (n == static_cast<int>(w.size())) w = lower;
  }
  const std::string key = Utf8(w);
  uint8_t h[16];
  Blake3Prefix(reinterpret_cast<const uint8_t*>(key.data()), key.size(), h, sizeof h);
  std::wstring name = L"\\\\.\\pipe\\causeway-";
  for (uint8_t b : h) name += {L"0123456789abcdef"[b >> 4], L"0123456789abcdef"[b & 15]};
  return name;
}

Status MakeOwnerOnly(OwnerOnly* o) {
  std::vector<uint8_t> user;
  CW_RETURN_IF_ERROR(OurSid(&user));
  // One buffer: the DACL, then the owner SID the descriptor points to.
  const DWORD sid_len = static_cast<DWORD>(user.size());
  const DWORD acl_len = sizeof(ACL) + sizeof(ACCESS_ALLOWED_ACE) - sizeof(DWORD) + sid_len;
  o->acl.assign(acl_len + sid_len, 0);
  PSID owner = o->acl.data() + acl_len;
  std::memcpy(owner, user.data(), sid_len);
  auto* acl = reinterpret_cast<PACL>(o->acl.data());
  if (!::InitializeAcl(acl, acl_len, ACL_REVISION)) return WinError("InitializeAcl", ::GetLastError());
  if (!::AddAccessAllowedAce(acl, ACL_REVISION, FILE_ALL_ACCESS, owner)) return WinError("AddAccessAllowedAce", ::GetLastError());
  if (!::InitializeSecurityDescriptor(&o->sd, SECURITY_DESCRIPTOR_REVISION))
    return WinError("InitializeSecurityDescriptor", ::GetLastError());
  // The owner is set, not left to the token's default (Administrators for an
  // elevated process): clients check it (CheckPipeOwner).
  if (!::SetSecurityDescriptorOwner(&o->sd, owner, FALSE)) return WinError("SetSecurityDescriptorOwner", ::GetLastError());
  if (!::SetSecurityDescriptorDacl(&o->sd, TRUE, acl, FALSE)) return WinError("SetSecurityDescriptorDacl", ::GetLastError());
  o->sa.nLength = sizeof o->sa;
  o->sa.lpSecurityDescriptor = &o->sd;
  o->sa.bInheritHandle = FALSE;
  return Status::OK();
}

Status CheckPipeOwner(HANDLE h) {
  std::vector<uint8_t> user;
  CW_RETURN_IF_ERROR(OurSid(&user));
  PSID owner = nullptr;
  PSECURITY_DESCRIPTOR sd = nullptr;
  const DWORD rc = ::GetSecurityInfo(h, SE_KERNEL_OBJECT, OWNER_SECURITY_INFORMATION, &owner, nullptr, nullptr, nullptr, &sd);
  if (rc != ERROR_SUCCESS) return WinError("reading the writer pipe's owner", rc);
  const bool ours = owner && ::EqualSid(owner, user.data());
  ::LocalFree(sd);
  if (!ours) return Status::InvalidArgument("refused the writer pipe: another user owns it (it took the name first)");
  return Status::OK();
}

Status CheckClientUser(HANDLE h) {
  ULONG pid = 0;
  if (!::GetNamedPipeClientProcessId(h, &pid)) return WinError("GetNamedPipeClientProcessId", ::GetLastError());
  if (pid == ::GetCurrentProcessId()) return Status::OK();
  // The pipe's DACL admits our user SID only, and Windows checks it when the
  // client opens the pipe: this is a second check, as SO_PEERCRED is beside
  // the socket's 0600. A process we may not open (an elevated process of our
  // user, when we are not elevated) is taken on the DACL's word.
  HANDLE proc = ::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
  if (!proc) {
    const DWORD e = ::GetLastError();
    return e == ERROR_ACCESS_DENIED ? Status::OK() : WinError("OpenProcess " + std::to_string(pid), e);
  }
  HANDLE token = nullptr;
  const BOOL opened = ::OpenProcessToken(proc, TOKEN_QUERY, &token);
  const DWORD e = ::GetLastError();
  ::CloseHandle(proc);
  if (!opened) return e == ERROR_ACCESS_DENIED ? Status::OK() : WinError("OpenProcessToken " + std::to_string(pid), e);
  std::vector<uint8_t> theirs, ours;
  Status s = TokenUserSid(token, &theirs);
  ::CloseHandle(token);
  CW_RETURN_IF_ERROR(s);
  CW_RETURN_IF_ERROR(OurSid(&ours));
  if (!::EqualSid(theirs.data(), ours.data()))
    return Status::InvalidArgument("refused a client process (pid " + std::to_string(pid) +
                                   ") of another user: the store's owner is this process's user");
  return Status::OK();
}

}  // namespace causeway::sock::win
#endif
