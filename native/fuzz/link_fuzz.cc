// libFuzzer target: the writer link's decoders (link_wire.h) on raw bytes,
// no I/O: what a client of the same user, or a broken one, may send the
// writer, and what a writer may answer. Invariants beyond "no crash, no UB":
//  - an accepted append's byte fields lie inside the input;
//  - encode(decode(x)) == x for every accepted append and compact request
//    (the decoder accepts exactly one reading of the bytes).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../link_wire.h"
#include "check.h"

using namespace causeway;

static bool Inside(const uint8_t* p, size_t n, const uint8_t* base, size_t size) {
  return n == 0 || (p >= base && p + n <= base + size);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A private copy, exactly `size` bytes, so ASan sees any read past the end.
  std::vector<uint8_t> buf(data, data + size);
  const uint8_t* p = buf.data();
  link::Op op;
  if (link::DecodeOp(p, size, &op).ok()) {
    link::HelloMode mode;
    (void)link::DecodeHello(p, size, &mode);
    link::AppendMessage m;
    if (op == link::Op::kAppend && link::DecodeAppend(p, size, &m).ok()) {
      std::vector<AppendRequest> reqs;
      std::vector<std::string> entities, scopes;
      for (const auto& it : m.items) {
        CHECK(Inside(it.req.payload, it.req.payload_len, p, size));
        CHECK(Inside(it.req.idempotency_key, it.req.idempotency_key_len, p, size));
        reqs.push_back(it.req);
        entities.push_back(it.entity);
        scopes.push_back(it.scope);
      }
      AppendCondition cond{m.condition};
      std::string again =
          link::EncodeAppend(reqs.data(), reqs.size(), entities, scopes, m.has_condition ? &cond : nullptr, m.durable);
      CHECK(again.size() == size && std::memcmp(again.data(), p, size) == 0);
    }
    CompactionPlan plan;
    if (op == link::Op::kCompact && link::DecodeCompact(p, size, &plan).ok()) {
      std::string again = link::EncodeCompact(plan);
      CHECK(again.size() == size && std::memcmp(again.data(), p, size) == 0);
    }
  }
  // The replies, as a client decodes them.
  Status remote;
  (void)link::DecodeStatusReply(p, size, &remote);
  uint64_t durable, next;
  (void)link::DecodeSyncReply(p, size, &remote, &durable);
  link::NoteReader notes;
  (void)notes.Feed(p, size, &next, &durable);
  std::vector<Receipt> receipts(4);
  AppendError err;
  (void)link::DecodeAppendReply(p, size, &remote, receipts.data(), receipts.size(), &err);
  CompactionReport report;
  (void)link::DecodeCompactReply(p, size, &remote, &report);
  return 0;
}
