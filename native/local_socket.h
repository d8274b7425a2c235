// The writer link's transport (writer_server.h, writer_link.h): a listener
// only the store's user may reach, that refuses peers of another user, and
// blocking connections with deadlines. POSIX (local_socket.cc): a Unix
// domain socket "<dir>/writer.sock". Windows (local_socket_win32.cc): a
// named pipe whose name is derived from the directory (PROTOCOL.md); the
// ints below are then keys of a table of pipe states, not descriptors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "status.h"

namespace causeway::sock {

constexpr int kNoSocket = -1;
// The listener's file name inside the data directory.
constexpr char kSocketName[] = "writer.sock";
// True where the writer link exists (everywhere now: POSIX and Windows).
bool Supported();

// Binds and listens on "<dir>/writer.sock", replacing a stale file a dead
// writer left (the caller holds the store's lock, so no live writer owns
// it), then restricts it to the owner. Paths too long for sun_path go
// through /proc/self/fd/<dir fd>/ where Linux offers it. Windows: creates
// the pipe owner-only (or a new instance of a dead writer's pipe, when its
// owner is our user).
Status Listen(const std::string& dir, int* fd);
// Waits up to timeout_ms for a connection; *fd = kNoSocket on timeout or
// when `wake_fd` became readable (the listener is stopping).
Status Accept(int listen_fd, int wake_fd, int timeout_ms, int* fd);
// The peer runs as this process's effective user (SO_PEERCRED / getpeereid;
// Windows: the client process's token user SID).
Status CheckPeerIsOwner(int fd);
// Connects to "<dir>/writer.sock". NotFound: no socket file or nobody
// listening (a writer that died, or is still recovering). Windows: also
// refuses a pipe whose owner is another user.
Status Connect(const std::string& dir, int* fd);
// Sends all of [p, p+n) (MSG_NOSIGNAL: a dead peer is an error, not SIGPIPE).
Status SendAll(int fd, const void* p, size_t n, int timeout_ms);
// Receives exactly n bytes within timeout_ms (-1: no limit). A clean close
// before the first byte is NotFound("closed"); a close mid-message IoError;
// the deadline WriterUnavailable. For the first spin_us microseconds it
// polls without sleeping (yielding the CPU between tries): a reply that
// comes within a few microseconds then costs no wake-up.
Status RecvAll(int fd, void* p, size_t n, int timeout_ms, int spin_us = 0);
// One length-prefixed message (u32 length, then the body) into *body, read
// with as few system calls as it arrives in. Bounds as RecvAll; a length
// over max_len is InvalidArgument (the stream cannot be trusted after it).
Status RecvMessage(int fd, std::string* body, uint32_t max_len, int timeout_ms, int spin_us = 0);
// Whatever is readable now, up to n bytes, without waiting. *got = 0 and
// Closed when the peer closed.
Status RecvSome(int fd, void* p, size_t n, size_t* got);
// Waits until fd or wake_fd is readable or timeout_ms passes.
// *ready: fd is readable (or closed: a read tells).
Status WaitReadable(int fd, int wake_fd, int timeout_ms, bool* ready);
// Wakes a blocked recv or accept on another thread (shutdown), then close.
void Shutdown(int fd);
// Ends the reading side only: a blocked recv returns at the end of what is
// queued (a request already sent is still read); the peer's next send fails.
void ShutdownRead(int fd);
// Removes "<dir>/writer.sock" (the writer, at close). Windows: nothing (a pipe has no file).
void Unlink(const std::string& dir);
void Close(int fd);
// A pipe for waking a poll: [0] read end, [1] write end (Windows: one
// manual-reset event under both ints). Once woken, it stays readable.
Status MakeWakePipe(int fds[2]);
void Wake(int write_fd);

}  // namespace causeway::sock
