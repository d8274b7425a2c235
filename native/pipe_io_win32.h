// The writer link's named-pipe ends on Windows (local_socket_win32.cc uses
// them): overlapped I/O with deadlines, wake-ups and ShutdownRead. Each end
// keeps one read outstanding into its own buffer: a pipe has no poll(), and
// that read finishing is what "readable" means here.
#pragma once

#if defined(_WIN32)
#include "pipe_security_win32.h"  // windows.h, lean

#include <chrono>
#include <cstdint>
#include <mutex>

#include "status.h"

namespace causeway::sock::win {

int64_t NowMs();

struct Event {
  HANDLE h = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);  // manual reset: stays set once set
  ~Event() {
    if (h) ::CloseHandle(h);
  }
  bool IsSet() const { return ::WaitForSingleObject(h, 0) == WAIT_OBJECT_0; }
};

// One end of a connection. A reader thread (rmu) and a writer thread (wmu)
// may use it at once, as the writer's notifier and a watch connection's
// Serve do; ShutdownRead comes from a third.
struct Pipe {
  HANDLE h = INVALID_HANDLE_VALUE;
  std::mutex rmu, wmu;
  Event rdone, wdone, stop_read, stop_all;
  OVERLAPPED rov{}, wov{};
  bool rpending = false;
  bool end = false;  // the peer closed, or we stopped reading and nothing is left
  DWORD rerr = 0;    // why the end came, when it was an error
  size_t pos = 0, len = 0;
  uint8_t buf[16384];
};

enum class Got { kData, kEnd, kTimeout, kWoken };

// Waits (the caller holds p.rmu) until bytes or the end are in p.buf, `wake`
// (may be null) is set or the deadline (ms on NowMs's clock, -1: none)
// passes; spins without sleeping until spin_until first.
Got Fill(Pipe& p, HANDLE wake, int64_t deadline, std::chrono::steady_clock::time_point spin_until);
// How the end came: NotFound("closed") for a clean close before a message,
// IoError mid-message or for an error.
Status EndStatus(const Pipe& p, bool mid_message);
// local_socket.h's SendAll and RecvAll on one end.
Status Write(Pipe& p, const void* data, size_t n, int timeout_ms);
Status Read(Pipe& p, void* out, size_t n, int timeout_ms, int spin_us);
// Stops both directions, cancels what is in flight and closes the handle.
void CloseEnd(Pipe& p);

}  // namespace causeway::sock::win
#endif
