// The byte layouts shared with TypeScript: the request buffer, the batch item
// descriptor, the receipt and the read record. Documented in FORMAT.md
// ("Boundary"); the TypeScript copies are Req, Item, Rcpt and Rec in
// src/native, and test/boundary-layouts.test.ts checks them against the
// `layouts` object the addon exports (js_convert.cc, LayoutsToJs).
// All integers are little-endian.
#pragma once

#include <cstddef>
#include <cstdint>

#include "store.h"

namespace causeway::js {

// Request buffer of a single append (TypeScript writes, native reads). The
// payload travels as its own argument; the idempotency key sits inline.
namespace req {
constexpr size_t kEntity = 0, kScope = 4, kKind = 8, kFlags = 10, kExpected = 12, kCorrelation = 16,
                 kCausation = 32, kKeyLen = 48, kKey = 52;
constexpr size_t kMaxKey = 1024;  // key bytes the buffer holds; a longer key length is cut to this
constexpr size_t kExtLen = kKey + kMaxKey, kExt = kExtLen + 4;
constexpr size_t kMaxExt = 4144;  // kMaxExtensionBytes rounded up to 8; a longer length is cut to this
constexpr size_t kSize = kExt + kMaxExt;
// Flag bits, of the request's flag byte and of a batch item's.
constexpr uint8_t kHasExpected = 1, kHasKey = 2, kHasCorrelation = 4, kHasCausation = 8, kPriorItem = 16,
                  kHasExtension = 32;
}  // namespace req

// Receipt (native writes), kSize bytes per receipt.
namespace rcpt {
constexpr size_t kSequence = 0, kClock = 8, kFlags = 12, kTimestamp = 16, kEventId = 24, kCorrelation = 40,
                 kCausation = 56, kContentHash = 72, kPrevHash = 104, kSize = 136;
constexpr uint8_t kDurable = 1, kDeduplicated = 2, kHasCausation = 4;
}  // namespace rcpt

// Batch item descriptor, kSize bytes per item; the payload and key bytes live
// in a second buffer at the offsets given. The flag byte uses req's bits.
namespace item {
constexpr size_t kEntity = 0, kScope = 4, kKind = 8, kFlags = 10, kExpected = 12, kPriorItem = 16,
                 kPayloadOffset = 20, kPayloadLen = 24, kKeyOffset = 28, kKeyLen = 32, kCorrelation = 40,
                 kCausation = 56, kExtOffset = 72, kExtLen = 76, kSize = 80;
}  // namespace item

// Read record (native writes): a prefix, then the frame as on disk, padded
// to 8. The span is the prefix plus the padded frame; bytes 12..16 are zero.
namespace rec {
constexpr size_t kSpan = 0, kEntity = 4, kScope = 8, kPrefix = 16;
}  // namespace rec

// Where the fields the two append layouts share sit in each, for the one
// decoder (DecodeFields in js_convert.cc).
struct RequestFields {
  static constexpr size_t kEntity = req::kEntity, kScope = req::kScope, kKind = req::kKind, kFlags = req::kFlags,
                          kExpected = req::kExpected, kCorrelation = req::kCorrelation, kCausation = req::kCausation;
  static constexpr bool kHasPriorItem = false;  // a single append has no earlier item
  static constexpr size_t kPriorItem = 0;
};
struct ItemFields {
  static constexpr size_t kEntity = item::kEntity, kScope = item::kScope, kKind = item::kKind, kFlags = item::kFlags,
                          kExpected = item::kExpected, kCorrelation = item::kCorrelation, kCausation = item::kCausation;
  static constexpr bool kHasPriorItem = true;
  static constexpr size_t kPriorItem = item::kPriorItem;
};

// Each field ends before the next begins, and each layout ends where its last field does.
static_assert(req::kEntity + 4 <= req::kScope && req::kScope + 4 <= req::kKind && req::kKind + 2 <= req::kFlags &&
              req::kFlags + 1 <= req::kExpected && req::kExpected + 4 <= req::kCorrelation &&
              req::kCorrelation + 16 <= req::kCausation && req::kCausation + 16 <= req::kKeyLen &&
              req::kKeyLen + 4 == req::kKey && req::kKey + req::kMaxKey == req::kExtLen &&
              req::kExtLen + 4 == req::kExt && req::kExt + req::kMaxExt == req::kSize,
              "request buffer fields overlap or leave the buffer");
static_assert(req::kMaxExt >= kMaxExtensionBytes, "the request buffer holds the largest extension block");
static_assert(req::kSize == 1080 + 4144, "the request buffer's size is part of the TypeScript contract");
static_assert(rcpt::kSequence + 8 <= rcpt::kClock && rcpt::kClock + 4 <= rcpt::kFlags &&
              rcpt::kFlags + 1 <= rcpt::kTimestamp && rcpt::kTimestamp + 8 <= rcpt::kEventId &&
              rcpt::kEventId + 16 <= rcpt::kCorrelation && rcpt::kCorrelation + 16 <= rcpt::kCausation &&
              rcpt::kCausation + 16 <= rcpt::kContentHash && rcpt::kContentHash + 32 <= rcpt::kPrevHash &&
              rcpt::kPrevHash + 32 == rcpt::kSize,
              "receipt fields overlap or leave the receipt");
static_assert(item::kEntity + 4 <= item::kScope && item::kScope + 4 <= item::kKind && item::kKind + 2 <= item::kFlags &&
              item::kFlags + 1 <= item::kExpected && item::kExpected + 4 <= item::kPriorItem &&
              item::kPriorItem + 4 <= item::kPayloadOffset && item::kPayloadOffset + 4 <= item::kPayloadLen &&
              item::kPayloadLen + 4 <= item::kKeyOffset && item::kKeyOffset + 4 <= item::kKeyLen &&
              item::kKeyLen + 4 <= item::kCorrelation && item::kCorrelation + 16 <= item::kCausation &&
              item::kCausation + 16 <= item::kExtOffset && item::kExtOffset + 4 <= item::kExtLen &&
              item::kExtLen + 4 == item::kSize,
              "batch item fields overlap or leave the descriptor");
static_assert(rec::kSpan + 4 <= rec::kEntity && rec::kEntity + 4 <= rec::kScope && rec::kScope + 4 <= rec::kPrefix,
              "read record prefix fields overlap");
// Receipts and items are packed back to back; 8-byte fields stay aligned.
static_assert(rcpt::kSize % 8 == 0 && rcpt::kTimestamp % 8 == 0 && item::kSize % 8 == 0 && rec::kPrefix % 8 == 0,
              "receipts, items and records keep 8-byte alignment");
// The record prefix is the one the core writes (store.h).
static_assert(rec::kPrefix == kRecordPrefix, "read record prefix differs from the core's kRecordPrefix");
// Flag bits are distinct single bits.
static_assert((req::kHasExpected | req::kHasKey | req::kHasCorrelation | req::kHasCausation | req::kPriorItem |
               req::kHasExtension) == 63,
              "request flag bits overlap");
static_assert((rcpt::kDurable | rcpt::kDeduplicated | rcpt::kHasCausation) == 7, "receipt flag bits overlap");
// The byte fields match the core's structs.
static_assert(sizeof(Receipt::event_id) == 16 && sizeof(Receipt::correlation_id) == 16 &&
                  sizeof(Receipt::causation_id) == 16 && sizeof(Receipt::content_hash) == 32 &&
                  sizeof(Receipt::prev_hash) == 32,
              "receipt byte fields differ from the core's Receipt");

}  // namespace causeway::js
