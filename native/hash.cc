#include "hash.h"

extern "C" {
#include "blake3.h"
}

namespace causeway {

void Blake3(const uint8_t* data, size_t n, uint8_t* out) { Blake3Prefix(data, n, out, kHashSize); }

void Blake3Prefix(const uint8_t* data, size_t n, uint8_t* out, size_t out_len) {
  blake3_hasher h;
  blake3_hasher_init(&h);
  blake3_hasher_update(&h, data, n);
  blake3_hasher_finalize(&h, out, out_len);
}

}  // namespace causeway
