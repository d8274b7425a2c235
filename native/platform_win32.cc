// platform.h on Windows (MSVC or MinGW-w64). Paths are UTF-8 on the way in
// and out, UTF-16 for the wide (W) calls in between. Every file is opened
// sharing read, write and delete, so that POSIX-style rename and delete work
// on files other stores of this or another process hold open or mapped.
#include "win_text.h"  // <windows.h>, lean, without min/max
#include <bcrypt.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "platform.h"

namespace causeway::platform {
namespace {

HANDLE H(File f) { return reinterpret_cast<HANDLE>(f); }

// The nearest errno value for a Windows error, so callers test one set of codes.
int Errno(DWORD err) {
  switch (err) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH:
    case ERROR_DIRECTORY:
      return ENOENT;
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS:
      return EEXIST;
    case ERROR_ACCESS_DENIED:
    case ERROR_WRITE_PROTECT:
      return EACCES;
    case ERROR_SHARING_VIOLATION:
    case ERROR_USER_MAPPED_FILE:
      return EBUSY;
    case ERROR_LOCK_VIOLATION:
    case ERROR_IO_PENDING:
      return EWOULDBLOCK;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
      return ENOSPC;
    case ERROR_DIR_NOT_EMPTY:
      return ENOTEMPTY;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_COMMITMENT_LIMIT:
      return ENOMEM;
    case ERROR_INVALID_PARAMETER:
    case ERROR_INVALID_NAME:
    case ERROR_BAD_PATHNAME:
      return EINVAL;
    case ERROR_TOO_MANY_OPEN_FILES:
      return EMFILE;
    case ERROR_NOT_SAME_DEVICE:
      return EXDEV;
    case ERROR_NOT_SUPPORTED:
    case ERROR_INVALID_FUNCTION:
      return ENOTSUP;
    case ERROR_CALL_NOT_IMPLEMENTED:
      return ENOSYS;
    case ERROR_FILENAME_EXCED_RANGE:
      return ENAMETOOLONG;
    default:
      return EIO;
  }
}

int LastErrno() { return Errno(::GetLastError()); }

using win::Utf8;
using win::Wide;

constexpr DWORD kShareAll = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;

// Renames or deletes through the open handle, POSIX style: the name goes at
// once, even while other handles or mappings keep the file (Windows 10 1809+
// on NTFS). False when the system or file system does not offer it.
bool PosixRename(HANDLE h, const std::wstring& to, DWORD* err) {
  const size_t bytes = sizeof(FILE_RENAME_INFO) + to.size() * sizeof(wchar_t);
  auto* info = static_cast<FILE_RENAME_INFO*>(std::calloc(1, bytes));
  if (!info) {
    *err = ERROR_NOT_ENOUGH_MEMORY;
    return false;
  }
  // FILE_RENAME_FLAG_REPLACE_IF_EXISTS | FILE_RENAME_FLAG_POSIX_SEMANTICS, in
  // the union's Flags (FileRenameInfoEx); older SDKs name only the BOOLEAN.
  *reinterpret_cast<DWORD*>(info) = 0x1 | 0x2;
  info->FileNameLength = static_cast<DWORD>(to.size() * sizeof(wchar_t));
  std::memcpy(info->FileName, to.data(), to.size() * sizeof(wchar_t));
  constexpr auto kFileRenameInfoEx = static_cast<FILE_INFO_BY_HANDLE_CLASS>(22);
  const BOOL ok = ::SetFileInformationByHandle(h, kFileRenameInfoEx, info, static_cast<DWORD>(bytes));
  *err = ok ? 0 : ::GetLastError();
  std::free(info);
  return ok != 0;
}

bool PosixDelete(HANDLE h, DWORD* err) {
  // FILE_DISPOSITION_FLAG_DELETE | FILE_DISPOSITION_FLAG_POSIX_SEMANTICS (FileDispositionInfoEx).
  DWORD flags = 0x1 | 0x2;
  constexpr auto kFileDispositionInfoEx = static_cast<FILE_INFO_BY_HANDLE_CLASS>(21);
  const BOOL ok = ::SetFileInformationByHandle(h, kFileDispositionInfoEx, &flags, sizeof flags);
  *err = ok ? 0 : ::GetLastError();
  return ok != 0;
}

// The system or file system lacks the POSIX-semantics class: fall back.
bool Unsupported(DWORD err) {
  return err == ERROR_INVALID_PARAMETER || err == ERROR_NOT_SUPPORTED || err == ERROR_INVALID_FUNCTION ||
         err == ERROR_CALL_NOT_IMPLEMENTED;
}

}  // namespace

