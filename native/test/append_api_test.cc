// The append API's contract with its callers: who waits for durability, and
// how a refusal's details come back.
#include <memory>
#include <string>
#include <vector>

#include "fixture.h"

namespace causeway::test {
namespace {

// The core owns a durable append's wait (the receipts say durable once it
// returns), and a refusal's details come back in AppendError, its final
// message in the Status.
TEST(DurableAppendUnsyncedOrRefusalDetailsLost) {
  TempDir d;
  std::unique_ptr<Store> s;
  CHECK_OK(Store::Open(Options(d.Sub("db")), &s));  // no background sync
  const std::string payload = "{}";
  AppendRequest req;
  CHECK_OK(s->InternEntity("acct:1", &req.entity));
  CHECK_OK(s->InternScope("bank", &req.scope));
  req.kind = 1;
  req.payload = U8(payload);
  req.payload_len = static_cast<uint32_t>(payload.size());
  Receipt r;
  CHECK_OK(s->Append(req, &r));
  CHECK(!r.durable);
  CHECK_OK(s->Append(req, &r, true));
  CHECK(r.durable);
  CHECK(s->DurableSequence() > r.sequence);
  std::vector<AppendRequest> two(2, req);
  std::vector<Receipt> rs(2);
  CHECK_OK(s->AppendBatch(two.data(), 2, rs.data(), nullptr, true));
  CHECK(rs[0].durable && rs[1].durable);
  CHECK(s->DurableSequence() > rs[1].sequence);
  // A mismatch: which item, its entity, both clocks; the message is final.
  two[1].has_expected = true;
  two[1].expected_clock = 3;  // item 0 moves acct:1 from clock 4 to 5
  AppendError err;
  Status st = s->AppendBatch(two.data(), 2, rs.data(), nullptr, true, &err);
  CHECK_EQ(st.code(), Status::Code::kSequenceMismatch);
  CHECK_EQ(err.item, 1u);
  CHECK(err.entity == "acct:1");
  CHECK_EQ(err.expected, 3u);
  CHECK_EQ(err.actual, 5u);
  CHECK(st.message() == "expected acct:1 to be at clock 3 but it is at 5");
  // A condition that matches: the sequence of the first event matching it.
  AppendCondition cond;
  cond.filter.has_entity = true;
  cond.filter.exact_entity = true;
  cond.filter.entity = "acct:1";
  cond.filter.after_sequence = 2;
  AppendError cerr;
  CHECK_CODE(s->AppendBatch(&req, 1, &r, &cond, false, &cerr), Status::Code::kConditionFailed);
  CHECK_EQ(cerr.conflict_sequence, uint64_t(2));
  StoreStats stats;
  CHECK_OK(s->Stats(&stats));
  CHECK_EQ(stats.events, uint64_t(4));
}

}  // namespace
}  // namespace causeway::test
