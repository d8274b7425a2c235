// What an append takes and returns (store.h's Store::Append and
// AppendBatch, the combiner in append.cc, the writer link's messages).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "index.h"
#include "status.h"

namespace causeway {

// A condition on an append (seed 003's dynamic consistency boundary): the
// append goes through only if no event matching `filter` has a sequence at
// or after filter.after_sequence.
struct AppendCondition {
  RegionFilter filter;
};

// One event to append. Entity and scope are ids from InternEntity/InternScope.
struct AppendRequest {
  uint32_t entity = 0;
  uint32_t scope = 0;
  uint16_t kind = 0;
  const uint8_t* payload = nullptr;
  uint32_t payload_len = 0;
  bool has_expected = false;
  uint32_t expected_clock = 0;
  const uint8_t* idempotency_key = nullptr;  // the key's bytes, digested here
  uint32_t idempotency_key_len = 0;
  const uint8_t* correlation_id = nullptr;   // 16 bytes, or null: the event's own id
  const uint8_t* causation_id = nullptr;     // 16 bytes, or null: none
  int32_t causation_prior_item = -1;         // batches: causation = id of an earlier item
  const uint8_t* extension = nullptr;        // the frame's extension block (format.h), or null
  uint16_t ext_len = 0;
  // A replica's append (Store::AppendFrames): the source store's checked
  // frame, whose id, time, idempotency digest, sequence, clock and hashes
  // the new frame keeps (and must continue this log exactly); null otherwise.
  const FrameView* replica = nullptr;
};

// What an append returns, one per item.
struct Receipt {
  uint64_t sequence = 0;
  uint32_t clock = 0;
  int64_t timestamp_us = 0;
  uint8_t event_id[16] = {};
  uint8_t correlation_id[16] = {};
  uint8_t causation_id[16] = {};
  bool has_causation = false;
  uint8_t content_hash[32] = {};
  uint8_t prev_hash[32] = {};
  bool durable = false;
  bool deduplicated = false;
};

// Why an append was refused, beyond its Status (whose message is final).
// kSequenceMismatch: the batch item whose expectation failed, its entity,
// the clock it expected and the entity's actual one. kConditionFailed: the
// first matching event's sequence. Other codes leave it untouched.
struct AppendError {
  uint32_t item = 0;
  std::string entity;
  uint32_t expected = 0, actual = 0;
  uint64_t conflict_sequence = 0;
};

// ValidateItems' prev_item (and batch_last_): no earlier item of the entity in the batch.
constexpr uint32_t kNoPriorItem = UINT32_MAX;

// The item's frame carries an idempotency digest: from its key, or its source frame's.
inline bool HasDigest(const AppendRequest& r) {
  return r.idempotency_key != nullptr || (r.replica != nullptr && (r.replica->flags & kFlagIdempotent) != 0);
}

// One producer's request, queued in the append ring until a combiner applies it.
struct PendingAppend {
  const AppendRequest* items;
  size_t n;
  Receipt* out;
  const AppendCondition* condition;
  const uint8_t (*hashes)[32];  // BLAKE3 of each item's payload, computed by the producer
  AppendError* error;           // or null
  Status status;
  bool durable = false;  // a sync follows at once: the frames go through the file (Store::WritesThroughFile)
  std::atomic<bool> done{false};
};

}  // namespace causeway
