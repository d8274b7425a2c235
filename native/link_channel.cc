#include "link_channel.h"

#include <chrono>
#include <cstring>
#include <new>
#include <thread>

#include "local_socket.h"

#if !defined(_WIN32)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#if !defined(__linux__)
#include <random>
#endif
#endif

namespace causeway::link {

namespace {

// The slot's states. The client moves kIdle to kRequest, and kRequest to
// kClosed when it gives up on a writer that never took it; the writer moves
// kRequest to kTaken (from then on it may be applied) and kTaken to kReply;
// the client moves kReply back to kIdle once it has copied the reply.
enum : uint32_t { kIdle = 0, kRequest = 1, kTaken = 2, kReply = 3, kClosed = 4 };

constexpr uint32_t kChannelMagic = 0x314c4843;  // "CHL1"
constexpr size_t kHeaderSize = 4096;
constexpr size_t kRegionSize = kHeaderSize + Channel::kRequestCapacity + Channel::kReplyCapacity;
// A receipt's encoded size (PROTOCOL.md), and room for a refusal's text.
constexpr size_t kReceiptBytes = 133;
constexpr size_t kReplySlack = size_t(256) << 10;

using Clock = std::chrono::steady_clock;

inline void Pause() {
#if defined(__x86_64__) || defined(_M_X64)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// A doorbell: one byte that wakes a peer asleep on the socket. A full
// socket buffer already holds unread ones, and a dead peer is found by its
// own side's wait, so a failed send changes nothing.
void Ring(int sock) {
  const char b = 1;
  (void)sock::SendAll(sock, &b, 1, 0);
}

// Reads away doorbells. False when the peer closed the connection.
bool Drain(int sock) {
  char buf[64];
  for (;;) {
    size_t got = 0;
    if (!sock::RecvSome(sock, buf, sizeof buf, &got).ok()) return false;
    if (got < sizeof buf) return true;
  }
}

}  // namespace

// Lock-free 32-bit atomics are address-free: both processes' operations on
// the shared words are atomic with respect to each other.
static_assert(std::atomic<uint32_t>::is_always_lock_free, "the channel's state words must be lock-free");

// Every access to state and the sleeping flags is seq_cst: a side that sets
// its sleeping flag and then reads the state, against a side that sets the
// state and then reads the flag, must not both miss (the doorbell rule).
struct Channel::Header {
  uint32_t magic;
  alignas(64) std::atomic<uint32_t> state;
  alignas(64) std::atomic<uint32_t> client_sleeping;
  alignas(64) std::atomic<uint32_t> writer_sleeping;
  // Plain words, published by the state change after them.
  alignas(64) uint32_t request_len;
  uint32_t reply_len;
  // The CPU each side last spun on, plus one (0: not known). Hints only.
  alignas(64) std::atomic<uint32_t> client_cpu;
  std::atomic<uint32_t> writer_cpu;
};

bool Channel::Fits(size_t bytes, size_t receipts) {
  static_assert(sizeof(Header) <= kHeaderSize, "the channel header fits its page");
  return bytes <= kRequestCapacity && receipts <= (kReplyCapacity - kReplySlack) / kReceiptBytes;
}

Channel::Channel(int fd, void* base) : fd_(fd), base_(base) {}
Channel::Header* Channel::header() const { return static_cast<Header*>(base_); }
uint8_t* Channel::request_area() const { return static_cast<uint8_t*>(base_) + kHeaderSize; }
uint8_t* Channel::reply_area() const { return request_area() + kRequestCapacity; }

#if defined(_WIN32)

Channel::~Channel() {}
Status Channel::Create(Channel**, int*) { return Status::IoError("no shared-memory channel on Windows"); }
Status Channel::Attach(int, Channel**) { return Status::IoError("no shared-memory channel on Windows"); }
Status Channel::Call(int, const std::string&, int, int, std::string*, const std::function<void()>&) {
  return Status::IoError("no channel");
}
Status Channel::Take(int, int, const std::atomic<bool>&, std::string*, bool) { return Status::IoError("no channel"); }
Status Channel::Reply(int, const std::string&) { return Status::IoError("no channel"); }
Status SendFd(int, int, int) { return Status::IoError("no descriptor passing on Windows"); }
Status RecvFd(int, int, int*) { return Status::IoError("no descriptor passing on Windows"); }

#else

Channel::~Channel() {
  if (base_) ::munmap(base_, kRegionSize);
  if (fd_ >= 0) ::close(fd_);
}

Status Channel::Create(Channel** out, int* fd) {
  int f = -1;
#if defined(__linux__)
  f = ::memfd_create("causeway-link", MFD_CLOEXEC);
  if (f < 0) return Status::FromErrno("memfd_create", errno);
#else
  {
    // No memfd: a shm object under a random name, unlinked at once.
    std::random_device rd;
    for (int tries = 0; f < 0 && tries < 8; tries++) {
      const std::string name = "/causeway-" + std::to_string(rd()) + std::to_string(rd());
      f = ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
      if (f >= 0) ::shm_unlink(name.c_str());
      else if (errno != EEXIST) return Status::FromErrno("shm_open", errno);
    }
    if (f < 0) return Status::IoError("shm_open: no free name");
    ::fcntl(f, F_SETFD, FD_CLOEXEC);
  }
#endif
  if (::ftruncate(f, static_cast<off_t>(kRegionSize)) != 0) {
    const int e = errno;
    ::close(f);
    return Status::FromErrno("ftruncate channel", e);
  }
  Channel* c = nullptr;
  Status s = Attach(f, &c);
  if (!s.ok()) return s;
  c->header()->magic = kChannelMagic;
  *out = c;
  *fd = f;
  return Status::OK();
}

Status Channel::Attach(int fd, Channel** out) {
  // lseek, not fstat: fstat would raise the glibc floor to 2.33 (glibc_floor.cc).
  if (::lseek(fd, 0, SEEK_END) != static_cast<off_t>(kRegionSize)) {
    ::close(fd);
    return Status::InvalidArgument("the writer-link channel region has the wrong size");
  }
  void* base = ::mmap(nullptr, kRegionSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    const int e = errno;
    ::close(fd);
    return Status::FromErrno("mmap channel", e);
  }
  *out = new Channel(fd, base);
  return Status::OK();
}

Status Channel::Call(int sock, const std::string& request, int timeout_ms, int spin_us, std::string* reply,
                     const std::function<void()>& while_waiting) {
  Header* h = header();
  if (!Fits(request.size(), 0)) return Status::InvalidArgument("the request does not fit the channel");
  std::memcpy(request_area(), request.data(), request.size());
  h->request_len = static_cast<uint32_t>(request.size());
  uint32_t st = kIdle;
  if (!h->state.compare_exchange_strong(st, kRequest)) return Status::Closed("the writer closed this channel");
  if (h->writer_sleeping.load()) Ring(sock);
  const auto start = Clock::now();
  const auto spin_until = start + std::chrono::microseconds(spin_us);
  const auto deadline = start + std::chrono::milliseconds(timeout_ms);
  bool gone = false;
  for (int i = 0;; i++) {
    if (h->state.load() == kReply) break;
    if ((i & 63) != 0) {
      Pause();
      continue;
    }
    if (Clock::now() < spin_until) {
      if (while_waiting) while_waiting();
      // On a machine with fewer cores than busy threads the writer may be
      // waiting for this very core: let it run now and then (a yield is a
      // system call, so not at every look).
      if ((i & 1023) == 0) YieldCpu(h->client_cpu, h->writer_cpu, false);
      continue;
    }
    h->client_sleeping.store(1);
    if (h->state.load() != kReply) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      bool ready = false;
      if (left <= 0 || !sock::WaitReadable(sock, -1, static_cast<int>(left), &ready).ok()) {
        h->client_sleeping.store(0);
        st = kRequest;
        if (h->state.compare_exchange_strong(st, kClosed))
          return Status::WriterUnavailable("no reply within " + std::to_string(timeout_ms) + " ms; the writer never took the request");
        if (st == kReply) break;
        return Status::WriterUnavailable("no reply within " + std::to_string(timeout_ms) + " ms");
      }
      if (ready) gone = !Drain(sock);
    }
    h->client_sleeping.store(0);
    if (gone) {
      st = kRequest;
      if (h->state.compare_exchange_strong(st, kClosed))
        return Status::Closed("the writer went away before taking the request");
      if (st == kReply) break;
      return Status::WriterUnavailable("the writer went away after taking the request");
    }
  }
  const uint32_t len = h->reply_len;
  if (len > kReplyCapacity) return Status::IoError("writer-link channel reply length is out of bounds");
  reply->assign(reinterpret_cast<const char*>(reply_area()), len);
  h->state.store(kIdle);
  return Status::OK();
}

Status Channel::Take(int sock, int spin_us, const std::atomic<bool>& stopping, std::string* request, bool may_part) {
  Header* h = header();
  const auto spin_until = Clock::now() + std::chrono::microseconds(spin_us);
  for (int i = 0;; i++) {
    uint32_t st = h->state.load();
    if (st == kClosed || stopping.load(std::memory_order_relaxed)) return Status::NotFound("closed");
    if (st == kRequest) {
      // A client that gave up meanwhile moved it to kClosed: then not ours.
      if (!h->state.compare_exchange_strong(st, kTaken)) continue;
      const uint32_t len = h->request_len;
      if (len == 0 || len > kRequestCapacity) return Status::InvalidArgument("writer-link channel request length is out of bounds");
      request->assign(reinterpret_cast<const char*>(request_area()), len);
      return Status::OK();
    }
    if ((i & 63) != 0) {
      Pause();
      continue;
    }
    if (Clock::now() < spin_until) {
      if ((i & 1023) == 0) YieldCpu(h->writer_cpu, h->client_cpu, may_part);  // as in Call
      continue;
    }
    h->writer_sleeping.store(1);
    bool open = true;
    // Sleep unless there is something to take: after a reply the state stays
    // kReply until the client has copied it, which may take a wake-up.
    const uint32_t now_st = h->state.load();
    if (now_st != kRequest && now_st != kClosed) {
      bool ready = false;
      if (!sock::WaitReadable(sock, -1, 1000, &ready).ok()) open = false;
      else if (ready) open = Drain(sock);
    }
    h->writer_sleeping.store(0);
    if (!open) return Status::NotFound("closed");
  }
}

Status Channel::Reply(int sock, const std::string& reply) {
  Header* h = header();
  if (reply.size() > kReplyCapacity) return Status::InvalidArgument("the reply does not fit the channel");
  std::memcpy(reply_area(), reply.data(), reply.size());
  h->reply_len = static_cast<uint32_t>(reply.size());
  h->state.store(kReply);
  if (h->client_sleeping.load()) Ring(sock);
  return Status::OK();
}

namespace {

// One byte with room for one descriptor beside it (SCM_RIGHTS).
struct FdMessage {
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr m{};
  FdMessage() {
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = control;
    m.msg_controllen = sizeof control;
  }
  FdMessage(const FdMessage&) = delete;
};

}  // namespace

Status SendFd(int sock, int fd, int timeout_ms) {
  (void)timeout_ms;  // one byte on an idle connection: the send does not block
  FdMessage fm;
  fm.byte = 1;
  msghdr& m = fm.m;
  cmsghdr* c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  for (;;) {
    if (::sendmsg(sock, &m, 0) == 1) return Status::OK();
    if (errno != EINTR) return Status::FromErrno("sendmsg (channel descriptor)", errno);
  }
}

Status RecvFd(int sock, int timeout_ms, int* fd) {
  *fd = -1;
  bool ready = false;
  CW_RETURN_IF_ERROR(sock::WaitReadable(sock, -1, timeout_ms, &ready));
  if (!ready) return Status::WriterUnavailable("no channel descriptor within " + std::to_string(timeout_ms) + " ms");
  FdMessage fm;
  msghdr& m = fm.m;
  ssize_t r;
  do {
    r = ::recvmsg(sock, &m, MSG_DONTWAIT);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return Status::FromErrno("recvmsg (channel descriptor)", errno);
  if (r == 0) return Status::NotFound("closed");
  for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int))) {
      std::memcpy(fd, CMSG_DATA(c), sizeof(int));
      ::fcntl(*fd, F_SETFD, FD_CLOEXEC);
    }
  }
  if ((m.msg_flags & MSG_CTRUNC) != 0 || *fd < 0) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
    return Status::InvalidArgument("malformed writer-link message: no channel descriptor");
  }
  return Status::OK();
}

#endif

}  // namespace causeway::link
