#include "server/group_commit.h"

namespace p2c2r::server {

GroupCommit::GroupCommit(Store& store, OnFailure on_failure)
    : store_(store), on_failure_(std::move(on_failure)), thread_([this] { run(); }) {}

GroupCommit::~GroupCommit() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void GroupCommit::submit(std::vector<Mutation> mutations, Done done) {
  {
    std::lock_guard lock(mu_);
    for (auto& m : mutations) pending_.push_back(std::move(m));
    if (done) waiting_.push_back(std::move(done));
  }
  cv_.notify_one();
}

void GroupCommit::flush() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return pending_.empty() && waiting_.empty() && !busy_; });
}

void GroupCommit::run() {
  std::vector<Mutation> batch;
  std::vector<Done> dones;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      busy_ = false;
      idle_cv_.notify_all();
      cv_.wait(lock, [&] { return stop_ || !pending_.empty() || !waiting_.empty(); });
      if (pending_.empty() && waiting_.empty() && stop_) return;
      batch.swap(pending_);
      dones.swap(waiting_);
      busy_ = true;
    }
    const Status s = store_.apply(batch);
    if (s.ok()) {
      ++commits_;
      mutations_ += batch.size();
    }
    for (auto& d : dones) d(s);
    if (!s.ok() && on_failure_) on_failure_(s);
    batch.clear();
    dones.clear();
  }
}

}  // namespace p2c2r::server
