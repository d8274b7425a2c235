// local_socket.h on POSIX: Unix domain sockets. Windows: local_socket_win32.cc.
#include "local_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <algorithm>
#include <cstring>
#include <thread>

namespace causeway::sock {

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Fills `addr` for "<dir>/writer.sock". When the path is too long for
// sun_path, opens the directory and names it through /proc/self/fd (Linux);
// *dir_fd is then that descriptor, closed by the caller after the call.
Status Address(const std::string& dir, sockaddr_un* addr, socklen_t* len, int* dir_fd) {
  *dir_fd = -1;
  std::memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  std::string path = dir + "/" + kSocketName;
  if (path.size() >= sizeof addr->sun_path) {
#if defined(__linux__)
    int d = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (d < 0) return Status::FromErrno("open " + dir, errno);
    *dir_fd = d;
    path = "/proc/self/fd/" + std::to_string(d) + "/" + kSocketName;
#else
    return Status::InvalidArgument("the data directory's path is too long for its writer socket: " + dir);
#endif
  }
  std::memcpy(addr->sun_path, path.data(), path.size());
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return Status::OK();
}

#if defined(MSG_NOSIGNAL)
constexpr int kNoSignal = MSG_NOSIGNAL;
#else
constexpr int kNoSignal = 0;  // macOS: SO_NOSIGPIPE, set on each socket below
#endif

// Close-on-exec (a child process must not inherit the link), and no SIGPIPE.
int Prepare(int fd) {
  if (fd < 0) return fd;
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
#if defined(SO_NOSIGPIPE)
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
  return fd;
}

int NewSocket() { return Prepare(::socket(AF_UNIX, SOCK_STREAM, 0)); }

}  // namespace

bool Supported() { return true; }

Status Listen(const std::string& dir, int* fd) {
  sockaddr_un addr;
  socklen_t len;
  int dir_fd;
  CW_RETURN_IF_ERROR(Address(dir, &addr, &len, &dir_fd));
  const std::string path = addr.sun_path;
  int s = NewSocket();
  Status st;
  if (s < 0) st = Status::FromErrno("socket", errno);
  // A file left by a dead writer: we hold the lock, so it is nobody's.
  if (st.ok() && ::unlink(path.c_str()) != 0 && errno != ENOENT) st = Status::FromErrno("unlink " + path, errno);
  if (st.ok() && ::bind(s, reinterpret_cast<sockaddr*>(&addr), len) != 0) st = Status::FromErrno("bind " + path, errno);
  // The directory is owner-only already; the socket is too, and Serve checks each peer's uid.
  if (st.ok() && ::chmod(path.c_str(), 0600) != 0) st = Status::FromErrno("chmod " + path, errno);
  if (st.ok() && ::listen(s, 128) != 0) st = Status::FromErrno("listen " + path, errno);
  if (dir_fd >= 0) ::close(dir_fd);
  if (!st.ok()) {
    if (s >= 0) ::close(s);
    return st;
  }
  *fd = s;
  return Status::OK();
}

