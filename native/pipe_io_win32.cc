// pipe_io_win32.h: reading and writing one end of the writer pipe.
#if defined(_WIN32)
#include "pipe_io_win32.h"

#include <algorithm>
#include <cstring>

namespace causeway::sock::win {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {

bool Gone(DWORD e) {
  return e == ERROR_BROKEN_PIPE || e == ERROR_PIPE_NOT_CONNECTED || e == ERROR_NO_DATA || e == ERROR_OPERATION_ABORTED ||
         e == ERROR_INVALID_HANDLE;
}

// Collects the outstanding read (waiting for it when `wait`). False while it
// is still in flight.
bool Collect(Pipe& p, bool wait) {
  DWORD n = 0;
  if (!::GetOverlappedResult(p.h, &p.rov, &n, wait ? TRUE : FALSE)) {
    const DWORD e = ::GetLastError();
    if (e == ERROR_IO_INCOMPLETE) return false;
    p.rpending = false;
    if (e == ERROR_OPERATION_ABORTED) return true;  // cancelled by StopReading: nothing came
    p.end = true;
    p.rerr = Gone(e) ? 0 : e;
    return true;
  }
  p.rpending = false;
  p.pos = 0;
  p.len = n;
  return true;
}

// Starts a read when none is out and nothing is buffered. True when bytes or
// the end are there to take.
bool Arm(Pipe& p) {
  if (p.len > p.pos || p.end) return true;
  if (p.h == INVALID_HANDLE_VALUE) {
    p.end = true;
    return true;
  }
  if (!p.rpending) {
    p.rov = OVERLAPPED{};
    p.rov.hEvent = p.rdone.h;  // ReadFile resets it
    if (!::ReadFile(p.h, p.buf, sizeof p.buf, nullptr, &p.rov) && ::GetLastError() != ERROR_IO_PENDING) {
      const DWORD e = ::GetLastError();
      p.end = true;
      p.rerr = Gone(e) ? 0 : e;
      return true;
    }
    p.rpending = true;
  }
  return Collect(p, false) && (p.len > p.pos || p.end);
}

// After ShutdownRead: what had arrived is still read, then the end. Later
// arrivals are read too while the reader goes on (they get the writer's
// `closed` reply, which is what the peer's failed send means on POSIX).
void StopReading(Pipe& p) {
  if (p.rpending) {
    ::CancelIoEx(p.h, &p.rov);
    Collect(p, true);  // it may have finished first: its bytes are kept
  }
  if (p.len > p.pos || p.end) return;
  DWORD avail = 0;
  if (!::PeekNamedPipe(p.h, nullptr, 0, nullptr, &avail, nullptr) || avail == 0) {
    p.end = true;
    return;
  }
  if (!Arm(p)) Collect(p, true);  // bytes are waiting: the read finishes at once
}

}  // namespace

Got Fill(Pipe& p, HANDLE wake, int64_t deadline, std::chrono::steady_clock::time_point spin_until) {
  for (;;) {
    if (p.len > p.pos) return Got::kData;
    if (p.end) return Got::kEnd;
    if (p.stop_read.IsSet()) {
      StopReading(p);
      continue;
    }
    if (Arm(p)) continue;
    if (std::chrono::steady_clock::now() < spin_until) {
      for (int i = 0; i < 32; i++) YieldProcessor();
      continue;
    }
    int64_t left = deadline < 0 ? -1 : deadline - NowMs();
    if (left < 0 && deadline >= 0) left = 0;
    HANDLE hs[3] = {p.rdone.h, p.stop_read.h, wake};
    const DWORD r = ::WaitForMultipleObjects(wake ? 3 : 2, hs, FALSE, left < 0 ? INFINITE : static_cast<DWORD>(left));
    if (r == WAIT_OBJECT_0 + 2) return Got::kWoken;
    if (r == WAIT_TIMEOUT) return Arm(p) ? (p.len > p.pos ? Got::kData : Got::kEnd) : Got::kTimeout;
    if (r == WAIT_FAILED) {
      p.end = true;
      p.rerr = ::GetLastError();
    }
  }
}

Status EndStatus(const Pipe& p, bool mid_message) {
  if (p.rerr) return win::WinError("reading the writer pipe", p.rerr);
  if (mid_message) return Status::IoError("the peer closed the connection mid-message");
  return Status::NotFound("closed");
}

// Cancels what is in flight and closes the handle; the peer reads what we
// sent, then its end. (No DisconnectNamedPipe: it would drop a last reply
// the client has not read yet.)
void CloseEnd(Pipe& p) {
  ::SetEvent(p.stop_read.h);
  ::SetEvent(p.stop_all.h);
  std::lock_guard<std::mutex> r(p.rmu);
  std::lock_guard<std::mutex> w(p.wmu);
  if (p.h == INVALID_HANDLE_VALUE) return;
  if (p.rpending) {
    ::CancelIoEx(p.h, &p.rov);
    Collect(p, true);
  }
  ::CloseHandle(p.h);
  p.h = INVALID_HANDLE_VALUE;
  p.end = true;
}

Status Write(Pipe& p, const void* data, size_t n, int timeout_ms) {
  std::lock_guard<std::mutex> g(p.wmu);
  const uint8_t* b = static_cast<const uint8_t*>(data);
  const int64_t deadline = timeout_ms < 0 ? 0 : NowMs() + timeout_ms;
  while (n > 0) {
    if (p.h == INVALID_HANDLE_VALUE || p.stop_all.IsSet()) return Status::IoError("the connection is shut down");
    const DWORD chunk = static_cast<DWORD>(n < (1u << 30) ? n : (1u << 30));
    p.wov = OVERLAPPED{};
    p.wov.hEvent = p.wdone.h;
    if (!::WriteFile(p.h, b, chunk, nullptr, &p.wov) && ::GetLastError() != ERROR_IO_PENDING)
      return win::WinError("writing to the writer pipe", ::GetLastError());
    const int64_t left = timeout_ms < 0 ? -1 : std::max<int64_t>(0, deadline - NowMs());
    HANDLE hs[2] = {p.wdone.h, p.stop_all.h};
    const DWORD r = ::WaitForMultipleObjects(2, hs, FALSE, left < 0 ? INFINITE : static_cast<DWORD>(left));
    if (r != WAIT_OBJECT_0) ::CancelIoEx(p.h, &p.wov);
    DWORD done = 0;
    const BOOL ok = ::GetOverlappedResult(p.h, &p.wov, &done, TRUE);  // after a cancel, until it is final
    b += done;
    n -= done;
    if (n == 0) break;
    if (!ok && ::GetLastError() != ERROR_OPERATION_ABORTED) return win::WinError("writing to the writer pipe", ::GetLastError());
    if (r == WAIT_TIMEOUT)
      return Status::WriterUnavailable("the writer took no request bytes for " + std::to_string(timeout_ms) + " ms");
    if (r != WAIT_OBJECT_0) return Status::IoError("the connection is shut down");
  }
  return Status::OK();
}

Status Read(Pipe& p, void* out, size_t n, int timeout_ms, int spin_us) {
  std::lock_guard<std::mutex> g(p.rmu);
  uint8_t* b = static_cast<uint8_t*>(out);
  const size_t want = n;
  const int64_t deadline = timeout_ms < 0 ? -1 : NowMs() + timeout_ms;
  const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(spin_us);
  while (n > 0) {
    switch (Fill(p, nullptr, deadline, spin_until)) {
      case Got::kData: {
        const size_t k = std::min(n, p.len - p.pos);
        std::memcpy(b, p.buf + p.pos, k);
        p.pos += k;
        b += k;
        n -= k;
        break;
      }
      case Got::kEnd:
        return EndStatus(p, n != want);
      case Got::kTimeout:
      case Got::kWoken:
        return Status::WriterUnavailable("no reply within " + std::to_string(timeout_ms) + " ms");
    }
  }
  return Status::OK();
}

}  // namespace causeway::sock::win
#endif
