// Builds sealed segments' index files (index_part.h) on a thread of its
// own, so the append that seals a segment does not wait for them: the
// combiner submits the segment, goes on, and later collects the opened
// file and hands it to the index (IdDirectory::Attach).
//
// Threads: Submit, Collect and Stop are called by the store's writer (its
// combiner, or a thread holding the writer role); the builder thread only
// reads the segments it was given, which their shared_ptrs keep mapped.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cond_var.h"
#include "index_part.h"
#include "segment.h"
#include "status.h"

namespace causeway {

// Segments up to this size get their index file built at once, in the
// append that seals them (about a millisecond); larger ones in the background.
constexpr uint64_t kInlinePartBytes = 1 << 20;

class PartBuilder {
 public:
  struct Job {
    std::shared_ptr<Segment> segment;  // sealed
    uint32_t slot = 0;                 // its slot in the store's list when submitted
    // A file already serves the segment: with `verify`, that file is checked
    // first and rebuilt only if it fails; without, it is rebuilt (it failed).
    bool replace = false;
    std::shared_ptr<const IndexPart> verify;
    // Not a segment's file: a periodic checkpoint's bytes, written in turn (no segment).
    std::string checkpoint;

    static Job Build(std::shared_ptr<Segment> s, uint32_t slot, bool replace = false,
                     std::shared_ptr<const IndexPart> verify = nullptr) {
      Job j;
      j.segment = std::move(s);
      j.slot = slot;
      j.replace = replace;
      j.verify = std::move(verify);
      return j;
    }
  };
  struct Built {
    std::shared_ptr<Segment> segment;
    uint32_t slot = 0;
    bool replace = false;                   // the new file replaces the one that served the segment
    std::shared_ptr<const IndexPart> part;  // null when building failed (the segment keeps its in-memory ids)
    Status status;
  };

  PartBuilder(std::string dir, uint32_t file_mode) : dir_(std::move(dir)), file_mode_(file_mode) {}
  ~PartBuilder() { Stop(); }
  PartBuilder(const PartBuilder&) = delete;
  PartBuilder& operator=(const PartBuilder&) = delete;

  void Submit(Job job);
  // Relaxed: a hint for the combiner's fast path; Collect takes the lock.
  bool ready() const { return ready_.load(std::memory_order_relaxed); }
  // Everything built since the last call.
  void Collect(std::vector<Built>* out);
  // Finishes the file being built, drops the queue, joins the thread. Idempotent.
  void Stop();

  // Builds, writes and opens the index file of one sealed segment (the
  // builder's job, also used at open when a file is missing or damaged).
  static Status BuildOne(const Segment& seg, const std::string& dir, uint32_t file_mode,
                         std::shared_ptr<const IndexPart>* out);

 private:
  void Run();

  const std::string dir_;
  const uint32_t file_mode_;
  std::mutex mu_;
  CondVar cv_;
  std::deque<Job> queue_;
  std::vector<Built> done_;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<bool> ready_{false};
};

}  // namespace causeway
