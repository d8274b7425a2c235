// The writer link's shared-memory channel (native/link_channel.h): a real
// region passed over a real socketpair, the writer side on a thread.

#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../link_channel.h"
#include "../link_wire.h"
#include "fixture.h"

namespace causeway::test {
namespace {

using link::Channel;

// A client and a writer end: the client's region handed over with SendFd.
struct Pair {
  int client = -1, writer = -1, region = -1;  // region: a copy of the client's descriptor
  std::unique_ptr<Channel> client_ch, writer_ch;
  ~Pair() {
    if (client >= 0) ::close(client);
    if (writer >= 0) ::close(writer);
    if (region >= 0) ::close(region);
  }
};

bool Open(Pair* p) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return false;
  p->client = sv[0];
  p->writer = sv[1];
  Channel* c = nullptr;
  int region = -1;
  if (!Channel::Create(&c, &region).ok()) return false;
  p->client_ch.reset(c);
  p->region = ::dup(region);
  if (!link::SendFd(p->client, region, 1000).ok()) return false;
  int got = -1;
  if (!link::RecvFd(p->writer, 1000, &got).ok()) return false;
  Channel* w = nullptr;
  if (!Channel::Attach(got, &w).ok()) return false;
  p->writer_ch.reset(w);
  return true;
}

TEST(ChannelLosesOrMixesUpRequestsAndReplies) {
  Pair p;
  CHECK(Open(&p));
  std::atomic<bool> stopping{false};
  // The writer echoes each request reversed; sleeps now and then so both
  // the spinning and the doorbell paths run.
  std::thread writer([&] {
    std::string req;
    for (int i = 0;; i++) {
      if (!p.writer_ch->Take(p.writer, i % 3 == 0 ? 0 : 50, stopping, &req).ok()) return;
      if (i % 7 == 0) std::this_thread::sleep_for(std::chrono::microseconds(300));
      if (!p.writer_ch->Reply(p.writer, std::string(req.rbegin(), req.rend())).ok()) return;
    }
  });
  for (int i = 0; i < 2000; i++) {
    const std::string req = "request " + std::to_string(i);
    std::string reply;
    CHECK_OK(p.client_ch->Call(p.client, req, 5000, i % 2 ? 0 : 100, &reply));
    CHECK_EQ(reply, std::string(req.rbegin(), req.rend()));
  }
  // A request of the whole capacity round-trips too.
  std::string big(Channel::kRequestCapacity, 'x');
  big[0] = 'a';
  std::string reply;
  CHECK_OK(p.client_ch->Call(p.client, big, 5000, 0, &reply));
  CHECK_EQ(reply.size(), big.size());
  CHECK_EQ(reply.back(), 'a');
  ::shutdown(p.writer, SHUT_RD);  // what WriterServer::Stop does
  stopping = true;
  writer.join();
}

TEST(ChannelAppliesARequestItsClientAlreadyGaveUpOn) {
  Pair p;
  CHECK(Open(&p));
  std::string reply;
  // Nobody takes it: the client gives up after the timeout, and the slot
  // says so, so a writer that wakes later does not apply it.
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_CODE(p.client_ch->Call(p.client, "late", 100, 0, &reply), Status::Code::kWriterUnavailable);
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(95));
  std::atomic<bool> stopping{false};
  std::string req;
  ::shutdown(p.client, SHUT_WR);  // the client drops the connection
  CHECK_CODE(p.writer_ch->Take(p.writer, 0, stopping, &req), Status::Code::kNotFound);
  CHECK(req.empty());
}

TEST(ChannelCallsANeverTakenRequestUnknownOutcome) {
  // A writer that stops without taking the request: the client learns that
  // nothing was applied (Closed, which the link resends), not "unknown".
  Pair p;
  CHECK(Open(&p));
  std::atomic<bool> stopping{true};
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::string req;
    (void)p.writer_ch->Take(p.writer, 0, stopping, &req);  // stopping: takes nothing
    ::shutdown(p.writer, SHUT_RDWR);
  });
  std::string reply;
  CHECK_CODE(p.client_ch->Call(p.client, "append", 5000, 0, &reply), Status::Code::kClosed);
  writer.join();
}

