// CRC32C (Castagnoli), hardware-accelerated where the CPU has it (SSE4.2 on
// x86-64, the CRC extension on AArch64), chosen at run time; a table-driven
// portable version everywhere else. No -march flags needed.
#pragma once

#include <cstddef>
#include <cstdint>

namespace causeway::crc32c {

// CRC32C of data[0, n) continuing from `crc` (0 to start).
uint32_t Extend(uint32_t crc, const uint8_t* data, size_t n);
inline uint32_t Value(const uint8_t* data, size_t n) { return Extend(0, data, n); }

// Stored CRCs are masked so a frame that embeds CRCs of its own bytes, or a
// run of zero bytes, does not produce a CRC that checks by accident.
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
inline uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

// Which implementation Extend dispatches to: "sse4.2", "armv8-crc" or "portable".
const char* Implementation();
// The portable version, always available; tests compare it with the dispatched one.
uint32_t ExtendPortable(uint32_t crc, const uint8_t* data, size_t n);

}  // namespace causeway::crc32c
