// A shared-memory request slot beside a writer-link connection: the client
// writes its request into a region both processes map and flips a state
// word; the writer's connection thread, spinning on that word, applies it
// and writes the reply back the same way. While both sides are busy no
// system call is made; a side that has slept long enough to sleep asks for
// a doorbell byte on the connection's socket, which also tells either side
// that the other went away. The region is an unnamed memfd (a shm object
// unlinked at once where there is no memfd) passed with SCM_RIGHTS, so
// nothing of it is left on disk. POSIX only; Create fails on Windows and
// the link falls back to messages on the socket. See PROTOCOL.md.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "spin_policy.h"
#include "status.h"

namespace causeway::link {

class Channel {
 public:
  // Room for one request and one reply (the pages are touched only as used).
  static constexpr size_t kRequestCapacity = size_t(4) << 20;
  static constexpr size_t kReplyCapacity = size_t(4) << 20;
  // Whether a request of `bytes` whose reply holds `receipts` receipts fits.
  static bool Fits(size_t bytes, size_t receipts);

  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Client: a new region; *fd is its descriptor, for SendFd (then closed).
  static Status Create(Channel** out, int* fd);
  // Writer: maps the region a client passed. Takes ownership of fd.
  static Status Attach(int fd, Channel** out);

  // Client. Puts `request` in the slot and waits for the reply, spinning
  // for spin_us first. kClosed: the writer never took the request (it went
  // away or is closing): nothing of it was applied. WriterUnavailable: no
  // reply within timeout_ms, or the writer died after taking it (outcome
  // unknown). After either, the channel is spent: drop it.
  // While it spins, it runs `while_waiting` (when set) every few microseconds.
  Status Call(int sock, const std::string& request, int timeout_ms, int spin_us, std::string* reply,
              const std::function<void()>& while_waiting = {});

  // Writer. Waits for the next request and takes it (copied into *request,
  // so the client cannot change it while it is decoded). NotFound("closed")
  // when the client closed the connection or `stopping` became true (a
  // ShutdownRead on the socket wakes the wait). `may_part`: it may move off
  // the client's CPU while it spins (spin_policy.h).
  Status Take(int sock, int spin_us, const std::atomic<bool>& stopping, std::string* request, bool may_part = true);
  // Writer: answers the request taken last. InvalidArgument if the reply
  // does not fit (Fits keeps clients from asking for one that would not).
  Status Reply(int sock, const std::string& reply);

 private:
  struct Header;
  Channel(int fd, void* base);
  Header* header() const;
  uint8_t* request_area() const;
  uint8_t* reply_area() const;
  // At a yield point while spinning: spin_policy.h says what and why.
  void YieldCpu(std::atomic<uint32_t>& mine, const std::atomic<uint32_t>& other, bool may_part);

  int fd_;
  void* base_;
  SpinPolicy spin_;  // this side's own (each process has its own Channel)
};

// Sends one descriptor over a Unix socket (SCM_RIGHTS, with one byte), and
// receives it on the other side within timeout_ms.
Status SendFd(int sock, int fd, int timeout_ms);
Status RecvFd(int sock, int timeout_ms, int* fd);

}  // namespace causeway::link
