// Reads one number out of a MessagePack value without decoding the rest:
// the walk follows a path of map keys and skips every other key and value
// in place. Used by store aggregations over stored payloads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace causeway {

// Deepest value a path may name, and deepest nesting the skipper follows
// (a payload nested deeper is treated as having no such field).
constexpr size_t kMaxFieldPathDepth = 32;
constexpr int kMaxSkipDepth = 256;

// True, with *out set, when `path` names a number in the MessagePack value
// of n bytes at p: each step a key of a map (string keys compared byte for
// byte; the last of repeated keys wins, as a decoder would keep it), the
// value at the end an integer (any width, signed or not) or a float (32 or
// 64 bits). False for anything else: a missing key, a non-map on the way,
// a string, boolean, nil, array, binary or extension value, or bytes that
// are not well-formed MessagePack.
bool MsgpackNumberAt(const uint8_t* p, size_t n, const std::vector<std::string>& path, double* out);

}  // namespace causeway
