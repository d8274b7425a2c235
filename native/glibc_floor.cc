// Keeps the Linux (glibc) binary loadable wherever Node 20 itself runs:
// glibc 2.28 and a libstdc++ of GCC 8 (GLIBCXX_3.4.25), although it is built
// with GCC 12 against Debian 12's glibc 2.36. Two references that GCC 12's
// libstdc++ headers plant in every translation unit would otherwise raise
// that floor; each gets a definition here, hidden in this binary, so the
// link resolves them without a versioned import:
//  - __libc_single_threaded (glibc 2.32): ext/atomicity.h reads it to skip
//    atomic reference counts in a single-threaded process. A Node process
//    always runs several threads, so glibc's copy is never set in one; ours
//    stays 0, and the counts stay atomic.
//  - std::__throw_bad_array_new_length() (GLIBCXX_3.4.29): allocators call
//    it for an array size past the address space. Here it throws
//    std::bad_alloc, the base class of std::bad_array_new_length, through
//    std::__throw_bad_alloc (GLIBCXX_3.4).
// Both are weak: a toolchain that links its own copy statically (RHEL's
// gcc-toolset, in the release workflow's manylinux_2_28 jobs) keeps it, with
// no clash. The other calls that rose above glibc 2.28 are avoided at their source:
// condition-variable timed waits (cond_var.h) and stat (platform_posix.cc).
// test/package.test.ts holds the prebuilt binary to these floors.
#include <cstddef>  // defines __GLIBCXX__ with libstdc++, nothing else needed

#if defined(__linux__) && defined(__GLIBC__) && defined(__GLIBCXX__)

extern "C" {
__attribute__((weak, visibility("hidden"))) char __libc_single_threaded = 0;
}

namespace std {
[[noreturn]] __attribute__((visibility("default"))) void __throw_bad_alloc();  // libstdc++'s
[[noreturn]] __attribute__((weak, visibility("hidden"))) void __throw_bad_array_new_length() { __throw_bad_alloc(); }
}  // namespace std

#endif
