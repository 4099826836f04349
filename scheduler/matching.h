// Matching: which ready work unit a requesting host gets next.
//
// Pure policy over in-memory state; the server owns one ReadyQueue and calls
// it under its lock. Rules, in order:
//   1. A host gets only units it can run: it must have the unit's kernel at
//      the same version, enough device memory and every required feature,
//      and must not have reported a unit of the same shape (kernel and
//      parameters) unfit for its device.
//   2. Never two replicas of one unit to the same host (BOINC's rule; it is
//      what makes a quorum mean independent agreement).
//   3. Interactive units go only to hosts whose benchmark says they finish
//      the unit before its deadline.
//   4. Interactive units before batch units. Within a class the submitter
//      with the fewest replicas in flight goes first (fair share), and
//      within a submitter the earliest deadline goes first (EDF).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/wire.h"
#include "scheduler/planner.h"

namespace p2c2r::scheduler {

struct HostView {
  uint64_t id = 0;
  uint64_t memory_bytes = 0;
  std::set<std::string> features;
  struct Speed {
    uint32_t version = 0;
    double seconds_per_unit = 0;
  };
  std::map<std::string, Speed> kernels;
  // Shapes (ReadyUnit::shape) of units this host reported unfit: units of
  // one shape need the same device resources, so it gets none of them again.
  std::unordered_set<uint64_t> unfit_shapes;

  static HostView from_caps(uint64_t id, const wire::DeviceCaps& caps);
};

struct ReadyUnit {
  uint64_t unit_id = 0;
  uint64_t workload_id = 0;
  std::string submitter;
  Priority priority = Priority::kBatch;
  int64_t deadline_ms = 0;
  std::string kernel;
  uint32_t kernel_version = 0;
  wire::Requirements requires_;
  uint32_t replicas_wanted = 1;
  uint64_t shape = 0;           // a hash of kernel and parameters (server::unit_shape)
  std::vector<uint64_t> hosts;  // hosts that already hold a replica of this unit
};

// Empty when `host` may run `unit` at `now_ms`; otherwise why not.
std::string why_not(const HostView& host, const ReadyUnit& unit, int64_t now_ms);

class ReadyQueue {
 public:
  // Adds a unit wanting `replicas_wanted` replicas; if it is queued already,
  // its wanted count grows and its host list is replaced by `unit.hosts`.
  void add(ReadyUnit unit);
  void remove(uint64_t unit_id);
  bool contains(uint64_t unit_id) const { return units_.count(unit_id) != 0; }
  const ReadyUnit* find(uint64_t unit_id) const;

  // Picks a unit for `host`, records the host on it, counts the replica as
  // in flight for its submitter and drops the unit once it has all the
  // replicas it wanted. Returns the unit as it was picked.
  std::optional<ReadyUnit> take(const HostView& host, int64_t now_ms);

  // A replica of `submitter`'s ended (reported, errored, timed out).
  void replica_ended(const std::string& submitter);
  // Declares replicas in flight (on start-up, from the store).
  void replica_started(const std::string& submitter) { ++in_flight_[submitter]; }
  uint64_t in_flight(const std::string& submitter) const;

  size_t size() const { return units_.size(); }
  // Replicas wanted over all queued units.
  uint64_t replicas_wanted() const { return wanted_; }

  // How many entries one take() inspects per submitter before moving on, so a
  // host that can run almost nothing costs bounded time.
  static constexpr size_t kScanLimit = 512;

 private:
  struct Key {
    int64_t deadline_ms;
    uint64_t unit_id;
    auto operator<=>(const Key&) const = default;
  };
  using Lane = std::set<Key>;  // one submitter's units of one class, EDF order
  Lane& lane(const ReadyUnit& u) { return lanes_[static_cast<int>(u.priority)][u.submitter]; }

  std::unordered_map<uint64_t, ReadyUnit> units_;
  std::map<std::string, Lane> lanes_[2];  // [Priority]
  std::unordered_map<std::string, uint64_t> in_flight_;
  uint64_t wanted_ = 0;
};

// Replicas in flight ordered by when they time out.
class DeadlineQueue {
 public:
  void add(uint64_t replica_id, int64_t report_by_ms);
  void remove(uint64_t replica_id);
  // Removes and returns every replica whose report_by_ms < now_ms.
  std::vector<uint64_t> pop_expired(int64_t now_ms);
  // The earliest report_by_ms, if any (when to wake up next).
  std::optional<int64_t> next() const;
  size_t size() const { return by_id_.size(); }

 private:
  std::set<std::pair<int64_t, uint64_t>> by_time_;
  std::unordered_map<uint64_t, int64_t> by_id_;
};

}  // namespace p2c2r::scheduler
