// Every operating-system call the core makes, one name each, so the rest of
// the core is the same code on Linux, macOS and Windows. Two
// implementations: platform_posix.cc (Linux, macOS) and platform_win32.cc.
// Each call returns 0 or an errno value (ENOENT, EEXIST, ENOSPC, EACCES,
// EWOULDBLOCK, EBUSY, ...; Windows errors are translated to the nearest one)
// and never leaves errno for the caller to read. Paths are UTF-8.
//
// Windows differs in what it allows on open and mapped files, and the core
// is written to the stricter rule:
//  - a file's size cannot change while a view of it is mapped (here or in
//    another process): Segment unmaps before it resizes, and SetFileSize
//    answers EBUSY when another process still maps the file;
//  - every file is opened sharing read, write and delete, and Rename and
//    RemoveFile use POSIX semantics (Windows 10 1809+ on NTFS), so a segment
//    another process maps can still be replaced or removed, as on POSIX;
//  - a mapping's dirty pages are written by SyncMapped (FlushViewOfFile),
//    not by a sync of the file alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace causeway::platform {

// A file descriptor (POSIX) or a HANDLE (Windows); kNoFile when none.
using File = intptr_t;
constexpr File kNoFile = -1;

enum class OpenMode {
  kRead,          // existing file, read-only
  kReadWrite,     // existing file, read-write
  kCreate,        // read-write, created or emptied (O_CREAT | O_TRUNC)
  kCreateNew,     // write-only, must not exist yet (O_CREAT | O_EXCL)
  kOpenOrCreate,  // read-write, created when missing, never a symlink (lock files)
};
// Permission bits of the files the store creates, before the umask (which
// open(2) and mkdir(2) apply; nothing is chmod-ed wider). Owner-only by
// default: payloads often hold personal data. Windows ignores them.
constexpr uint32_t kPrivateFileMode = 0600;
// A directory's mode for a file mode: each read bit adds the matching
// execute (search) bit, so 0600 gives 0700 and 0640 gives 0750.
constexpr uint32_t DirModeFor(uint32_t file_mode) { return file_mode | ((file_mode & 0444) >> 2); }
// A file mode the store accepts: permission bits only, owner read and write included.
constexpr bool ValidFileMode(uint32_t m) { return (m & ~0777u) == 0 && (m & 0600) == 0600; }
static_assert(DirModeFor(0600) == 0700 && DirModeFor(0640) == 0750 && DirModeFor(0644) == 0755);

// `perm`: the mode a created file gets (the creating modes only).
int OpenFile(const std::string& path, OpenMode mode, File* out, uint32_t perm = kPrivateFileMode);
void CloseFile(File f);
int FileSize(File f, uint64_t* out);
// Cuts or extends (with zeros) the file to `bytes`. EBUSY on Windows while
// any view of the file is mapped.
int SetFileSize(File f, uint64_t bytes);
// Whether SetFileSize may answer EBUSY because another process maps the
// file (Windows only): the callers that can keep an uncut file check this,
// so an EBUSY anywhere else stays an error.
#if defined(_WIN32)
constexpr bool kResizeBlockedByMappings = true;
#else
constexpr bool kResizeBlockedByMappings = false;
#endif
// Gives f real blocks for [0, bytes) and a size of at least `bytes`, so a
// later store through a mapping cannot hit a hole on a full disk (SIGBUS):
// posix_fallocate on Linux; F_PREALLOCATE then ftruncate on macOS;
// end of file moved out on Windows (NTFS allocates a non-sparse extension).
int Preallocate(File f, uint64_t bytes);
int WriteAll(File f, const void* data, size_t n);
// Writes n bytes at `offset` without moving the file position (pwrite).
// POSIX only: Windows answers ENOSYS (its writers store through the mapping).
int WriteAt(File f, const void* data, size_t n, uint64_t offset);
// Reads up to n bytes at the current position; *got is 0 at end of file.
int Read(File f, void* buf, size_t n, size_t* got);
// Makes f's written data durable on the device; `metadata` also its
// metadata (size, times). Linux: fdatasync / fsync. macOS: F_FULLFSYNC for
// both, since its fsync leaves data in the drive's cache. Windows:
// FlushFileBuffers.
int SyncFile(File f, bool metadata);
// Takes an exclusive lock on f without waiting; EWOULDBLOCK when another
// open file holds it (flock / LockFileEx). Dropped when f is closed.
int LockExclusive(File f);

