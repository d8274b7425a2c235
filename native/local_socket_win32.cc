// local_socket.h on Windows: the writer link over a named pipe
// (pipe_security_win32.h: its name and who may use it; pipe_io_win32.h: the
// reads and writes). Byte-mode pipes opened for overlapped I/O, so every
// wait has a deadline and can be woken; the wake "pipe" is an event.
#if defined(_WIN32)
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "local_socket.h"
#include "pipe_io_win32.h"

namespace causeway::sock {
namespace {

using win::Event;
using win::Got;
using win::NowMs;
using win::Pipe;

// The server end waiting for the next client; a new one once it connects.
struct Listener {
  std::wstring name;
  win::OwnerOnly security;
  HANDLE next = INVALID_HANDLE_VALUE;
  Event connected;
  OVERLAPPED ov{};
  bool pending = false;
};

// The ints of local_socket.h are keys of this table (never reused while
// open), not HANDLEs: a pipe needs its overlapped state beside its handle.
struct Entry {
  std::shared_ptr<Event> wake;
  std::shared_ptr<Pipe> pipe;
  std::shared_ptr<Listener> listener;
};
std::mutex g_mu;
std::unordered_map<int, Entry>& Table() {
  static auto* t = new std::unordered_map<int, Entry>();  // never destroyed: closes may come at exit
  return *t;
}
int g_next = 0;

int Add(Entry e) {
  std::lock_guard<std::mutex> g(g_mu);
  do g_next = g_next == INT32_MAX ? 0 : g_next + 1;
  while (Table().count(g_next));
  Table()[g_next] = std::move(e);
  return g_next;
}

Entry Get(int fd) {
  std::lock_guard<std::mutex> g(g_mu);
  auto it = Table().find(fd);
  return it == Table().end() ? Entry{} : it->second;
}

HANDLE WakeHandle(const Entry& e) { return e.wake ? e.wake->h : nullptr; }

constexpr DWORD kBufferBytes = 64 * 1024;
constexpr DWORD kPipeMode = PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS;

HANDLE NewInstance(Listener& l, bool first) {
  const DWORD open = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0);
  return ::CreateNamedPipeW(l.name.c_str(), open, kPipeMode, PIPE_UNLIMITED_INSTANCES, kBufferBytes, kBufferBytes, 0,
                            &l.security.sa);
}

int AddPipe(HANDLE h) {
  auto p = std::make_shared<Pipe>();
  p->h = h;
  return Add(Entry{nullptr, std::move(p), nullptr});
}

}  // namespace

bool Supported() { return true; }

Status Listen(const std::string& dir, int* fd) {
  auto l = std::make_shared<Listener>();
  l->name = win::PipeName(dir);
  CW_RETURN_IF_ERROR(win::MakeOwnerOnly(&l->security));
  l->next = NewInstance(*l, true);
  if (l->next == INVALID_HANDLE_VALUE && ::GetLastError() == ERROR_ACCESS_DENIED) {
    // The name exists: a dead writer's pipe, which lives on while its
    // clients still hold connections to it (we hold the store's lock, so no
    // live writer serves it), or another user's. Its owner tells which.
    l->next = NewInstance(*l, false);
    if (l->next != INVALID_HANDLE_VALUE) {
      Status s = win::CheckPipeOwner(l->next);
      if (!s.ok()) {
        ::CloseHandle(l->next);
        return s;
      }
    }
  }
  if (l->next == INVALID_HANDLE_VALUE) return win::WinError("CreateNamedPipe for " + dir, ::GetLastError());
  *fd = Add(Entry{nullptr, nullptr, std::move(l)});
  return Status::OK();
}

// An error of the listener's own: the caller's loop calls Accept again at
// once, so wait a little (or until woken) first rather than spin on it.
static Status Failed(const Entry& w, const std::string& what, DWORD err) {
  if (HANDLE wake = WakeHandle(w)) ::WaitForSingleObject(wake, 100);
  else ::Sleep(100);
  return win::WinError(what, err);
}

