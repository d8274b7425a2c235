// The few file-system and OS calls that differ between Linux and macOS, one
// name each. Everything else in the core is plain POSIX. Each call returns 0
// or an errno value (never sets errno for the caller to read).
#pragma once

#include <cstddef>
#include <cstdint>

namespace causeway::platform {

// Gives fd real blocks for [0, bytes) and a size of at least `bytes`, so a
// later store through a mapping cannot hit a hole on a full disk (SIGBUS):
// posix_fallocate on Linux; F_PREALLOCATE then ftruncate on macOS.
int Preallocate(int fd, uint64_t bytes);

// Makes fd's written data durable on the device; `metadata` also its
// metadata (size, times). Linux: fdatasync / fsync. macOS: F_FULLFSYNC for
// both, since its fsync leaves data in the drive's cache.
int SyncFile(int fd, bool metadata);

// Fills `out` with n bytes from the OS's random source (getrandom on Linux,
// getentropy on macOS); false when it cannot.
bool RandomBytes(void* out, size_t n);

// Tells the kernel the mapped bytes [p, p + n) of a shared file mapping will
// not be touched again by this mapping: Linux drops the page-table entries
// (MADV_DONTNEED; the dirty pages stay in the page cache and are written
// back as usual). Elsewhere nothing happens. True when it took effect.
bool ReleaseMapped(void* p, size_t n);

// Maps [p, p + n) of a shared file mapping ahead of use (Linux 5.14+
// MADV_POPULATE_READ). Elsewhere nothing happens. True when it took effect.
bool PopulateMapped(void* p, size_t n);

}  // namespace causeway::platform
