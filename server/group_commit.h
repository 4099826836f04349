// Group commit: one writer thread turns the mutations of many concurrent
// requests into one store transaction, and only then runs their completions
// (which send the replies). So every reply follows the durable commit of what
// it announces, while one fsync serves a whole batch of requests.
//
// Batches commit in the order their mutations were submitted; the server
// submits while holding its state lock, so the store sees changes in the
// order the in-memory state made them.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "server/store.h"

namespace p2c2r::server {

class GroupCommit {
 public:
  // Called with the commit's status once the batch holding the mutations is
  // durable (or failed).
  using Done = std::function<void(const Status&)>;
  // Called if a commit fails: the in-memory state is then ahead of the disk,
  // which the server cannot repair, so it stops (fail-stop, restart reloads).
  using OnFailure = std::function<void(const Status&)>;

  GroupCommit(Store& store, OnFailure on_failure);
  ~GroupCommit();  // commits what is pending, then stops
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  void submit(std::vector<Mutation> mutations, Done done);
  // Blocks until everything submitted so far is committed.
  void flush();

  uint64_t commits() const { return commits_; }
  uint64_t mutations() const { return mutations_; }

 private:
  void run();

  Store& store_;
  OnFailure on_failure_;
  std::mutex mu_;
  std::condition_variable cv_, idle_cv_;
  std::vector<Mutation> pending_;
  std::vector<Done> waiting_;
  bool stop_ = false;
  bool busy_ = false;
  uint64_t commits_ = 0, mutations_ = 0;
  std::thread thread_;
};

}  // namespace p2c2r::server
