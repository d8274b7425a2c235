#include "crc32c.h"

#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#include <nmmintrin.h>
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>  // __cpuid; MSVC compiles SSE4.2 intrinsics without a target attribute
#define CW_TARGET_SSE42
#else
#define CW_TARGET_SSE42 __attribute__((target("sse4.2,crc32")))
#endif
#define CW_CRC_X86 1
#elif defined(__aarch64__) && defined(__linux__)
#include <arm_acle.h>
#include <sys/auxv.h>
#define CW_CRC_ARM 1
#endif

namespace causeway::crc32c {
namespace {

constexpr uint32_t kPoly = 0x82f63b78u;  // reflected Castagnoli polynomial

// Slice-by-8 tables, built once at first use.
struct Tables {
  uint32_t t[8][256];
  Tables() {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c >> 1) ^ ((c & 1) ? kPoly : 0);
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
      for (int s = 1; s < 8; s++) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  }
};
const Tables& GetTables() {
  static const Tables tables;
  return tables;
}

#if CW_CRC_X86
CW_TARGET_SSE42 uint32_t ExtendSse42(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t c = ~crc;
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = _mm_crc32_u64(c, v);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n--) c32 = _mm_crc32_u8(c32, *p++);
  return ~c32;
}
#endif

#if CW_CRC_ARM
__attribute__((target("+crc"))) uint32_t ExtendArm(uint32_t crc, const uint8_t* p, size_t n) {
  uint32_t c = ~crc;
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = __crc32cd(c, v);
    p += 8;
    n -= 8;
  }
  while (n--) c = __crc32cb(c, *p++);
  return ~c;
}
#endif

using ExtendFn = uint32_t (*)(uint32_t, const uint8_t*, size_t);

#if CW_CRC_X86
bool HasSse42() {
#if defined(_MSC_VER) && !defined(__clang__)
  int info[4];
  __cpuid(info, 1);
  return (info[2] & (1 << 20)) != 0;  // CPUID.1:ECX bit 20
#else
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
#endif
}
#endif

struct Dispatch {
  ExtendFn fn = ExtendPortable;
  const char* name = "portable";
  Dispatch() {
#if CW_CRC_X86
    if (HasSse42()) {
      fn = ExtendSse42;
      name = "sse4.2";
    }
#elif CW_CRC_ARM
    if (getauxval(AT_HWCAP) & HWCAP_CRC32) {
      fn = ExtendArm;
      name = "armv8-crc";
    }
#endif
  }
};
const Dispatch& GetDispatch() {
  static const Dispatch d;
  return d;
}

}  // namespace

uint32_t ExtendPortable(uint32_t crc, const uint8_t* p, size_t n) {
  const Tables& tb = GetTables();
  uint32_t c = ~crc;
  while (n >= 8) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    lo ^= c;
    c = tb.t[7][lo & 0xff] ^ tb.t[6][(lo >> 8) & 0xff] ^ tb.t[5][(lo >> 16) & 0xff] ^ tb.t[4][lo >> 24] ^
        tb.t[3][hi & 0xff] ^ tb.t[2][(hi >> 8) & 0xff] ^ tb.t[1][(hi >> 16) & 0xff] ^ tb.t[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n--) c = (c >> 8) ^ tb.t[0][(c ^ *p++) & 0xff];
  return ~c;
}

uint32_t Extend(uint32_t crc, const uint8_t* data, size_t n) { return GetDispatch().fn(crc, data, n); }

const char* Implementation() { return GetDispatch().name; }

}  // namespace causeway::crc32c