Status WaitReadable(int fd, int wake_fd, int timeout_ms, bool* ready) {
  *ready = false;
  pollfd p[2] = {{fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
  const int n = wake_fd >= 0 ? 2 : 1;
  for (;;) {
    int rc = ::poll(p, n, timeout_ms);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return Status::FromErrno("poll", errno);
    if (n == 2 && p[1].revents) return Status::OK();  // woken: not ready
    *ready = rc > 0 && p[0].revents != 0;
    return Status::OK();
  }
}

Status Accept(int listen_fd, int wake_fd, int timeout_ms, int* fd) {
  *fd = kNoSocket;
  bool ready;
  CW_RETURN_IF_ERROR(WaitReadable(listen_fd, wake_fd, timeout_ms, &ready));
  if (!ready) return Status::OK();
  int c = Prepare(::accept(listen_fd, nullptr, nullptr));
  if (c < 0) {
    if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) return Status::OK();
    return Status::FromErrno("accept", errno);
  }
  *fd = c;
  return Status::OK();
}

Status CheckPeerIsOwner(int fd) {
  uid_t uid;
#if defined(__linux__)
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return Status::FromErrno("SO_PEERCRED", errno);
  uid = cred.uid;
#else
  gid_t gid;
  if (::getpeereid(fd, &uid, &gid) != 0) return Status::FromErrno("getpeereid", errno);
#endif
  if (uid != ::geteuid())
    return Status::InvalidArgument("refused a client running as uid " + std::to_string(uid) + ": the store's owner is uid " +
                                   std::to_string(::geteuid()));
  return Status::OK();
}

Status Connect(const std::string& dir, int* fd) {
  sockaddr_un addr;
  socklen_t len;
  int dir_fd;
  CW_RETURN_IF_ERROR(Address(dir, &addr, &len, &dir_fd));
  int s = NewSocket();
  Status st;
  if (s < 0) {
    st = Status::FromErrno("socket", errno);
  } else if (::connect(s, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    const int e = errno;
    if (e == ENOENT || e == ECONNREFUSED)
      st = Status::NotFound("no writer listens at " + dir + "/" + kSocketName);
    else
      st = Status::FromErrno("connect " + dir + "/" + kSocketName, e);
  }
  if (dir_fd >= 0) ::close(dir_fd);
  if (!st.ok()) {
    if (s >= 0) ::close(s);
    return st;
  }
  *fd = s;
  return Status::OK();
}

Status SendAll(int fd, const void* p, size_t n, int timeout_ms) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  const int64_t deadline = timeout_ms < 0 ? 0 : NowMs() + timeout_ms;
  while (n > 0) {
    ssize_t w = ::send(fd, b, n, kNoSignal | MSG_DONTWAIT);
    if (w > 0) {
      b += w;
      n -= static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      int left = -1;
      if (timeout_ms >= 0) {
        left = static_cast<int>(deadline - NowMs());
        if (left <= 0) return Status::WriterUnavailable("the writer took no request bytes for " + std::to_string(timeout_ms) + " ms");
      }
      pollfd q{fd, POLLOUT, 0};
      ::poll(&q, 1, left);
      continue;
    }
    return Status::FromErrno("send", errno);
  }
  return Status::OK();
}

Status RecvAll(int fd, void* p, size_t n, int timeout_ms, int spin_us) {
  uint8_t* b = static_cast<uint8_t*>(p);
  const size_t want = n;
  const int64_t deadline = timeout_ms < 0 ? 0 : NowMs() + timeout_ms;
  const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(spin_us);
  while (n > 0) {
    ssize_t r = ::recv(fd, b, n, MSG_DONTWAIT);
    if (r > 0) {
      b += r;
      n -= static_cast<size_t>(r);
      continue;
    }
    if (r == 0) {
      if (n == want) return Status::NotFound("closed");
      return Status::IoError("the peer closed the connection mid-message");
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return Status::FromErrno("recv", errno);
    if (spin_us > 0 && std::chrono::steady_clock::now() < spin_until) {
      // A short pause between tries: each try is a system call.
      for (int i = 0; i < 32; i++) {
#if defined(__x86_64__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        asm volatile("yield");
#endif
      }
      continue;
    }
    int left = -1;
    if (timeout_ms >= 0) {
      left = static_cast<int>(deadline - NowMs());
      if (left <= 0) return Status::WriterUnavailable("no reply within " + std::to_string(timeout_ms) + " ms");
    }
    pollfd q{fd, POLLIN, 0};
    ::poll(&q, 1, left);
  }
  return Status::OK();
}

Status RecvMessage(int fd, std::string* body, uint32_t max_len, int timeout_ms, int spin_us) {
  // Requests and replies alternate on a connection: nothing follows the
  // message, so reading past its length never happens (the reads ask for
  // at most what is missing).
  uint8_t head[4096];
  size_t have = 0;
  const int64_t deadline = timeout_ms < 0 ? 0 : NowMs() + timeout_ms;
  const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(spin_us);
  uint32_t len = 0;
  size_t want = 4;  // bytes of the message still wanted before we know its length
  for (;;) {
    const size_t room = (want == 4 ? sizeof head : std::min(sizeof head, want)) - have;
    ssize_t r = ::recv(fd, head + have, room, MSG_DONTWAIT);
    if (r > 0) {
      have += static_cast<size_t>(r);
      if (have >= 4 && want == 4) {
        std::memcpy(&len, head, 4);
        if (len > max_len) return Status::InvalidArgument("message length " + std::to_string(len) + " is out of bounds");
        want = 4 + size_t(len);
      }
      if (have >= 4 && (have >= want || have == sizeof head)) break;
      continue;
    }
    if (r == 0) return have == 0 ? Status::NotFound("closed") : Status::IoError("the peer closed the connection mid-message");
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return Status::FromErrno("recv", errno);
    if (spin_us > 0 && std::chrono::steady_clock::now() < spin_until) {
      for (int i = 0; i < 32; i++) {
#if defined(__x86_64__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        asm volatile("yield");
#endif
      }
      continue;
    }
    int left = -1;
    if (timeout_ms >= 0) {
      left = static_cast<int>(deadline - NowMs());
      if (left <= 0) return Status::WriterUnavailable("no reply within " + std::to_string(timeout_ms) + " ms");
    }
    pollfd q{fd, POLLIN, 0};
    ::poll(&q, 1, left);
  }
  const size_t in_head = std::min(have, want) - 4;
  body->assign(reinterpret_cast<const char*>(head) + 4, in_head);
  if (in_head == len) return Status::OK();
  body->resize(len);
  const int left = timeout_ms < 0 ? -1 : std::max<int>(1, static_cast<int>(deadline - NowMs()));
  return RecvAll(fd, body->data() + in_head, len - in_head, left);
}

Status RecvSome(int fd, void* p, size_t n, size_t* got) {
  *got = 0;
  for (;;) {
    ssize_t r = ::recv(fd, p, n, MSG_DONTWAIT);
    if (r > 0) {
      *got = static_cast<size_t>(r);
      return Status::OK();
    }
    if (r == 0) return Status::Closed("the peer closed the connection");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Status::OK();
    return Status::FromErrno("recv", errno);
  }
}

void Shutdown(int fd) {
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
}

void ShutdownRead(int fd) {
  if (fd >= 0) ::shutdown(fd, SHUT_RD);
}

void Close(int fd) {
  if (fd >= 0) ::close(fd);
}

void Unlink(const std::string& dir) { ::unlink((dir + "/" + kSocketName).c_str()); }

Status MakeWakePipe(int fds[2]) {
  if (::pipe(fds) != 0) return Status::FromErrno("pipe", errno);
  for (int i = 0; i < 2; i++) {
    ::fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    ::fcntl(fds[i], F_SETFL, ::fcntl(fds[i], F_GETFL) | O_NONBLOCK);
  }
  return Status::OK();
}

void Wake(int write_fd) {
  const char c = 1;
  if (write_fd >= 0) (void)!::write(write_fd, &c, 1);
}

}  // namespace causeway::sock
