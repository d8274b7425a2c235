// Status: the result of every fallible core operation. The core never throws
// and never aborts on bad data; it returns one of these (LevelDB style).
#pragma once

#include <string>
#include <utility>

namespace causeway {

class Status {
 public:
  enum class Code : int {
    kOk = 0,
    kCorruption = 1,       // bytes on disk fail a check below the durable frontier
    kIoError = 2,          // a system call failed (errno in the message)
    kInvalidArgument = 3,  // caller passed something the store refuses
    kFull = 4,             // a size limit was reached (payload, batch, segment)
    kClosed = 5,           // the store was closed
    kLocked = 6,           // another writer holds the directory
    kPoisoned = 7,         // an earlier fsync failed; no write is accepted
    kSequenceMismatch = 8, // CAS: the entity's clock is not the expected one
    kNotFound = 9,
    kConditionFailed = 10,  // a conditional append found a matching event
    kClockOverflow = 11,    // an entity's clock is at its maximum (2^32 - 1)
    kNameTableFull = 12,    // the store names Index::kMaxNames entities (or scopes) already
    kOutOfMemory = 13,      // an allocation failed (a read's results; an append's poisons the store)
    kCancelled = 14,        // a long operation was asked to stop before its commit point; nothing changed
    kWriterUnavailable = 15,  // a client found no writer (or none answered in time); retry with an idempotency key
  };

  Status() = default;
  static Status OK() { return Status(); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status IoError(std::string msg) { return Status(Code::kIoError, std::move(msg)); }
  static Status InvalidArgument(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }
  static Status Full(std::string msg) { return Status(Code::kFull, std::move(msg)); }
  static Status Closed(std::string msg) { return Status(Code::kClosed, std::move(msg)); }
  static Status Locked(std::string msg) { return Status(Code::kLocked, std::move(msg)); }
  static Status Poisoned(std::string msg) { return Status(Code::kPoisoned, std::move(msg)); }
  static Status SequenceMismatch(std::string msg) { return Status(Code::kSequenceMismatch, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status ConditionFailed(std::string msg) { return Status(Code::kConditionFailed, std::move(msg)); }
  static Status ClockOverflow(std::string msg) { return Status(Code::kClockOverflow, std::move(msg)); }
  static Status NameTableFull(std::string msg) { return Status(Code::kNameTableFull, std::move(msg)); }
  static Status OutOfMemory(std::string msg) { return Status(Code::kOutOfMemory, std::move(msg)); }
  static Status Cancelled(std::string msg) { return Status(Code::kCancelled, std::move(msg)); }
  static Status WriterUnavailable(std::string msg) { return Status(Code::kWriterUnavailable, std::move(msg)); }
  // Rebuilds a status received from another process (the writer link).
  static Status FromCode(Code c, std::string msg) { return Status(c, std::move(msg)); }
  // An errno-carrying I/O error: "<what>: <strerror(err)>".
  static Status FromErrno(const std::string& what, int err);

  [[nodiscard]] bool ok() const { return code_ == Code::kOk; }
  [[nodiscard]] Code code() const { return code_; }
  [[nodiscard]] const std::string& message() const { return msg_; }
  [[nodiscard]] int sys_errno() const { return errno_; }

 private:
  Status(Code c, std::string m) : code_(c), msg_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string msg_;
  int errno_ = 0;
};

}  // namespace causeway

#define CW_RETURN_IF_ERROR(expr)            \
  do {                                      \
    ::causeway::Status _s = (expr);         \
    if (!_s.ok()) return _s;                \
  } while (0)
