// The walk behind MsgpackNumberAt. Every read is bounds-checked: a payload
// is bytes from disk (CRC-checked, but written by any client), so a length
// that runs past the end makes the field absent, never a read past it.
#include "msgpack_field.h"

#include <cstring>

namespace causeway {
namespace {

uint64_t BigEndian(const uint8_t* p, size_t width) {
  uint64_t v = 0;
  for (size_t i = 0; i < width; i++) v = (v << 8) | p[i];
  return v;
}

class Walker {
 public:
  Walker(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}

  // Reads a map header: *count pairs follow.
  bool MapHeader(uint32_t* count) {
    if (p_ >= end_) return false;
    const uint8_t b = *p_;
    if ((b & 0xf0) == 0x80) {
      p_++;
      *count = b & 0x0f;
      return true;
    }
    if (b == 0xde || b == 0xdf) return Length(b == 0xde ? 2 : 4, count);
    return false;
  }

  // Reads a string key: false (and nothing consumed) when the next value is not a string.
  bool Key(const uint8_t** s, uint32_t* len) {
    if (p_ >= end_) return false;
    const uint8_t b = *p_;
    if ((b & 0xe0) == 0xa0) {
      p_++;
      *len = b & 0x1f;
    } else if (b == 0xd9 || b == 0xda || b == 0xdb) {
      if (!Length(b == 0xd9 ? 1 : b == 0xda ? 2 : 4, len)) return false;
    } else {
      return false;
    }
    if (size_t(end_ - p_) < *len) return false;
    *s = p_;
    p_ += *len;
    return true;
  }

  // Reads a number: false when the next value is any other type.
  bool Number(double* out) {
    if (p_ >= end_) return false;
    const uint8_t b = *p_;
    if (b <= 0x7f) return *out = b, true;
    if (b >= 0xe0) return *out = int8_t(b), true;
    size_t width = 0;
    switch (b) {
      case 0xcc: case 0xd0: width = 1; break;
      case 0xcd: case 0xd1: width = 2; break;
      case 0xce: case 0xd2: case 0xca: width = 4; break;
      case 0xcf: case 0xd3: case 0xcb: width = 8; break;
      default: return false;
    }
    if (size_t(end_ - p_) < 1 + width) return false;
    const uint64_t raw = BigEndian(p_ + 1, width);
    if (b == 0xca) {
      float f;
      const uint32_t u = uint32_t(raw);
      std::memcpy(&f, &u, 4);
      *out = f;
    } else if (b == 0xcb) {
      std::memcpy(out, &raw, 8);
    } else if (b >= 0xd0) {
      // Sign-extend from the width read.
      const int shift = int(64 - 8 * width);
      *out = double(int64_t(raw << shift) >> shift);
    } else {
      *out = double(raw);
    }
    p_ += 1 + width;
    return true;
  }

  // Steps over one whole value of any type.
  bool Skip(int depth) {
    if (depth > kMaxSkipDepth || p_ >= end_) return false;
    const uint8_t b = *p_;
    uint32_t n = 0;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) return Advance(1);
    if ((b & 0xe0) == 0xa0) return Advance(1 + (b & 0x1f));
    if ((b & 0xf0) == 0x90) return p_++, Items(b & 0x0f, depth);
    if ((b & 0xf0) == 0x80) return p_++, Items(2 * uint64_t(b & 0x0f), depth);
    switch (b) {
      case 0xcc: case 0xd0: return Advance(2);
      case 0xcd: case 0xd1: return Advance(3);
      case 0xce: case 0xd2: case 0xca: return Advance(5);
      case 0xcf: case 0xd3: case 0xcb: return Advance(9);
      case 0xd4: return Advance(3);   // fixext 1
      case 0xd5: return Advance(4);   // fixext 2
      case 0xd6: return Advance(6);   // fixext 4
      case 0xd7: return Advance(10);  // fixext 8
      case 0xd8: return Advance(18);  // fixext 16
      case 0xc4: case 0xd9: return Length(1, &n) && Advance(n);
      case 0xc5: case 0xda: return Length(2, &n) && Advance(n);
      case 0xc6: case 0xdb: return Length(4, &n) && Advance(n);
      case 0xc7: return Length(1, &n) && Advance(uint64_t(n) + 1);  // ext: type byte then data
      case 0xc8: return Length(2, &n) && Advance(uint64_t(n) + 1);
      case 0xc9: return Length(4, &n) && Advance(uint64_t(n) + 1);
      case 0xdc: return Length(2, &n) && Items(n, depth);
      case 0xdd: return Length(4, &n) && Items(n, depth);
      case 0xde: return Length(2, &n) && Items(2 * uint64_t(n), depth);
      case 0xdf: return Length(4, &n) && Items(2 * uint64_t(n), depth);
      default: return false;  // 0xc1: never used
    }
  }

  const uint8_t* pos() const { return p_; }
  void Seek(const uint8_t* p) { p_ = p; }

 private:
  // Consumes the marker byte and a big-endian length of `width` bytes.
  bool Length(size_t width, uint32_t* n) {
    if (size_t(end_ - p_) < 1 + width) return false;
    *n = uint32_t(BigEndian(p_ + 1, width));
    p_ += 1 + width;
    return true;
  }
  bool Advance(uint64_t n) {
    if (uint64_t(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }
  bool Items(uint64_t n, int depth) {
    // Each item takes at least one byte: a count past the bytes left is malformed.
    if (n > uint64_t(end_ - p_)) return false;
    for (uint64_t i = 0; i < n; i++)
      if (!Skip(depth + 1)) return false;
    return true;
  }

  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace

bool MsgpackNumberAt(const uint8_t* p, size_t n, const std::vector<std::string>& path, double* out) {
  if (path.empty() || path.size() > kMaxFieldPathDepth) return false;
  Walker w(p, n);
  for (const std::string& step : path) {
    uint32_t pairs = 0;
    if (!w.MapHeader(&pairs)) return false;
    const uint8_t* found = nullptr;
    for (uint32_t i = 0; i < pairs; i++) {
      const uint8_t* key = nullptr;
      uint32_t len = 0;
      if (w.Key(&key, &len)) {
        if (len == step.size() && std::memcmp(key, step.data(), len) == 0) found = w.pos();
      } else if (!w.Skip(0)) {
        return false;  // a non-string key: stepped over, unless malformed
      }
      if (!w.Skip(0)) return false;
    }
    if (!found) return false;
    w.Seek(found);
  }
  return w.Number(out);
}

}  // namespace causeway