int OpenFile(const std::string& path, OpenMode mode, File* out, uint32_t /*perm: Windows has no modes*/) {
  DWORD access = GENERIC_READ;
  DWORD disposition = OPEN_EXISTING;
  DWORD flags = FILE_ATTRIBUTE_NORMAL;
  switch (mode) {
    case OpenMode::kRead: break;
    case OpenMode::kReadWrite: access |= GENERIC_WRITE; break;
    case OpenMode::kCreate: access |= GENERIC_WRITE; disposition = CREATE_ALWAYS; break;
    case OpenMode::kCreateNew: access |= GENERIC_WRITE; disposition = CREATE_NEW; break;
    case OpenMode::kOpenOrCreate:
      access |= GENERIC_WRITE;
      disposition = OPEN_ALWAYS;
      flags |= FILE_FLAG_OPEN_REPARSE_POINT;  // as O_NOFOLLOW: never through a link
      break;
  }
  HANDLE h = ::CreateFileW(Wide(path).c_str(), access, kShareAll, nullptr, disposition, flags, nullptr);
  if (h == INVALID_HANDLE_VALUE) return LastErrno();
  *out = reinterpret_cast<File>(h);
  return 0;
}

void CloseFile(File f) {
  if (f != kNoFile) ::CloseHandle(H(f));
}

int FileSize(File f, uint64_t* out) {
  LARGE_INTEGER size;
  if (!::GetFileSizeEx(H(f), &size)) return LastErrno();
  *out = static_cast<uint64_t>(size.QuadPart);
  return 0;
}

int SetFileSize(File f, uint64_t bytes) {
  FILE_END_OF_FILE_INFO eof;
  eof.EndOfFile.QuadPart = static_cast<LONGLONG>(bytes);
  if (!::SetFileInformationByHandle(H(f), FileEndOfFileInfo, &eof, sizeof eof)) return LastErrno();
  return 0;
}

int Preallocate(File f, uint64_t bytes) {
  uint64_t size = 0;
  if (int rc = FileSize(f, &size); rc != 0) return rc;
  if (size >= bytes) return 0;
  // NTFS gives a file that is not sparse its clusters when the end of file
  // moves out, so a full disk fails here, with an error, not later in a
  // store through the mapping; the new range reads as zeros.
  return SetFileSize(f, bytes);
}

int WriteAll(File f, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const DWORD chunk = n > (1u << 30) ? (1u << 30) : static_cast<DWORD>(n);
    DWORD wrote = 0;
    if (!::WriteFile(H(f), p, chunk, &wrote, nullptr)) return LastErrno();
    p += wrote;
    n -= wrote;
  }
  return 0;
}

int WriteAt(File, const void*, size_t, uint64_t) { return ENOSYS; }

int Read(File f, void* buf, size_t n, size_t* got) {
  const DWORD chunk = n > (1u << 30) ? (1u << 30) : static_cast<DWORD>(n);
  DWORD read = 0;
  if (!::ReadFile(H(f), buf, chunk, &read, nullptr)) {
    if (::GetLastError() == ERROR_HANDLE_EOF) read = 0;
    else return LastErrno();
  }
  *got = read;
  return 0;
}

int SyncFile(File f, bool metadata) {
  (void)metadata;  // FlushFileBuffers writes data and metadata, and flushes the drive's cache
  return ::FlushFileBuffers(H(f)) ? 0 : LastErrno();
}

int LockExclusive(File f) {
  OVERLAPPED at = {};
  if (::LockFileEx(H(f), LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &at)) return 0;
  const DWORD err = ::GetLastError();
  return err == ERROR_LOCK_VIOLATION || err == ERROR_IO_PENDING ? EWOULDBLOCK : Errno(err);
}

