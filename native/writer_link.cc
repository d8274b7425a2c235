#include "writer_link.h"

#include <chrono>

#include "link_wire.h"
#include "local_socket.h"
#include "store.h"

namespace causeway {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// How long a caller spins for its reply before sleeping: a plain append's
// reply comes in a few microseconds, a batch's in a few per event (up to a
// limit); a durable one sleeps at once (a sync takes far longer than a
// wake-up).
constexpr int kReplySpinUs = 100;
int ReplySpinUs(bool slow, size_t receipts) {
  if (slow) return 0;
  return static_cast<int>(std::min<size_t>(2000, kReplySpinUs + 4 * receipts));
}

// How often a read-only store with no writer to watch tries again: the
// delay before it catches up with a writer that just started.
constexpr int kWatchRedialMs = 50;

// Reads one length-prefixed reply body.
Status ReadReply(int fd, int timeout_ms, std::string* body) {
  Status s = sock::RecvMessage(fd, body, link::kMaxMessage, timeout_ms, kReplySpinUs);
  if (s.code() == Status::Code::kInvalidArgument) return Status::IoError("writer-link reply: " + s.message());
  return s;
}

}  // namespace

WriterLink::WriterLink(Store* store, bool watch_only) : store_(store), watch_only_(watch_only) {}

void WriterLink::Start() {
  if (!sock::MakeWakePipe(wake_).ok()) wake_[0] = wake_[1] = -1;
  monitor_ = std::thread([this] { MonitorLoop(); });
}

void WriterLink::Stop() {
  if (stopping_.exchange(true)) return;
  sock::Wake(wake_[1]);
  if (monitor_.joinable()) monitor_.join();
  std::lock_guard<std::mutex> g(pool_mu_);
  for (Conn& c : idle_) Drop(&c);
  for (Conn& c : idle_plain_) Drop(&c);
  idle_.clear();
  idle_plain_.clear();
  sock::Close(wake_[0]);
  sock::Close(wake_[1]);
}

void WriterLink::Drop(Conn* conn) {
  sock::Close(conn->fd);
  conn->fd = -1;
  conn->channel.reset();
}

bool WriterLink::Sleep(int ms) {
  bool ready;
  if (wake_[0] >= 0) (void)sock::WaitReadable(wake_[0], -1, ms, &ready);
  else std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return !stopping_.load();
}

Status WriterLink::Hello(int fd, link::HelloMode mode) {
  const int timeout = static_cast<int>(store_->options().writer_timeout_ms);
  std::string hello = link::Frame(link::EncodeHello(mode)), body;
  Status s = sock::SendAll(fd, hello.data(), hello.size(), timeout);
  // Wait for the answer on the wake pipe too: a store closing while the
  // writer hangs (stopped, or stuck) must not wait out writerTimeoutMs here.
  bool ready = false;
  if (s.ok() && wake_[0] >= 0) s = sock::WaitReadable(fd, wake_[0], timeout, &ready);
  if (s.ok() && stopping_.load()) s = Status::Closed("the store is closed");
  if (s.ok() && wake_[0] >= 0 && !ready) s = Status::WriterUnavailable("no reply within " + std::to_string(timeout) + " ms");
  if (s.ok()) s = ReadReply(fd, timeout, &body);
  Status remote;
  if (s.ok()) s = link::DecodeStatusReply(reinterpret_cast<const uint8_t*>(body.data()), body.size(), &remote);
  return s.ok() ? remote : s;
}

Status WriterLink::Dial(link::HelloMode mode, Conn* conn) {
  int fd = -1;
  CW_RETURN_IF_ERROR(sock::Connect(store_->options().dir, &fd));
  Status s = Hello(fd, mode);
  if (s.ok() && mode == link::HelloMode::kChannel) {
    // The channel's region goes over after the hello; the writer answers
    // once it has mapped it.
    link::Channel* ch = nullptr;
    int region = -1;
    Status c = link::Channel::Create(&ch, &region);
    if (!c.ok()) {
      channels_.store(false);  // a local failure: messages on the socket instead
      c = Status::InvalidArgument("no shared-memory channel here: " + c.message());
    } else {
      conn->channel.reset(ch);
      c = link::SendFd(fd, region, static_cast<int>(store_->options().writer_timeout_ms));
    }
    std::string body;
    Status remote;
    if (c.ok()) c = ReadReply(fd, static_cast<int>(store_->options().writer_timeout_ms), &body);
    if (c.ok()) c = link::DecodeStatusReply(reinterpret_cast<const uint8_t*>(body.data()), body.size(), &remote);
    if (c.ok() && !remote.ok()) {
      // This writer cannot map it: messages on the socket from now on.
      channels_.store(false);
      c = Status::InvalidArgument("the writer refused a channel: " + remote.message());
    }
    s = c;
  }
  if (!s.ok()) {
    sock::Close(fd);
    conn->channel.reset();
    // A writer that went away during the hello is the same as no writer.
    if (s.code() == Status::Code::kIoError || s.code() == Status::Code::kWriterUnavailable ||
        s.code() == Status::Code::kNotFound)
      return Status::NotFound(s.message());
    return s;
  }
  conn->fd = fd;
  return Status::OK();
}