Status Accept(int listen_fd, int wake_fd, int timeout_ms, int* fd) {
  *fd = kNoSocket;
  Entry e = Get(listen_fd), w = Get(wake_fd);
  if (!e.listener) return Status::InvalidArgument("not a writer-pipe listener");
  Listener& l = *e.listener;
  if (l.next == INVALID_HANDLE_VALUE) {
    l.next = NewInstance(l, false);  // the last one could not be made: try again
    if (l.next == INVALID_HANDLE_VALUE) return Failed(w, "CreateNamedPipe", ::GetLastError());
  }
  bool connected = false;
  if (!l.pending) {
    l.ov = OVERLAPPED{};
    l.ov.hEvent = l.connected.h;
    if (::ConnectNamedPipe(l.next, &l.ov)) {
      connected = true;
    } else {
      const DWORD err = ::GetLastError();
      if (err == ERROR_PIPE_CONNECTED) connected = true;  // it came before we asked
      else if (err == ERROR_IO_PENDING) l.pending = true;
      else if (err == ERROR_NO_DATA) ::DisconnectNamedPipe(l.next);  // a client came and went: wait for the next
      else {
        ::CloseHandle(l.next);  // the next call makes a fresh instance
        l.next = INVALID_HANDLE_VALUE;
        return Failed(w, "ConnectNamedPipe", err);
      }
    }
  }
  if (l.pending) {
    HANDLE hs[2] = {l.connected.h, WakeHandle(w)};
    const DWORD r = ::WaitForMultipleObjects(hs[1] ? 2 : 1, hs, FALSE, timeout_ms < 0 ? INFINITE : DWORD(timeout_ms));
    if (r != WAIT_OBJECT_0) return Status::OK();  // timeout, or woken: the connect stays pending
    DWORD n;
    l.pending = false;
    if (!::GetOverlappedResult(l.next, &l.ov, &n, FALSE)) {
      ::DisconnectNamedPipe(l.next);  // the client left before we saw it
      return Status::OK();
    }
    connected = true;
  }
  if (!connected) return Status::OK();
  *fd = AddPipe(l.next);
  // The next client's instance, at once: until it exists a client's open
  // answers ERROR_PIPE_BUSY (Connect waits for it).
  l.next = NewInstance(l, false);
  return Status::OK();
}

Status CheckPeerIsOwner(int fd) {
  Entry e = Get(fd);
  if (!e.pipe) return Status::InvalidArgument("not a writer-pipe connection");
  return win::CheckClientUser(e.pipe->h);
}

Status Connect(const std::string& dir, int* fd) {
  const std::wstring name = win::PipeName(dir);
  // Busy: the writer is making its next instance (microseconds), or a dead
  // writer's pipe lives on with no instance listening (its clients' old
  // connections keep it) until the next writer adds one. Briefly, then
  // NotFound: the caller's loop retries, or takes the writer role.
  const int64_t busy_until = NowMs() + 50;
  HANDLE h;
  for (;;) {
    // SECURITY_IDENTIFICATION: the writer may learn who we are, never act as us.
    h = ::CreateFileW(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                      FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, nullptr);
    if (h != INVALID_HANDLE_VALUE) break;
    const DWORD err = ::GetLastError();
    // No pipe, or one going away with its writer: nobody listens.
    if (err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND || err == ERROR_PIPE_NOT_CONNECTED ||
        err == ERROR_BAD_PIPE || err == ERROR_NO_DATA)
      return Status::NotFound("no writer listens for " + dir);
    if (err != ERROR_PIPE_BUSY) return win::WinError("opening the writer pipe for " + dir, err);
    if (NowMs() >= busy_until) return Status::NotFound("the writer's pipe stayed busy for " + dir);
    ::WaitNamedPipeW(name.c_str(), 10);
  }
  Status s = win::CheckPipeOwner(h);
  if (!s.ok()) {
    ::CloseHandle(h);
    return s;
  }
  *fd = AddPipe(h);
  return Status::OK();
}

Status SendAll(int fd, const void* data, size_t n, int timeout_ms) {
  Entry e = Get(fd);
  if (!e.pipe) return Status::IoError("send on a closed writer-pipe connection");
  return win::Write(*e.pipe, data, n, timeout_ms);
}

Status RecvAll(int fd, void* out, size_t n, int timeout_ms, int spin_us) {
  Entry e = Get(fd);
  if (!e.pipe) return Status::IoError("receive on a closed writer-pipe connection");
  return win::Read(*e.pipe, out, n, timeout_ms, spin_us);
}