int MapFile(File f, uint64_t n, bool writable, uint8_t** out) {
  HANDLE section = ::CreateFileMappingW(H(f), nullptr, writable ? PAGE_READWRITE : PAGE_READONLY,
                                        static_cast<DWORD>(n >> 32), static_cast<DWORD>(n), nullptr);
  if (!section) return LastErrno();
  void* p = ::MapViewOfFile(section, writable ? FILE_MAP_WRITE : FILE_MAP_READ, 0, 0, static_cast<SIZE_T>(n));
  const int rc = p ? 0 : LastErrno();
  ::CloseHandle(section);  // the view keeps the section (and the file) alive
  if (rc != 0) return rc;
  *out = static_cast<uint8_t*>(p);
  return 0;
}

void Unmap(uint8_t* p, uint64_t n) {
  (void)n;
  if (p) ::UnmapViewOfFile(p);
}

int SyncMapped(File f, uint8_t* p, uint64_t n, bool metadata) {
  // FlushViewOfFile starts writing the view's dirty pages; FlushFileBuffers
  // waits for them and the file's metadata, and flushes the drive's cache.
  if (p && n > 0 && !::FlushViewOfFile(p, static_cast<SIZE_T>(n))) return LastErrno();
  return SyncFile(f, metadata);
}

bool ReleaseMapped(void* p, size_t n) {
  (void)p;
  (void)n;
  return false;
}

bool PopulateMapped(void* p, size_t n) {
  (void)p;
  (void)n;
  return false;
}

bool PopulateMappedForWrite(void* p, size_t n) {
  (void)p;
  (void)n;
  return false;
}

uint64_t PageSize() {
  SYSTEM_INFO info;
  ::GetSystemInfo(&info);
  return info.dwPageSize;
}

int SyncDir(const std::string& dir) {
  (void)dir;
  return 0;
}

int MakeDir(const std::string& dir, uint32_t /*perm*/) { return ::CreateDirectoryW(Wide(dir).c_str(), nullptr) ? 0 : LastErrno(); }

int RemoveDir(const std::string& dir) { return ::RemoveDirectoryW(Wide(dir).c_str()) ? 0 : LastErrno(); }

int ListDir(const std::string& dir, std::vector<std::string>* names) {
  WIN32_FIND_DATAW found;
  HANDLE h = ::FindFirstFileW(Wide(dir + "\\*").c_str(), &found);
  if (h == INVALID_HANDLE_VALUE) {
    const DWORD err = ::GetLastError();
    if (err == ERROR_FILE_NOT_FOUND) {  // an empty directory has no entries at all
      names->clear();
      return 0;
    }
    return Errno(err);
  }
  names->clear();
  do {
    std::string n = Utf8(found.cFileName, std::wcslen(found.cFileName));
    if (n != "." && n != "..") names->push_back(std::move(n));
  } while (::FindNextFileW(h, &found));
  const DWORD err = ::GetLastError();
  ::FindClose(h);
  return err == ERROR_NO_MORE_FILES ? 0 : Errno(err);
}