// Maps [0, n) of f shared; writable or read-only. The mapping outlives f.
int MapFile(File f, uint64_t n, bool writable, uint8_t** out);
void Unmap(uint8_t* p, uint64_t n);
// Makes the mapped bytes [p, p + n) of f durable, as SyncFile does for
// written ones. POSIX: the dirty pages of a shared mapping are in the page
// cache, so SyncFile(f) covers them. Windows: FlushViewOfFile first.
int SyncMapped(File f, uint8_t* p, uint64_t n, bool metadata);
#if defined(_WIN32)
constexpr bool kSyncUsesMapping = true;
#else
constexpr bool kSyncUsesMapping = false;
#endif
// Tells the kernel the mapped bytes [p, p + n) of a shared file mapping will
// not be touched again by this mapping: Linux drops the page-table entries
// (MADV_DONTNEED; the dirty pages stay in the page cache and are written
// back as usual). Elsewhere nothing happens. True when it took effect.
bool ReleaseMapped(void* p, size_t n);
// Maps [p, p + n) of a shared file mapping ahead of use (Linux 5.14+
// MADV_POPULATE_READ). Elsewhere nothing happens. True when it took effect.
bool PopulateMapped(void* p, size_t n);
// The same, writable and dirty, as if each page had been stored to (Linux
// 5.14+ MADV_POPULATE_WRITE; the bytes are unchanged). Elsewhere false.
bool PopulateMappedForWrite(void* p, size_t n);
uint64_t PageSize();

// Directory entries. SyncDir makes created, renamed and removed entries of
// `dir` durable (fsync of the directory); Windows has no such call, and NTFS
// journals its entries itself, so there it does nothing.
int SyncDir(const std::string& dir);
// EEXIST when it exists; `perm` as for OpenFile (a directory mode: DirModeFor).
int MakeDir(const std::string& dir, uint32_t perm);
int RemoveDir(const std::string& dir);  // must be empty
// Names (not paths) of the entries of `dir`, without "." and "..", unsorted.
int ListDir(const std::string& dir, std::vector<std::string>* names);
// Replaces `to` if it exists, even while another process has it open or mapped.
int Rename(const std::string& from, const std::string& to);
// ENOENT when it does not exist.
int RemoveFile(const std::string& path);
// Whether a Rename or RemoveFile failed only because another process has the
// file open or mapped: possible on Windows when the file system or the
// system (before Windows 10 1809, or Wine) lacks POSIX-semantics rename and
// delete. Never on POSIX.
bool InUseByOther(int err);
int HardLink(const std::string& existing, const std::string& link);
enum class PathKind { kNone, kFile, kDirectory, kOther };
int GetPathKind(const std::string& path, PathKind* out);  // kNone (and 0) when missing
// Canonical absolute path (realpath; the final path of a directory handle on Windows).
int RealPath(const std::string& path, std::string* out);
// The directory part of a path ("." when it has none).
std::string Parent(const std::string& path);
#if defined(_WIN32)
constexpr char kPathSeparators[] = "/\\";
#else
constexpr char kPathSeparators[] = "/";
#endif

// Fills `out` with n bytes from the OS's random source (getrandom on Linux,
// getentropy on macOS, BCryptGenRandom on Windows); false when it cannot.
bool RandomBytes(void* out, size_t n);
int ProcessId();
// Names the calling thread (at most 15 characters: Linux's limit), as `top -H`
// and /proc/<pid>/task/*/comm show it. Linux and macOS; elsewhere nothing.
void NameThisThread(const char* name);
// Ends this process at once, as SIGKILL would: no handler, no flush, no exit code.
[[noreturn]] void KillSelf();

}  // namespace causeway::platform
