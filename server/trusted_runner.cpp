#include "server/trusted_runner.h"

namespace p2c2r::server {

TrustedRunner::TrustedRunner(runtime::Device& device, const kernels::Registry& registry,
                             BlobStore& blobs)
    : device_(device), registry_(registry), blobs_(blobs) {
  worker_ = std::thread([this] { loop(); });
}

TrustedRunner::~TrustedRunner() { stop(); }

void TrustedRunner::submit(TrustedJob job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void TrustedRunner::drain() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return stopping_ || (jobs_.empty() && !busy_); });
}

void TrustedRunner::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    jobs_.clear();
  }
  cv_.notify_all();
  idle_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

uint64_t TrustedRunner::runs() const {
  std::lock_guard lock(mu_);
  return runs_;
}

Result<runtime::UnitResult> TrustedRunner::run(runtime::Device& device,
                                               const kernels::Registry& registry, BlobStore& blobs,
                                               const TrustedJob& job) {
  P2C2R_ASSIGN_OR_RETURN(const kernels::Kernel* kernel, registry.find(job.kernel));
  P2C2R_ASSIGN_OR_RETURN(kernels::Params params, kernel->resolve_params(job.seed, job.params));
  std::vector<Bytes> inputs;
  for (const auto& hex : job.inputs) {
    auto blob = blobs.get(hex);
    if (!blob.ok()) return blob.status().with_context("input " + hex);
    inputs.push_back(std::move(*blob));
  }
  return runtime::execute_unit(device, *kernel, params, inputs);
}

void TrustedRunner::loop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
    if (stopping_) return;
    TrustedJob job = std::move(jobs_.front());
    jobs_.pop_front();
    busy_ = true;
    lock.unlock();
    auto result = run(device_, registry_, blobs_, job);
    job.done(std::move(result));
    lock.lock();
    busy_ = false;
    ++runs_;
    if (jobs_.empty()) idle_cv_.notify_all();
  }
}

}  // namespace p2c2r::server
