// BLAKE3 over the official C implementation (from the npm package
// @c4312/blake3-native, built with its own SIMD runtime dispatch).
#pragma once

#include <cstddef>
#include <cstdint>

namespace causeway {

constexpr size_t kHashSize = 32;

// out[0, 32) = BLAKE3(data[0, n)).
void Blake3(const uint8_t* data, size_t n, uint8_t* out);
// out[0, out_len) = the first out_len bytes of BLAKE3's extendable output.
void Blake3Prefix(const uint8_t* data, size_t n, uint8_t* out, size_t out_len);

}  // namespace causeway
