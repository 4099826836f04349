#include "scheduler/matching.h"

#include <algorithm>

namespace p2c2r::scheduler {

HostView HostView::from_caps(uint64_t id, const wire::DeviceCaps& caps) {
  HostView h;
  h.id = id;
  h.memory_bytes = caps.memory_bytes;
  h.features.insert(caps.features.begin(), caps.features.end());
  for (const auto& k : caps.kernels) h.kernels[k.kernel] = {k.version, k.seconds_per_unit};
  return h;
}

std::string why_not(const HostView& host, const ReadyUnit& unit, int64_t now_ms) {
  auto k = host.kernels.find(unit.kernel);
  if (k == host.kernels.end()) return "host does not have kernel " + unit.kernel;
  if (k->second.version != unit.kernel_version)
    return "host has " + unit.kernel + " version " + std::to_string(k->second.version) +
           ", the unit needs " + std::to_string(unit.kernel_version);
  if (!host.unfit_shapes.empty() && host.unfit_shapes.count(unit.shape))
    return "host reported a " + unit.kernel + " unit with these parameters unfit for its device";
  if (host.memory_bytes < unit.requires_.memory_bytes)
    return "host has " + std::to_string(host.memory_bytes) +
           " bytes of device memory, the unit needs " + std::to_string(unit.requires_.memory_bytes);
  for (const auto& f : unit.requires_.features)
    if (!host.features.count(f)) return "host lacks feature " + f;
  if (std::find(unit.hosts.begin(), unit.hosts.end(), host.id) != unit.hosts.end())
    return "host already has a replica of this unit";
  if (unit.priority == Priority::kInteractive) {
    const double ms = k->second.seconds_per_unit * 1000.0;
    if (k->second.seconds_per_unit <= 0 || now_ms + ms > static_cast<double>(unit.deadline_ms))
      return "host's benchmark cannot meet the unit's deadline";
  }
  return "";
}

void ReadyQueue::add(ReadyUnit unit) {
  if (unit.replicas_wanted == 0) return;
  auto it = units_.find(unit.unit_id);
  if (it != units_.end()) {
    it->second.replicas_wanted += unit.replicas_wanted;
    it->second.hosts = std::move(unit.hosts);
    wanted_ += unit.replicas_wanted;
    return;
  }
  wanted_ += unit.replicas_wanted;
  lane(unit).insert({unit.deadline_ms, unit.unit_id});
  units_.emplace(unit.unit_id, std::move(unit));
}

void ReadyQueue::remove(uint64_t unit_id) {
  auto it = units_.find(unit_id);
  if (it == units_.end()) return;
  auto& l = lane(it->second);
  l.erase({it->second.deadline_ms, unit_id});
  if (l.empty()) lanes_[static_cast<int>(it->second.priority)].erase(it->second.submitter);
  wanted_ -= it->second.replicas_wanted;
  units_.erase(it);
}

const ReadyUnit* ReadyQueue::find(uint64_t unit_id) const {
  auto it = units_.find(unit_id);
  return it == units_.end() ? nullptr : &it->second;
}

std::optional<ReadyUnit> ReadyQueue::take(const HostView& host, int64_t now_ms) {
  for (auto& lanes : lanes_) {
    // Fair share: submitters with fewer replicas in flight first.
    std::vector<std::pair<uint64_t, const std::string*>> order;
    order.reserve(lanes.size());
    for (const auto& [submitter, l] : lanes) order.push_back({in_flight(submitter), &submitter});
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : *a.second < *b.second;
    });
    for (const auto& [count, submitter] : order) {
      const Lane& l = lanes.at(*submitter);
      size_t scanned = 0;
      for (auto it = l.begin(); it != l.end() && scanned < kScanLimit; ++it, ++scanned) {
        ReadyUnit& u = units_.at(it->unit_id);
        if (!why_not(host, u, now_ms).empty()) continue;
        u.hosts.push_back(host.id);
        ++in_flight_[u.submitter];
        --wanted_;
        ReadyUnit picked = u;
        picked.replicas_wanted = 1;
        if (--u.replicas_wanted == 0) remove(u.unit_id);
        return picked;
      }
    }
  }
  return std::nullopt;
}

void ReadyQueue::replica_ended(const std::string& submitter) {
  auto it = in_flight_.find(submitter);
  if (it == in_flight_.end() || it->second == 0) return;
  if (--it->second == 0) in_flight_.erase(it);
}

uint64_t ReadyQueue::in_flight(const std::string& submitter) const {
  auto it = in_flight_.find(submitter);
  return it == in_flight_.end() ? 0 : it->second;
}

void DeadlineQueue::add(uint64_t replica_id, int64_t report_by_ms) {
  remove(replica_id);
  by_time_.insert({report_by_ms, replica_id});
  by_id_[replica_id] = report_by_ms;
}

void DeadlineQueue::remove(uint64_t replica_id) {
  auto it = by_id_.find(replica_id);
  if (it == by_id_.end()) return;
  by_time_.erase({it->second, replica_id});
  by_id_.erase(it);
}

std::vector<uint64_t> DeadlineQueue::pop_expired(int64_t now_ms) {
  std::vector<uint64_t> out;
  while (!by_time_.empty() && by_time_.begin()->first < now_ms) {
    out.push_back(by_time_.begin()->second);
    by_id_.erase(by_time_.begin()->second);
    by_time_.erase(by_time_.begin());
  }
  return out;
}

std::optional<int64_t> DeadlineQueue::next() const {
  if (by_time_.empty()) return std::nullopt;
  return by_time_.begin()->first;
}

}  // namespace p2c2r::scheduler
