#include "writer_server.h"

#include <algorithm>
#include <cstring>

#include "durations.h"
#include "link_channel.h"
#include "link_wire.h"
#include "local_socket.h"
#include "platform.h"

namespace causeway {

Status WriterServer::Start(Store* store, std::unique_ptr<WriterServer>* out) {
  std::unique_ptr<WriterServer> s(new WriterServer(store));
  CW_RETURN_IF_ERROR(sock::MakeWakePipe(s->wake_));
  Status st = sock::Listen(store->options().dir, &s->listen_fd_);
  if (!st.ok()) {
    sock::Close(s->wake_[0]);
    sock::Close(s->wake_[1]);
    s->wake_[0] = s->wake_[1] = -1;
    return st;
  }
  store->AddListener(&s->wake_listener_);
  store->SetDurableListener(&s->durable_listener_);  // notes also carry each advance of the durable sequence
  s->acceptor_ = std::thread([p = s.get()] {
    platform::NameThisThread("cw-accept");
    p->AcceptLoop();
  });
  s->notifier_ = std::thread([p = s.get()] {
    platform::NameThisThread("cw-notify");
    p->NotifyLoop();
  });
  *out = std::move(s);
  return Status::OK();
}

void WriterServer::Stop() {
  if (stopping_.exchange(true)) return;
  sock::Wake(wake_[1]);
  {
    std::lock_guard<std::mutex> g(mu_);
    cv_.NotifyAll();
  }
  if (acceptor_.joinable()) acceptor_.join();
  if (notifier_.joinable()) notifier_.join();
  store_->RemoveListener(&wake_listener_);
  store_->SetDurableListener(nullptr);
  {
    std::lock_guard<std::mutex> g(mu_);
    // Wakes each Serve's recv. A request already sent is still read and
    // answered: the store is closed, so with kClosed, which its client
    // resends to the next writer (nothing was applied).
    for (auto& c : conns_) sock::ShutdownRead(c->fd);
  }
  Reap(true);
  sock::Close(listen_fd_);
  sock::Unlink(store_->options().dir);  // ours: this process holds the store's lock
  sock::Close(wake_[0]);
  sock::Close(wake_[1]);
  listen_fd_ = wake_[0] = wake_[1] = -1;
}

void WriterServer::Reap(bool all) {
  std::vector<std::unique_ptr<Conn>> finished;
  {
    std::lock_guard<std::mutex> g(mu_);
    for (auto it = conns_.begin(); it != conns_.end();) {
      if (all || (*it)->done.load(std::memory_order_acquire)) {
        finished.push_back(std::move(*it));
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& c : finished) {
    if (c->thread.joinable()) c->thread.join();
    sock::Close(c->fd);
  }
}

void WriterServer::AcceptLoop() {
  while (!stopping_.load()) {
    int fd;
    Status s = sock::Accept(listen_fd_, wake_[0], 1000, &fd);
    Reap(false);
    if (!s.ok() || fd < 0) continue;
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    Conn* raw = c.get();
    std::lock_guard<std::mutex> g(mu_);
    if (stopping_.load()) {
      sock::Close(fd);
      break;
    }
    conns_.push_back(std::move(c));
    raw->thread = std::thread([this, raw] { Serve(raw); });
  }
}

namespace {

// The writer's channel thread moves off the client's CPU only after requests
// up to this size (link_channel.h, Take): a single append's, or a few events'.
constexpr size_t kPartAfterBytes = 1024;

// How long a connection thread spins for the next request: a client
// appending in a loop sends it soon after its reply, as soon as it has
// built the next one; the last gap between a reply and the next request,
// with room to spare, says how soon (within limits). After a durable
// append, a sync or a compaction the client is slower to come back (it
// slept), so the thread sleeps at once.
int SpinAfter(const std::string& request, int64_t last_gap_us) {
  if (request.empty()) return 0;
  const auto op = static_cast<link::Op>(request[0]);
  const bool durable = op == link::Op::kAppend && request.size() > 1 && (request[1] & 1);
  if (op != link::Op::kAppend || durable) return 0;
  return static_cast<int>(std::clamp<int64_t>(last_gap_us * 3 / 2, 50, 300));
}

}  // namespace

void WriterServer::Serve(Conn* c) {
  clients_.fetch_add(1, std::memory_order_relaxed);
  std::string body, reply;
  bool hello = false;
  link::HelloMode mode = link::HelloMode::kRequests;
  int spin = 0;
  // Another user's process is refused before it may send anything.
  Status s = sock::CheckPeerIsOwner(c->fd);
  if (!s.ok()) {
    std::string r = link::Frame(link::EncodeStatusReply(s));
    (void)sock::SendAll(c->fd, r.data(), r.size(), 1000);
  }
  while (s.ok()) {
    // A client that stops mid-request is dropped; nothing of it was applied.
    s = sock::RecvMessage(c->fd, &body, link::kMaxMessage, -1, spin);
    if (s.code() == Status::Code::kInvalidArgument || (s.ok() && body.empty())) {
      if (s.ok()) s = Status::InvalidArgument("an empty writer-link message");
      std::string r = link::Frame(link::EncodeStatusReply(s));
      (void)sock::SendAll(c->fd, r.data(), r.size(), 1000);
      break;  // the stream cannot be resynchronised
    }
    if (!s.ok()) break;  // closed, or shut down by Stop
    const size_t len = body.size();
    const auto* p = reinterpret_cast<const uint8_t*>(body.data());
    link::Op op;
    if (!hello) {
      // The first message must be a hello: anything else is not a causeway client.
      s = link::DecodeOp(p, len, &op);
      if (s.ok() && op != link::Op::kHello) s = Status::InvalidArgument("malformed writer-link message: no hello");
      if (s.ok()) s = link::DecodeHello(p, len, &mode);
      reply = link::EncodeStatusReply(s);
      hello = s.ok();
    } else {
      reply = Handle(p, len);
      spin = SpinAfter(body, 0);
    }
    std::string framed = link::Frame(reply);
    if (!sock::SendAll(c->fd, framed.data(), framed.size(), 60000).ok()) break;
    if (hello && mode == link::HelloMode::kWatch) {
      std::lock_guard<std::mutex> g(mu_);
      watchers_.push_back(c->fd);
      watched_.store(true, std::memory_order_relaxed);
      pending_ = true;  // its first notification says where the log is now
      cv_.NotifyAll();
      break;
    }
    if (hello && mode == link::HelloMode::kChannel) {
      ServeChannel(c);
      break;
    }
  }
  if (hello && mode == link::HelloMode::kWatch) {
    // A watch connection only receives: wait for the client to close it.
    char buf[64];
    while (!stopping_.load()) {
      bool ready;
      if (!sock::WaitReadable(c->fd, wake_[0], 1000, &ready).ok()) break;
      if (!ready) continue;
      size_t got;
      if (!sock::RecvSome(c->fd, buf, sizeof buf, &got).ok()) break;
    }
    std::lock_guard<std::mutex> g(mu_);
    watchers_.erase(std::remove(watchers_.begin(), watchers_.end(), c->fd), watchers_.end());
    watched_.store(!watchers_.empty(), std::memory_order_relaxed);
  }
  sock::Shutdown(c->fd);
  clients_.fetch_sub(1, std::memory_order_relaxed);
  c->done.store(true, std::memory_order_release);
}

void WriterServer::ServeChannel(Conn* c) {
  // The client sends the region's descriptor after the hello's reply.
  int region = -1;
  link::Channel* raw = nullptr;
  Status s = link::RecvFd(c->fd, 5000, &region);
  if (s.ok()) s = link::Channel::Attach(region, &raw);
  std::unique_ptr<link::Channel> ch(raw);
  std::string framed = link::Frame(link::EncodeStatusReply(s));
  if (!sock::SendAll(c->fd, framed.data(), framed.size(), 5000).ok() || !s.ok()) return;
  std::string body;
  int spin = 50;
  int64_t replied = 0, gap = 0;
  for (;;) {
    // After a large request (a batch) the client reads what the writer just
    // wrote: sharing its CPU keeps that in cache, which outweighs the turns.
    s = ch->Take(c->fd, spin, stopping_, &body, body.size() <= kPartAfterBytes);
    if (s.code() == Status::Code::kNotFound) return;  // closed, or stopping: the client resends
    if (replied) gap = MonoMicros() - replied;
    std::string reply = s.ok() ? Handle(reinterpret_cast<const uint8_t*>(body.data()), body.size())
                               : link::EncodeStatusReply(s);
    if (!ch->Reply(c->fd, reply).ok() || !s.ok()) return;
    replied = MonoMicros();
    spin = SpinAfter(body, gap);
  }
}

std::string WriterServer::Handle(const uint8_t* p, size_t n) {
  link::Op op;
  Status s = link::DecodeOp(p, n, &op);
  if (!s.ok()) return link::EncodeStatusReply(s);
  switch (op) {
    case link::Op::kHello:
      return link::EncodeStatusReply(Status::InvalidArgument("malformed writer-link message: a second hello"));
    case link::Op::kSync:
      if (n != 1) return link::EncodeStatusReply(Status::InvalidArgument("malformed writer-link message: sync"));
      s = store_->Sync();
      return link::EncodeSyncReply(s, store_->DurableSequence());
    case link::Op::kCompact: {
      CompactionPlan plan;
      CompactionReport report;
      s = link::DecodeCompact(p, n, &plan);
      if (s.ok()) s = store_->Compact(plan, &report);
      return link::EncodeCompactReply(s, report);
    }
    case link::Op::kAppend: {
      link::AppendMessage m;
      AppendError err;
      s = link::DecodeAppend(p, n, &m);
      std::vector<AppendRequest> reqs;
      reqs.reserve(m.items.size());
      for (size_t i = 0; s.ok() && i < m.items.size(); i++) {
        link::WireItem& it = m.items[i];
        s = store_->InternEntity(it.entity, &it.req.entity);
        if (s.ok()) s = store_->InternScope(it.scope, &it.req.scope);
        reqs.push_back(it.req);
      }
      std::vector<Receipt> out(m.items.size());
      if (s.ok()) {
        AppendCondition cond{m.condition};
        s = store_->AppendBatch(reqs.data(), reqs.size(), out.data(), m.has_condition ? &cond : nullptr, m.durable,
                                &err);
      }
      return link::EncodeAppendReply(s, out.data(), out.size(), err);
    }
  }
  return link::EncodeStatusReply(Status::InvalidArgument("malformed writer-link message"));
}

void WriterServer::Wake::Notify() {
  // No other process watches: nothing to tell, and no thread to wake on the appender's time.
  if (!s_->watched_.load(std::memory_order_relaxed)) return;
  std::lock_guard<std::mutex> g(s_->mu_);
  s_->pending_ = true;
  // A sync's advance waits for the end of the pause (at most 1 ms): with
  // several processes appending durably, a note after every sync woke the
  // notifier and each client's watch thread right when the sync's own
  // waiters were being woken, on the same cores (measured, 4 processes:
  // 7.9-8.2 context switches per durable append with a note after every
  // sync, 6.6-6.9 with the syncs' notes in the pause).
  if (!(durable_ && s_->pausing_)) s_->cv_.NotifyOne();
}

void WriterServer::NotifyLoop() {
  std::unique_lock<std::mutex> g(mu_);
  while (!stopping_.load()) {
    if (!pending_) {
      // Armed only while some process watches (a watcher's arrival sets pending_).
      if (!watchers_.empty()) {
        g.unlock();
        store_->Arm(&wake_listener_, store_->NextSequence());
        g.lock();
      }
      while (!pending_ && !stopping_.load()) cv_.WaitFor(g, 1000);
      continue;
    }
    pending_ = false;
    // One 16-byte note per wake: the next and the durable sequence. A
    // watcher whose buffer is full has notes it has not read yet, so
    // skipping it loses nothing; a send this small on a Unix stream socket
    // goes whole or not at all (Linux queues it as one buffer, BSDs send
    // nothing below the low-water mark), so notes never tear.
    const uint64_t durable = store_->DurableSequence();  // first: never past the next sequence read after it
    const std::string note = link::EncodeNote(store_->NextSequence(), durable);
    for (int fd : watchers_) (void)sock::SendAll(fd, note.data(), note.size(), 0);
    // A pause of a millisecond: publishes and syncs meanwhile share the
    // next note (the publish listener is re-armed only at the top of the
    // loop; a sync's advance sets pending_ without waking this thread).
    if (!stopping_.load()) {
      pausing_ = true;
      const int64_t until = MonoMicros() + 1000;
      for (int64_t now = MonoMicros(); !stopping_.load() && now < until; now = MonoMicros())
        cv_.WaitForMicros(g, static_cast<uint64_t>(until - now));
      pausing_ = false;
    }
  }
}

}  // namespace causeway
