// Little-endian byte writing and reading, for the checkpoint (checkpoint.cc,
// index_io.cc, index_load.cc, id_directory_io.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace causeway {

class ByteWriter {
 public:
  explicit ByteWriter(std::string* out) : out_(out) {}
  template <typename T>
  void Put(T v) {
    Bytes(&v, sizeof v);
  }
  void Bytes(const void* p, size_t n);

 private:
  std::string* out_;
};

class ByteReader {
 public:
  ByteReader(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
  template <typename T>
  [[nodiscard]] bool Get(T* v) {
    return Bytes(v, sizeof *v);
  }
  [[nodiscard]] bool Bytes(void* p, size_t n);
  bool done() const { return p_ == end_; }
  size_t left() const { return static_cast<size_t>(end_ - p_); }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace causeway
