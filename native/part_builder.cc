#include "part_builder.h"

#include "checkpoint.h"
#include "kill_point.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace causeway {

Status PartBuilder::BuildOne(const Segment& seg, const std::string& dir, uint32_t file_mode,
                             std::shared_ptr<const IndexPart>* out) {
  std::string bytes;
  Status built = BuildIndexPart(seg, seg.frontier().end, &bytes);
  // The build read every frame through the sealed segment's own mapping,
  // a second one beside the writer's: drop those page-table entries (the
  // pages stay cached), or the process counts the segment twice.
  platform::ReleaseMapped(const_cast<uint8_t*>(seg.data()), seg.size());
  CW_RETURN_IF_ERROR(built);
  const std::string name = Segment::FileName(seg.id());
  CW_RETURN_IF_ERROR(WriteIndexPart(dir, name, bytes, file_mode));
  std::unique_ptr<IndexPart> part;
  CW_RETURN_IF_ERROR(IndexPart::Open(IndexPartPath(dir, name), PartIdentityOf(seg), &part));
  *out = std::shared_ptr<const IndexPart>(part.release());
  return Status::OK();
}

void PartBuilder::Submit(Job job) {
  std::lock_guard<std::mutex> g(mu_);
  if (stopping_) return;
  queue_.push_back(std::move(job));
  if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
  cv_.NotifyOne();
}

void PartBuilder::Collect(std::vector<Built>* out) {
  std::lock_guard<std::mutex> g(mu_);
  for (auto& b : done_) out->push_back(std::move(b));
  done_.clear();
  ready_.store(false, std::memory_order_relaxed);
}

void PartBuilder::Stop() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stopping_ = true;
    queue_.clear();
    cv_.NotifyAll();
  }
  if (thread_.joinable()) thread_.join();
  // What was built stays in done_ for a last Collect; the files stay on disk either way.
}

void PartBuilder::Run() {
  std::unique_lock<std::mutex> g(mu_);
  for (;;) {
    while (queue_.empty() && !stopping_) cv_.WaitFor(g, 1000);
    if (stopping_) return;
    Job job = std::move(queue_.front());
    queue_.pop_front();
    g.unlock();
    if (!job.checkpoint.empty()) {
      // A cache: one that fails to write leaves the last one, still checked at open.
      (void)WriteCheckpointFile(dir_, job.checkpoint, file_mode_);
      KillPoint("periodic-checkpoint-written");
      g.lock();
      continue;
    }
    // A file that checks needs nothing (its check is remembered by the part the index holds).
    if (job.verify && job.verify->EnsureChecked().ok()) {
      g.lock();
      continue;
    }
    Built b;
    b.segment = job.segment;
    b.slot = job.slot;
    b.replace = job.replace;
    b.status = BuildOne(*job.segment, dir_, file_mode_, &b.part);
#if defined(__GLIBC__)
    // A build's scratch (a few times the file) was freed into this thread's
    // own malloc arena, which glibc keeps: hand it back to the system.
    malloc_trim(0);
#endif
    KillPoint("index-part-built");
    g.lock();
    done_.push_back(std::move(b));
    ready_.store(true, std::memory_order_relaxed);
  }
}

}  // namespace causeway
