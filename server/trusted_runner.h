// Trusted re-execution: the server runs a work unit itself, on a Vulkan
// device it owns (lavapipe where there is no GPU), so that its result can
// settle a unit without trusting any host: spot checks of trusted hosts'
// single replicas (CheckBy::kServer), units whose quorum keeps failing, and
// re-checks of a caught host's unverified results.
//
// Promises: one worker thread owns the device and runs jobs in submission
// order; each job's `done` is called exactly once, on that thread, with the
// unit's output and digest or the error that stopped it (a missing input
// blob, a kernel that rejects its parameters, a device failure). stop()
// finishes the running job, drops the queued ones without calling them, and
// joins; after it, nothing is called any more.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "kernels/registry.h"
#include "runtime/execute.h"
#include "server/blob_store.h"

namespace p2c2r::server {

struct TrustedJob {
  uint64_t unit_id = 0;
  std::string kernel;
  uint64_t seed = 0;
  std::map<std::string, int64_t> params;  // as in the unit's manifest
  std::vector<std::string> inputs;        // input blob digests (hex), in order
  std::function<void(Result<runtime::UnitResult>)> done;
};

class TrustedRunner {
 public:
  // `device`, `registry` and `blobs` must outlive the runner.
  TrustedRunner(runtime::Device& device, const kernels::Registry& registry, BlobStore& blobs);
  ~TrustedRunner();
  TrustedRunner(const TrustedRunner&) = delete;
  TrustedRunner& operator=(const TrustedRunner&) = delete;

  void submit(TrustedJob job);
  // Waits until every job submitted so far has finished and been reported.
  void drain();
  void stop();
  uint64_t runs() const;

  // Runs one job on the calling thread (what the worker does for each job).
  static Result<runtime::UnitResult> run(runtime::Device& device, const kernels::Registry& registry,
                                         BlobStore& blobs, const TrustedJob& job);

 private:
  void loop();

  runtime::Device& device_;
  const kernels::Registry& registry_;
  BlobStore& blobs_;
  mutable std::mutex mu_;
  std::condition_variable cv_, idle_cv_;
  std::deque<TrustedJob> jobs_;
  bool busy_ = false, stopping_ = false;
  uint64_t runs_ = 0;
  std::thread worker_;
};

}  // namespace p2c2r::server
