// The client's side of the writer link: pooled request connections (one
// per calling thread at a time, so calls from several threads reach the
// writer together) and a watch connection whose notes wake this process's
// readers. When the watch connection breaks, the writer is gone: the
// monitor tries to take the role (Store::TryPromote) and otherwise waits
// for whichever process did. A watch-only link (a read-only store) has just
// the watch connection and never takes the role: it waits for the next
// writer and watches that one. See PROTOCOL.md.
#pragma once

#include <atomic>
#include <memory>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "link_channel.h"
#include "link_wire.h"
#include "status.h"

namespace causeway {

class Store;

class WriterLink {
 public:
  explicit WriterLink(Store* store, bool watch_only = false);
  ~WriterLink() { Stop(); }
  void Start();
  void Stop();  // joins the monitor; closes every connection

  // Sends one request (its body, unframed) and returns the reply's body.
  // `receipts`: how many receipts the reply holds (the shared-memory channel
  // takes a request only if its reply fits); `slow`: a durable append, a
  // sync or a compaction, whose reply is not worth spinning for. Waits (up
  // to the store's writer_timeout_ms) for a writer to connect to.
  // WriterUnavailable when none answers in time, or when the connection
  // broke after the writer took the request (it may have been applied:
  // retry with the idempotency key). NotFound when this process became the
  // writer meanwhile.
  Status Call(const std::string& body, size_t receipts, bool slow, std::string* reply);

 private:
  // A request connection: messages on the socket, or a channel beside it.
  struct Conn {
    int fd = -1;
    std::unique_ptr<link::Channel> channel;
  };
  Status Dial(link::HelloMode mode, Conn* conn);
  Status Hello(int fd, link::HelloMode mode);
  static void Drop(Conn* conn);
  void MonitorLoop();
  bool Sleep(int ms);  // false when stopping

  Store* store_;
  const bool watch_only_;
  std::atomic<bool> stopping_{false};
  int wake_[2] = {-1, -1};
  std::thread monitor_;
  std::mutex pool_mu_;
  std::vector<Conn> idle_;          // GUARDED_BY(pool_mu_): connections with a channel
  std::vector<Conn> idle_plain_;    // GUARDED_BY(pool_mu_): connections without (large requests)
  std::atomic<bool> channels_{true};  // false once a writer could not take a channel
};

}  // namespace causeway
