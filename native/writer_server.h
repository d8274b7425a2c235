// The writer's side of the writer link: it listens on "<dir>/writer.sock" (a
// named pipe on Windows), serves each client connection on its own thread
// (their appends meet in the store's combiner and share its group commits),
// and tells watching clients the next sequence after every publish. See
// PROTOCOL.md.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cond_var.h"
#include "status.h"
#include "store.h"

namespace causeway {

class WriterServer {
 public:
  static Status Start(Store* store, std::unique_ptr<WriterServer>* out);
  ~WriterServer() { Stop(); }
  // Closes the listener and every connection; joins every thread. A request
  // being applied finishes first (its client may not get the reply).
  void Stop();
  uint64_t clients() const { return clients_.load(std::memory_order_relaxed); }

 private:
  explicit WriterServer(Store* store) : store_(store) {}
  struct Conn {
    int fd;
    std::thread thread;
    std::atomic<bool> done{false};
  };
  // Wakes the notifier: for a publish (`durable` false), or for an advance
  // of the durable sequence, which does not cut its pause after a note short.
  class Wake : public Listener {
   public:
    Wake(WriterServer* s, bool durable) : s_(s), durable_(durable) {}
    void Notify() override;
   private:
    WriterServer* s_;
    bool durable_;
  };
  void AcceptLoop();
  void Serve(Conn* c);
  void ServeChannel(Conn* c);  // a connection whose requests come through a shared-memory channel
  void NotifyLoop();
  // One request's reply (the body, unframed).
  std::string Handle(const uint8_t* body, size_t n);
  void Reap(bool all);  // joins finished connection threads (all: every one)

  Store* store_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::thread acceptor_, notifier_;
  std::mutex mu_;                           // guards conns_, watchers_, pending_
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<int> watchers_;               // connections that asked for notifications
  CondVar cv_;                              // with mu_: pending_ or stopping_ (cond_var.h: no glibc 2.34 waits)
  bool pending_ = false;                    // a publish since the notifier last looked
  bool pausing_ = false;                    // the notifier waits out its pause after a note
  // Relaxed: whether watchers_ is non-empty, read by Wake::Notify without mu_
  // (a watcher's arrival sets pending_ itself, so a notify it misses loses nothing).
  std::atomic<bool> watched_{false};
  std::atomic<uint64_t> clients_{0};
  Wake wake_listener_{this, false};
  Wake durable_listener_{this, true};
};

}  // namespace causeway