int Rename(const std::string& from, const std::string& to) {
  const std::wstring wfrom = Wide(from), wto = Wide(to);
  // DELETE access on the source is what a rename needs; a directory needs
  // FILE_FLAG_BACKUP_SEMANTICS to be opened at all.
  HANDLE h = ::CreateFileW(wfrom.c_str(), DELETE | SYNCHRONIZE, kShareAll, nullptr, OPEN_EXISTING,
                           FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
  if (h == INVALID_HANDLE_VALUE) return LastErrno();
  DWORD err = 0;
  const bool done = PosixRename(h, wto, &err);
  ::CloseHandle(h);
  if (done) return 0;
  if (!Unsupported(err)) return Errno(err);
  // No POSIX semantics: a replaced target must not be open anywhere.
  return ::MoveFileExW(wfrom.c_str(), wto.c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)
             ? 0
             : LastErrno();
}

int RemoveFile(const std::string& path) {
  const std::wstring w = Wide(path);
  HANDLE h = ::CreateFileW(w.c_str(), DELETE, kShareAll, nullptr, OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT,
                           nullptr);
  if (h == INVALID_HANDLE_VALUE) return LastErrno();
  DWORD err = 0;
  const bool done = PosixDelete(h, &err);
  if (!done && Unsupported(err)) {
    // No POSIX semantics: delete on close of the last handle, which is ours
    // unless another store has the file open.
    FILE_DISPOSITION_INFO info;
    info.DeleteFile = TRUE;
    const BOOL ok = ::SetFileInformationByHandle(h, FileDispositionInfo, &info, sizeof info);
    err = ok ? 0 : ::GetLastError();
  }
  ::CloseHandle(h);
  return err == 0 ? 0 : Errno(err);
}

bool InUseByOther(int err) { return err == EACCES || err == EBUSY; }

int HardLink(const std::string& existing, const std::string& link) {
  return ::CreateHardLinkW(Wide(link).c_str(), Wide(existing).c_str(), nullptr) ? 0 : LastErrno();
}

int GetPathKind(const std::string& path, PathKind* out) {
  const DWORD attrs = ::GetFileAttributesW(Wide(path).c_str());
  if (attrs == INVALID_FILE_ATTRIBUTES) {
    const int err = LastErrno();
    if (err != ENOENT) return err;
    *out = PathKind::kNone;
    return 0;
  }
  *out = (attrs & FILE_ATTRIBUTE_DIRECTORY) ? PathKind::kDirectory
         : (attrs & FILE_ATTRIBUTE_DEVICE)  ? PathKind::kOther
                                            : PathKind::kFile;
  return 0;
}

int RealPath(const std::string& path, std::string* out) {
  HANDLE h = ::CreateFileW(Wide(path).c_str(), 0, kShareAll, nullptr, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS,
                           nullptr);
  if (h == INVALID_HANDLE_VALUE) return LastErrno();
  std::wstring buf(512, L'\0');
  DWORD n = ::GetFinalPathNameByHandleW(h, buf.data(), static_cast<DWORD>(buf.size()), FILE_NAME_NORMALIZED);
  if (n >= buf.size()) {
    buf.resize(n + 1);
    n = ::GetFinalPathNameByHandleW(h, buf.data(), static_cast<DWORD>(buf.size()), FILE_NAME_NORMALIZED);
  }
  const int rc = n == 0 ? LastErrno() : 0;
  ::CloseHandle(h);
  if (rc != 0) return rc;
  buf.resize(n);
  // "\\?\C:\dir" -> "C:\dir"; "\\?\UNC\server\share" -> "\\server\share".
  if (buf.compare(0, 8, L"\\\\?\\UNC\\") == 0) buf = L"\\\\" + buf.substr(8);
  else if (buf.compare(0, 4, L"\\\\?\\") == 0) buf = buf.substr(4);
  *out = Utf8(buf.data(), buf.size());
  return 0;
}

std::string Parent(const std::string& path) {
  size_t slash = path.find_last_of(kPathSeparators);
  if (slash == std::string::npos) return ".";
  // "C:\" and "\" stay roots.
  if (slash == 0 || (slash == 2 && path[1] == ':')) return path.substr(0, slash + 1);
  return path.substr(0, slash);
}

bool RandomBytes(void* out, size_t n) {
  auto* p = static_cast<unsigned char*>(out);
  while (n > 0) {
    const ULONG k = n > 0x10000000 ? 0x10000000 : static_cast<ULONG>(n);
    if (::BCryptGenRandom(nullptr, p, k, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) return false;
    p += k;
    n -= k;
  }
  return true;
}

int ProcessId() { return static_cast<int>(::GetCurrentProcessId()); }

void KillSelf() {
  ::TerminateProcess(::GetCurrentProcess(), 137);  // 128 + SIGKILL, as a shell reports a killed process
  std::abort();
}

void NameThisThread(const char*) {}  // thread descriptions need Windows 10 1607+: not worth a lookup

}  // namespace causeway::platform