Status WriterLink::Call(const std::string& body, size_t receipts, bool slow, std::string* reply) {
  const int timeout = static_cast<int>(store_->options().writer_timeout_ms);
  const int64_t deadline = NowMs() + timeout;
  Status last;
  for (;;) {
    if (stopping_.load()) return Status::Closed("the store is closed");
    if (store_->role() == Role::kWriter) return Status::NotFound("this process is the writer now");
    const bool use_channel = channels_.load(std::memory_order_relaxed) && link::Channel::Fits(body.size(), receipts);
    std::vector<Conn>& pool = use_channel ? idle_ : idle_plain_;
    Conn conn;
    {
      std::lock_guard<std::mutex> g(pool_mu_);
      if (!pool.empty()) {
        conn = std::move(pool.back());
        pool.pop_back();
      }
    }
    if (conn.fd < 0) {
      last = Dial(use_channel ? link::HelloMode::kChannel : link::HelloMode::kRequests, &conn);
      if (last.code() == Status::Code::kNotFound) {
        // No writer listening: one is recovering, or another process is taking the role.
        if (NowMs() >= deadline) break;
        Sleep(2);
        continue;
      }
      if (last.code() == Status::Code::kInvalidArgument && use_channel && !channels_.load()) continue;
      if (!last.ok()) return last;  // refused: another user, another version
    }
    const int left = static_cast<int>(std::max<int64_t>(1, deadline - NowMs()));
    Status s;
    if (conn.channel) {
      // A batch's frames appear in this process's mapping before the reply:
      // indexing them while waiting overlaps the read-your-writes catch-up
      // with the writer's own indexing (a single's frame is not worth it).
      std::function<void()> overlap;
      if (receipts > 1 && !slow) overlap = [this] { (void)store_->CatchUp(UINT64_MAX, true); };
      s = conn.channel->Call(conn.fd, body, left, ReplySpinUs(slow, receipts), reply, overlap);
      if (s.code() == Status::Code::kClosed) {
        // The writer never took it (it closed or died first): nothing was
        // applied, so it goes to the next writer, like a call with none.
        Drop(&conn);
        last = Status::WriterUnavailable(s.message());
        if (NowMs() >= deadline) break;
        Sleep(2);
        continue;
      }
    } else {
      const std::string framed = link::Frame(body);
      s = sock::SendAll(conn.fd, framed.data(), framed.size(), left);
      if (!s.ok()) {
        // Not all of the request reached the writer: it applied nothing. A
        // pooled connection to a writer that died since; dial again.
        Drop(&conn);
        last = s;
        if (NowMs() >= deadline) break;
        continue;
      }
      s = ReadReply(conn.fd, std::max(1, static_cast<int>(deadline - NowMs())), reply);
    }
    if (!s.ok()) {
      Drop(&conn);
      if (s.code() == Status::Code::kWriterUnavailable && s.message().rfind("no reply", 0) == 0)
        return Status::WriterUnavailable("the writer did not answer within " + std::to_string(timeout) +
                                         " ms (writerTimeoutMs); the write may or may not be applied: retry it with its idempotency key");
      return Status::WriterUnavailable("the writer went away before answering (" + s.message() +
                                       "); the write may or may not be applied: retry it with its idempotency key");
    }
    // Every reply starts with its status code. kClosed: the writer is
    // closing and refused the request before applying anything (ApplyAppend
    // checks first), so it goes to the next writer, like a call with none.
    if (!reply->empty() && static_cast<uint8_t>((*reply)[0]) == static_cast<uint8_t>(Status::Code::kClosed)) {
      Drop(&conn);
      last = Status::WriterUnavailable("the writer was closing");
      if (NowMs() >= deadline) break;
      Sleep(2);
      continue;
    }
    std::lock_guard<std::mutex> g(pool_mu_);
    pool.push_back(std::move(conn));
    return Status::OK();
  }
  return Status::WriterUnavailable("no writer answered within " + std::to_string(timeout) + " ms (writerTimeoutMs)" +
                                   (last.ok() ? std::string() : ": " + last.message()));
}

void WriterLink::MonitorLoop() {
  int watch = -1;
  uint8_t buf[256];
  link::NoteReader notes;
  while (!stopping_.load()) {
    if (watch < 0) {
      Conn w;
      Status s = Dial(link::HelloMode::kWatch, &w);
      watch = w.fd;
      if (stopping_.load()) break;  // closing: never promote on the way out
      if (s.ok()) {
        notes.Reset();
        (void)store_->CatchUp(UINT64_MAX);  // what happened while we were not watching
        continue;
      }
      // Read-only: never the writer; dial again until the next one listens
      // (slowly when one refused us: another user, another version).
      if (watch_only_) {
        if (!Sleep(s.code() == Status::Code::kNotFound ? kWatchRedialMs : 1000)) break;
        continue;
      }
      // No writer: take the role if its lock is free; otherwise wait for whoever has it.
      Status p = store_->TryPromote();
      if (p.ok() && store_->role() == Role::kWriter) break;
      if (!Sleep(p.ok() || p.code() == Status::Code::kLocked ? 5 : 100)) break;
      continue;
    }
    bool ready = false;
    if (!sock::WaitReadable(watch, wake_[0], 1000, &ready).ok()) ready = true;
    if (stopping_.load()) break;
    if (!ready) continue;
    size_t got = 0;
    Status s = sock::RecvSome(watch, buf, sizeof buf, &got);
    if (!s.ok()) {
      // The writer closed (it exited, or was killed): find or become the next one.
      sock::Close(watch);
      watch = -1;
      continue;
    }
    uint64_t next, durable;
    if (notes.Feed(buf, got, &next, &durable)) store_->OnWriterNote(next, durable);
  }
  sock::Close(watch);
}

}  // namespace causeway