Status RecvMessage(int fd, std::string* body, uint32_t max_len, int timeout_ms, int spin_us) {
  // The pipe's own buffer batches the reads: a length, then the body.
  const int64_t deadline = timeout_ms < 0 ? -1 : NowMs() + timeout_ms;
  uint32_t len;
  CW_RETURN_IF_ERROR(RecvAll(fd, &len, sizeof len, timeout_ms, spin_us));
  if (len > max_len) return Status::InvalidArgument("message length " + std::to_string(len) + " is out of bounds");
  body->resize(len);
  if (len == 0) return Status::OK();
  const int left = deadline < 0 ? -1 : static_cast<int>(std::max<int64_t>(1, deadline - NowMs()));
  Status s = RecvAll(fd, body->data(), len, left);
  if (s.code() == Status::Code::kNotFound) return Status::IoError("the peer closed the connection mid-message");
  return s;
}

Status RecvSome(int fd, void* out, size_t n, size_t* got) {
  *got = 0;
  Entry e = Get(fd);
  if (!e.pipe) return Status::Closed("the connection is closed");
  Pipe& p = *e.pipe;
  std::lock_guard<std::mutex> g(p.rmu);
  switch (win::Fill(p, nullptr, NowMs(), {})) {
    case Got::kData:
      *got = std::min(n, p.len - p.pos);
      std::memcpy(out, p.buf + p.pos, *got);
      p.pos += *got;
      return Status::OK();
    case Got::kEnd:
      return Status::Closed("the peer closed the connection");
    default:
      return Status::OK();
  }
}

Status WaitReadable(int fd, int wake_fd, int timeout_ms, bool* ready) {
  *ready = false;
  Entry e = Get(fd), w = Get(wake_fd);
  if (e.wake) {  // an interruptible sleep on a wake handle (writer_link.cc)
    HANDLE hs[2] = {e.wake->h, WakeHandle(w)};
    const DWORD r = ::WaitForMultipleObjects(hs[1] ? 2 : 1, hs, FALSE, timeout_ms < 0 ? INFINITE : DWORD(timeout_ms));
    *ready = r == WAIT_OBJECT_0;
    return Status::OK();
  }
  if (!e.pipe) return Status::InvalidArgument("not a writer-pipe connection");
  Pipe& p = *e.pipe;
  std::lock_guard<std::mutex> g(p.rmu);
  const Got got = win::Fill(p, WakeHandle(w), timeout_ms < 0 ? -1 : NowMs() + timeout_ms, {});
  *ready = got == Got::kData || got == Got::kEnd;
  return Status::OK();
}

void Shutdown(int fd) {
  Entry e = Get(fd);
  if (e.pipe) win::CloseEnd(*e.pipe);
}

void ShutdownRead(int fd) {
  Entry e = Get(fd);
  if (e.pipe) ::SetEvent(e.pipe->stop_read.h);
}

void Close(int fd) {
  Entry e;
  {
    std::lock_guard<std::mutex> g(g_mu);
    auto it = Table().find(fd);
    if (it == Table().end()) return;
    e = std::move(it->second);
    Table().erase(it);
  }
  if (e.pipe) win::CloseEnd(*e.pipe);
  if (e.listener && e.listener->next != INVALID_HANDLE_VALUE) {
    Listener& l = *e.listener;
    if (l.pending) {
      ::CancelIoEx(l.next, &l.ov);
      DWORD n;
      ::GetOverlappedResult(l.next, &l.ov, &n, TRUE);
    }
    ::CloseHandle(l.next);
    l.next = INVALID_HANDLE_VALUE;
  }
}

// A pipe has no file to remove: its name goes with the writer's last handle.
void Unlink(const std::string&) {}

Status MakeWakePipe(int fds[2]) {
  auto ev = std::make_shared<Event>();
  if (!ev->h) return win::WinError("CreateEvent", ::GetLastError());
  fds[0] = Add(Entry{ev, nullptr, nullptr});
  fds[1] = Add(Entry{ev, nullptr, nullptr});
  return Status::OK();
}

void Wake(int write_fd) {
  Entry e = Get(write_fd);
  if (e.wake) ::SetEvent(e.wake->h);
}

}  // namespace causeway::sock
#endif
