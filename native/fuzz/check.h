// The fuzz targets' invariant check: a failed one aborts, which libFuzzer
// and the replay runner report as a crash with the input that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>

#define CHECK(c)                                                                      \
  do {                                                                                \
    if (!(c)) {                                                                       \
      std::fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)
