// The writer link's messages (PROTOCOL.md, "Writer link"): how a client
// process's writes reach the writer and their results come back. Pure
// encode and decode, no I/O; the decoder takes any bytes (it is fuzzed:
// native/fuzz/link_fuzz.cc) and never reads outside them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compaction.h"
#include "index.h"
#include "status.h"
#include "store.h"

namespace causeway::link {

constexpr uint32_t kMagic = 0x314c5743;  // "CWL1"
// 2: watch notes carry the writer's durable sequence (16 bytes, was 8);
// the hello's last byte is a mode (requests, watch, shared-memory channel).
constexpr uint32_t kVersion = 3;  // 3: event extension blocks, DCB query conditions
// The largest message either side accepts: a length prefix above it ends the connection.
constexpr uint32_t kMaxMessage = 512u << 20;
constexpr uint32_t kMaxItems = 1u << 20;

enum class Op : uint8_t { kHello = 1, kAppend = 2, kSync = 3, kCompact = 4 };
// What a connection is for, said in its hello: requests as messages on the
// socket, notes only (watch), or requests through a shared-memory channel
// (link_channel.h) whose descriptor follows the hello's reply.
enum class HelloMode : uint8_t { kRequests = 0, kWatch = 1, kChannel = 2 };

// One decoded append item; the byte fields point into the request buffer.
struct WireItem {
  std::string entity, scope;
  AppendRequest req;  // entity/scope ids unset; pointers into the buffer
  uint8_t correlation[16], causation[16];
};

struct AppendMessage {
  bool durable = false;
  bool has_condition = false;
  RegionFilter condition;
  std::vector<WireItem> items;
};

// ---- requests (client → writer). Each returns the body; Frame adds the length.
std::string EncodeHello(HelloMode mode);
// `names` gives each item's entity and scope names (the client's ids mean nothing to the writer).
std::string EncodeAppend(const AppendRequest* items, size_t n, const std::vector<std::string>& entities,
                         const std::vector<std::string>& scopes, const AppendCondition* condition, bool durable);
std::string EncodeSync();
std::string EncodeCompact(const CompactionPlan& plan);
// Prefixes the 4-byte length.
std::string Frame(const std::string& body);

// ---- decoding a request (writer side). InvalidArgument names what is wrong.
Status DecodeOp(const uint8_t* p, size_t n, Op* op);
Status DecodeHello(const uint8_t* p, size_t n, HelloMode* mode);
// The items' pointers stay valid while [p, p+n) does.
Status DecodeAppend(const uint8_t* p, size_t n, AppendMessage* out);
Status DecodeCompact(const uint8_t* p, size_t n, CompactionPlan* out);

// ---- watch notes (writer → client on a watch connection): fixed 16 bytes,
// no length prefix: u64 next sequence, u64 durable sequence.
constexpr size_t kNoteSize = 16;
std::string EncodeNote(uint64_t next_sequence, uint64_t durable_sequence);
// Reads notes from a byte stream that may split them anywhere. Feed returns
// true when the bytes completed at least one note, the newest one in *next
// and *durable (older ones say less, and only the newest matters).
class NoteReader {
 public:
  bool Feed(const uint8_t* p, size_t n, uint64_t* next, uint64_t* durable);
  void Reset() { have_ = 0; }

 private:
  uint8_t part_[kNoteSize];
  size_t have_ = 0;
};

// ---- replies (writer → client): a status, then what the op returns.
std::string EncodeStatusReply(const Status& s);
std::string EncodeAppendReply(const Status& s, const Receipt* receipts, size_t n, const AppendError& error);
std::string EncodeCompactReply(const Status& s, const CompactionReport& report);
// A sync's reply: the status, then (ok only) the writer's durable sequence after it.
std::string EncodeSyncReply(const Status& s, uint64_t durable_sequence);
// *remote: the status the writer returned (the call itself may still have
// failed: the return value says whether the reply parsed).
Status DecodeStatusReply(const uint8_t* p, size_t n, Status* remote);
Status DecodeAppendReply(const uint8_t* p, size_t n, Status* remote, Receipt* receipts, size_t expect,
                         AppendError* error);
Status DecodeCompactReply(const uint8_t* p, size_t n, Status* remote, CompactionReport* report);
Status DecodeSyncReply(const uint8_t* p, size_t n, Status* remote, uint64_t* durable_sequence);

}  // namespace causeway::link
