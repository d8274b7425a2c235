// Conversions between JavaScript values and the core's types, in one place:
// arguments and options in, appends decoded from the shared buffers,
// receipts written back, reports and records turned into JS values. Nothing
// here calls the core.
#pragma once

#include <napi.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "compaction.h"
#include "js_layouts.h"
#include "store.h"

namespace causeway::js {

// ---- arguments and options ----

// A boolean argument, read without coercion (see js_convert.cc).
bool Flag(const Napi::Value& v);
// `o[key]` when it is a number, else `dflt`.
double NumberOr(Napi::Object o, const char* key, double dflt);
// A Uint8Array (or other typed array) of exactly 16 bytes: an event or correlation id.
bool Id16(const Napi::Value& v);
// The options object of `new NativeStore(options)` (NativeStoreOptions in src/native).
Status ParseOpenOptions(const Napi::Value& v, StoreOptions* opts);
// A filter object (NativeFilter in src/native).
RegionFilter ParseFilter(Napi::Object o);
// compact(strategy, upToId, minSegments, rejected: Float64Array of sequences).
Status ParseCompactionPlan(const Napi::CallbackInfo& info, CompactionPlan* plan);

// ---- appends: the request buffer and batch items in, receipts out ----

// The `n` items of a batch: descriptors `desc` (item:: layout), their payload
// and key bytes in `bytes`. InvalidArgument when an item points outside `bytes`.
Status DecodeItems(const uint8_t* desc, size_t n, const uint8_t* bytes, size_t bytes_len, AppendRequest* items);

// Inline below, as they were in the append methods, so each append compiles as before:
// the append in the request buffer `q` (req:: layout), with its payload;
inline AppendRequest DecodeRequest(const uint8_t* q, const uint8_t* payload, size_t payload_len);
// one receipt in the rcpt:: layout at `out`;
inline void WriteReceipt(const Receipt& r, uint8_t* out);
// a single append's receipt, into the slot of the receipt arena `slot` names
// (a byte offset; the first slot when it is no number or does not fit);
inline void WriteReceiptAt(const Receipt& r, uint8_t* arena, size_t arena_len, const Napi::Value& slot);
// a batch's `n` receipts, back to back from `out`.
inline void WriteReceipts(const Receipt* r, size_t n, uint8_t* out);

// ---- results to JS ----

Napi::Number Number(Napi::Env env, double v);
Napi::Object SealedInfoToJs(Napi::Env env, uint64_t segments, uint64_t last_id, uint64_t from, uint64_t to);
Napi::Object CompactionReportToJs(Napi::Env env, const CompactionReport& r);
Napi::Object SnapshotReportToJs(Napi::Env env, const SnapshotReport& r);
Napi::Object StatsToJs(Napi::Env env, const StoreStats& st);
Napi::Object MetricsToJs(Napi::Env env, const MetricsReport& m);
Napi::Array SegmentsToJs(Napi::Env env, const std::vector<SegmentInfo>& segs);
Napi::Array DamagedToJs(Napi::Env env, const std::vector<Store::Damaged>& damaged);
// The layouts of js_layouts.h, keyed as src/native's Req, Rcpt, Item and Rec:
// { request, receipt, item, record }.
Napi::Object LayoutsToJs(Napi::Env env);

// Read records (FORMAT.md, "Read records") into one Node Buffer: hand
// alloc() to the core, then take Value().
class RecordsOut {
 public:
  explicit RecordsOut(Napi::Env env);
  RecordsOut(const RecordsOut&) = delete;
  RecordsOut& operator=(const RecordsOut&) = delete;
  const Allocator& alloc() const { return alloc_; }
  // The buffer the core filled; an empty one when it asked for none.
  Napi::Value Value() const;

 private:
  Napi::Env env_;
  Napi::Buffer<uint8_t> buf_;
  Allocator alloc_;
};

// ---- the inline append conversions ----

// The one append-field decoder: the fields at `d`, laid out as `L` says
// (RequestFields or ItemFields, js_layouts.h); the caller locates the payload
// and key bytes. A template, so each layout's offsets compile to constants.
template <class L>
inline void DecodeFields(const uint8_t* d, const uint8_t* payload, uint32_t payload_len, const uint8_t* key,
                         uint32_t key_len, const uint8_t* ext, uint32_t ext_len, AppendRequest* r) {
  const uint8_t flags = d[L::kFlags];
  r->entity = LoadLE<uint32_t>(d + L::kEntity);
  r->scope = LoadLE<uint32_t>(d + L::kScope);
  r->kind = LoadLE<uint16_t>(d + L::kKind);
  r->payload = payload;
  r->payload_len = payload_len;
  r->has_expected = flags & req::kHasExpected;
  r->expected_clock = LoadLE<uint32_t>(d + L::kExpected);
  if (flags & req::kHasKey) {
    r->idempotency_key = key;
    r->idempotency_key_len = key_len;
  }
  if (flags & req::kHasCorrelation) r->correlation_id = d + L::kCorrelation;
  if (flags & req::kHasCausation) r->causation_id = d + L::kCausation;
  if (flags & req::kHasExtension) {
    // Checked whole by the core (CheckExtension); a length past the largest block fails there.
    r->extension = ext;
    r->ext_len = static_cast<uint16_t>(std::min<uint32_t>(ext_len, 0xffff));
  }
  if constexpr (L::kHasPriorItem) {
    if (flags & req::kPriorItem) r->causation_prior_item = LoadLE<int32_t>(d + L::kPriorItem);
  }
}

inline AppendRequest DecodeRequest(const uint8_t* q, const uint8_t* payload, size_t payload_len) {
  AppendRequest r;
  const uint32_t key_len = std::min<uint32_t>(LoadLE<uint32_t>(q + req::kKeyLen), req::kMaxKey);
  const uint32_t ext_len = std::min<uint32_t>(LoadLE<uint32_t>(q + req::kExtLen), req::kMaxExt);
  DecodeFields<RequestFields>(q, payload, static_cast<uint32_t>(payload_len), q + req::kKey, key_len, q + req::kExt,
                              ext_len, &r);
  return r;
}

inline void WriteReceipt(const Receipt& r, uint8_t* out) {
  StoreLE<uint64_t>(out + rcpt::kSequence, r.sequence);
  StoreLE<uint32_t>(out + rcpt::kClock, r.clock);
  out[rcpt::kFlags] = static_cast<uint8_t>((r.durable ? rcpt::kDurable : 0) |
                                           (r.deduplicated ? rcpt::kDeduplicated : 0) |
                                           (r.has_causation ? rcpt::kHasCausation : 0));
  StoreLE<int64_t>(out + rcpt::kTimestamp, r.timestamp_us);
  std::memcpy(out + rcpt::kEventId, r.event_id, 16);
  std::memcpy(out + rcpt::kCorrelation, r.correlation_id, 16);
  std::memcpy(out + rcpt::kCausation, r.causation_id, 16);
  std::memcpy(out + rcpt::kContentHash, r.content_hash, 32);
  std::memcpy(out + rcpt::kPrevHash, r.prev_hash, 32);
}

inline void WriteReceiptAt(const Receipt& r, uint8_t* arena, size_t arena_len, const Napi::Value& slot) {
  size_t at = slot.IsNumber() ? slot.As<Napi::Number>().Uint32Value() : 0;
  if (at + rcpt::kSize > arena_len) at = 0;
  WriteReceipt(r, arena + at);
}

inline void WriteReceipts(const Receipt* r, size_t n, uint8_t* out) {
  for (size_t i = 0; i < n; i++) WriteReceipt(r[i], out + i * rcpt::kSize);
}

}  // namespace causeway::js