TEST(ChannelReportsAWriterThatDiedAfterTakingTheRequestAsClosed) {
  // Taken, then the writer is gone: the outcome is unknown, and the client
  // must say so (WriterUnavailable: retry with the idempotency key).
  Pair p;
  CHECK(Open(&p));
  std::atomic<bool> stopping{false};
  std::thread writer([&] {
    std::string req;
    if (p.writer_ch->Take(p.writer, 1000, stopping, &req).ok()) ::shutdown(p.writer, SHUT_RDWR);
  });
  std::string reply;
  CHECK_CODE(p.client_ch->Call(p.client, "append", 5000, 0, &reply), Status::Code::kWriterUnavailable);
  writer.join();
}

TEST(ChannelMapsARegionOfTheWrongSize) {
  int sv[2];
  CHECK(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  // A pipe's descriptor is no region: Attach refuses it instead of mapping.
  int fds[2];
  CHECK(::pipe(fds) == 0);
  CHECK_OK(link::SendFd(sv[0], fds[0], 1000));
  int got = -1;
  CHECK_OK(link::RecvFd(sv[1], 1000, &got));
  Channel* w = nullptr;
  CHECK_CODE(Channel::Attach(got, &w), Status::Code::kInvalidArgument);
  // No descriptor at all (a plain byte) is a malformed message.
  const char b = 1;
  CHECK(::write(sv[0], &b, 1) == 1);
  CHECK_CODE(link::RecvFd(sv[1], 1000, &got), Status::Code::kInvalidArgument);
  ::close(fds[0]);
  ::close(fds[1]);
  ::close(sv[0]);
  ::close(sv[1]);
}

TEST(ChannelSpinsTheWritersCoreWhileAReplyWaitsToBeRead) {
  // After its reply the writer's thread waits for the next request; while
  // the client has not yet copied the reply (it may be asleep), that wait
  // must sleep, not spin: measured as the thread's own CPU time. The client
  // here is the region itself, driven through the layout in PROTOCOL.md.
  Pair p;
  CHECK(Open(&p));
  const size_t header = 4096;
  void* base = ::mmap(nullptr, header + 8, PROT_READ | PROT_WRITE, MAP_SHARED, p.region, 0);
  CHECK(base != MAP_FAILED);
  auto* state = reinterpret_cast<std::atomic<uint32_t>*>(static_cast<uint8_t*>(base) + 64);
  auto* request_len = reinterpret_cast<uint32_t*>(static_cast<uint8_t*>(base) + 256);
  std::memcpy(static_cast<uint8_t*>(base) + header, "request", 7);
  *request_len = 7;
  state->store(1);  // a request, never read back: the reply stays unread
  std::atomic<bool> stopping{false};
  int64_t cpu_us = -1;
  std::thread writer([&] {
    std::string req;
    if (!p.writer_ch->Take(p.writer, 0, stopping, &req).ok() || req != "request") return;
    if (!p.writer_ch->Reply(p.writer, "reply").ok()) return;
    timespec a, b;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    (void)p.writer_ch->Take(p.writer, 0, stopping, &req);  // returns once the client closes
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    cpu_us = (b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK_EQ(state->load(), 3u);  // the reply, unread
  ::shutdown(p.client, SHUT_RDWR);
  writer.join();
  ::munmap(base, header + 8);
  CHECK(cpu_us >= 0);
  CHECK(cpu_us < 100000);  // spinning would be about 300000
}

TEST(ChannelTakesABatchWhoseReplyCannotFit) {
  // Fits admits a batch only if its reply, receipts or refusal, fits the
  // reply area: the writer could not answer it otherwise, once applied.
  size_t n = 1;
  while (Channel::Fits(0, n + 1)) n++;
  std::vector<Receipt> receipts(n);
  AppendError none;
  CHECK(link::EncodeAppendReply(Status::OK(), receipts.data(), n, none).size() <= Channel::kReplyCapacity);
  AppendError refused;
  refused.item = 7;
  refused.entity = std::string(65536, 'e');
  const Status conflict = Status::SequenceMismatch(std::string(65536, 'm'));
  CHECK(link::EncodeAppendReply(conflict, receipts.data(), n, refused).size() <= Channel::kReplyCapacity);
  CHECK(!Channel::Fits(Channel::kRequestCapacity + 1, 1));
}


// The spinning policy (spin_policy.h), on times given to it.
using link::SpinPolicy;
using link::SpinStep;
const SpinPolicy::Clock::time_point kT0{std::chrono::seconds(1000)};

TEST(SpinPolicyLeavesBothSidesTakingTurnsOnOneCpu) {
  SpinPolicy p;
  // The other side spins on this CPU: the writer's side sleeps to be woken elsewhere.
  CHECK(p.Next(kT0, true, true, true) == SpinStep::kPart);
  p.Parted(kT0 + std::chrono::microseconds(70), true);
  // Parted: back to yielding (and skipping empty yields).
  CHECK(p.Next(kT0 + std::chrono::milliseconds(1), true, false, true) == SpinStep::kYield);
  // Together again (a doorbell's wake-up): part again at once.
  CHECK(p.Next(kT0 + std::chrono::milliseconds(2), true, true, true) == SpinStep::kPart);
}

TEST(SpinPolicyKeepsSleepingWhenEveryCpuIsBusy) {
  SpinPolicy p;
  CHECK(p.Next(kT0, true, true, true) == SpinStep::kPart);
  // Woken on the same CPU: none was idle. Take turns by yielding instead,
  // even right after an empty yield, until kNoParting has passed.
  auto t = kT0 + std::chrono::microseconds(100);
  p.Parted(t, false);
  CHECK(p.Next(t, true, true, true) == SpinStep::kYield);
  p.Yielded(t, std::chrono::microseconds(1));
  for (int i = 1; i < 10; i++) CHECK(p.Next(t + std::chrono::milliseconds(i), true, true, true) == SpinStep::kYield);
  CHECK(p.Next(t + SpinPolicy::kNoParting, true, true, true) == SpinStep::kPart);
}

TEST(SpinPolicyMakesASystemCallAtEveryYieldPoint) {
  SpinPolicy p;
  CHECK(p.Next(kT0, true, false, true) == SpinStep::kYield);
  p.Yielded(kT0, std::chrono::microseconds(1));  // nobody else wanted the CPU
  CHECK(p.Next(kT0 + std::chrono::microseconds(500), true, false, true) == SpinStep::kSkip);
  auto later = kT0 + SpinPolicy::kQuiet;
  CHECK(p.Next(later, true, false, true) == SpinStep::kYield);
  p.Yielded(later, std::chrono::microseconds(50));  // another thread ran: keep yielding
  CHECK(p.Next(later + std::chrono::microseconds(100), true, false, true) == SpinStep::kYield);
  // A quiet spell never skips the turn of another side found on this CPU.
  p.Yielded(later, std::chrono::microseconds(1));
  CHECK(p.Next(later + std::chrono::microseconds(200), true, true, true) == SpinStep::kPart);
}

TEST(SpinPolicySkipsTheYieldThatLetsTheOtherSideRunOnItsOnlyCpu) {
  SpinPolicy p;
  for (int i = 0; i < 10; i++) {
    const auto t = kT0 + std::chrono::microseconds(10 * i);
    CHECK(p.Next(t, false, i % 2 == 0, true) == SpinStep::kYield);
    p.Yielded(t, std::chrono::microseconds(1));
  }
}

TEST(SpinPolicyLetsBothSidesSleepToPartAtOnce) {
  // The client's side never parts: it yields its turn (else both could sleep
  // at once and meet again on the idle CPU).
  SpinPolicy p;
  for (int i = 0; i < 3; i++) CHECK(p.Next(kT0 + std::chrono::microseconds(10 * i), true, true, false) == SpinStep::kYield);
}

}  // namespace
}  // namespace causeway::test
