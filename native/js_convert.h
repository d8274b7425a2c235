// Conversions between JavaScript values and the core's types, in one place:
// arguments and options in, appends decoded from the shared buffers,
// receipts written back, reports and records turned into JS values. Nothing
// here calls the core.
#pragma once

#include <napi.h>

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

// The append in the request buffer `q` (req:: layout), with its payload.
AppendRequest DecodeRequest(const uint8_t* q, const uint8_t* payload, size_t payload_len);
// The `n` items of a batch: descriptors `desc` (item:: layout), their payload
// and key bytes in `bytes`. InvalidArgument when an item points outside `bytes`.
Status DecodeItems(const uint8_t* desc, size_t n, const uint8_t* bytes, size_t bytes_len, AppendRequest* items);
// One receipt in the rcpt:: layout at `out`.
void WriteReceipt(const Receipt& r, uint8_t* out);
// A single append's receipt, into the slot of the receipt arena `slot` names
// (a byte offset; the first slot when it is no number or does not fit).
void WriteReceiptAt(const Receipt& r, uint8_t* arena, size_t arena_len, const Napi::Value& slot);
// A batch's `n` receipts, back to back from `out`.
void WriteReceipts(const Receipt* r, size_t n, uint8_t* out);

// ---- results to JS ----

Napi::Number Number(Napi::Env env, double v);
Napi::Object SealedInfoToJs(Napi::Env env, uint64_t segments, uint64_t last_id, uint64_t from, uint64_t to);
Napi::Object CompactionReportToJs(Napi::Env env, const CompactionReport& r);
Napi::Object SnapshotReportToJs(Napi::Env env, const SnapshotReport& r);
Napi::Object StatsToJs(Napi::Env env, const StoreStats& st);
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

}  // namespace causeway::js
