// Unit tests of causeway's C++ core (no Node-API): CRC32C, the BLAKE3
// wrapper, the frame codec, the frame scanner, segment files and the store.
//
// One program, no test framework: the tests are in native/test/*_test.cc by
// subject, their harness and helpers in fixture.{h,cc}, and this file is the
// runner. Each test is named after the failure it catches (LevelDB log_test
// style) and runs in a forked child by default, so a crash or a sanitizer
// abort in one test is reported as that test's failure and the others still
// run. Tests run (and --list prints them) in the order of CMakeLists.txt's
// file list, then of the file.
//
//   core_test                 run every test, one line per test
//   core_test NAME...         run the tests whose name contains one of NAME
//   core_test --no-fork ...   run in this process (for a debugger)
//   core_test --list          print the test names
//
// The exit code is non-zero when any test fails. Store tests work in a fresh
// directory under /tmp that is removed afterwards (kept when
// CAUSEWAY_KEEP_TEST_DIRS is set, for post-mortems).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "fixture.h"

int main(int argc, char** argv) {
  using causeway::test::Registry;
  bool fork_each = true;
  const bool keep_dirs = std::getenv("CAUSEWAY_KEEP_TEST_DIRS") != nullptr;
  std::vector<std::string> filters;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--no-fork") {
      fork_each = false;
    } else if (a == "--list") {
      for (const auto& t : Registry()) std::printf("%s\n", t.name);
      return 0;
    } else {
      filters.push_back(a);
    }
  }
  int run = 0, failed = 0;
  std::vector<std::string> failures;
  for (const auto& t : Registry()) {
    if (!filters.empty() &&
        std::none_of(filters.begin(), filters.end(), [&](const std::string& f) { return std::strstr(t.name, f.c_str()); }))
      continue;
    run++;
    std::fflush(stdout);
    const auto t0 = std::chrono::steady_clock::now();
    std::string verdict;
    char root_tmpl[] = "/tmp/cw-core-run-XXXXXX";
    if (!::mkdtemp(root_tmpl)) {
      std::perror("mkdtemp");
      return 2;
    }
    causeway::test::g_test_root = root_tmpl;
    if (fork_each) {
      pid_t pid = ::fork();
      if (pid < 0) {
        std::perror("fork");
        return 2;
      }
      if (pid == 0) {
        ::alarm(120);  // a hang is a failure too
        int rc = causeway::test::RunOne(t);
        std::fflush(stdout);
        std::fflush(stderr);
        std::exit(rc);  // exit, not _exit: sanitizers report leaks at exit
      }
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        verdict = "";
      } else if (WIFEXITED(status)) {
        verdict = "exit " + std::to_string(WEXITSTATUS(status));
      } else if (WIFSIGNALED(status)) {
        verdict = std::string("crashed: signal ") + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
      } else {
        verdict = "unknown wait status";
      }
    } else {
      verdict = causeway::test::RunOne(t) ? "failed" : "";
    }
    if (!keep_dirs) {
      std::error_code ec;
      std::filesystem::remove_all(causeway::test::g_test_root, ec);
    }
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (verdict.empty()) {
      std::printf("[  OK  ] %s (%.0f ms)\n", t.name, ms);
    } else {
      std::printf("[ FAIL ] %s (%.0f ms) %s\n", t.name, ms, verdict.c_str());
      failed++;
      failures.push_back(t.name);
    }
    std::fflush(stdout);
  }
  std::printf("%d tests, %d passed, %d failed\n", run, run - failed, failed);
  for (const auto& f : failures) std::printf("  FAILED: %s\n", f.c_str());
  return failed ? 1 : 0;
}
