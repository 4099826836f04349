// Read-only reports for operators (GET /v1/reports/...): what happened to
// every replica of a unit, every unit of a workload, every host, and the
// whole server. Each report is taken from the in-memory state under the
// coordinator's lock, so it is one consistent picture (except hosts_report,
// see there); nothing here changes state.
#include <algorithm>
#include <map>
#include <unordered_map>

#include "server/coordinator.h"

namespace p2c2r::server {

namespace {

Reply ok_json(const wire::Json& j) { return {200, "application/json", j.dump()}; }

}  // namespace

wire::UnitLine Coordinator::unit_line(const Unit& u) const {
  wire::UnitLine line;
  line.id = u.row.id;
  line.index = u.row.idx;
  line.stage = u.row.stage;
  line.kernel = u.row.kernel;
  line.state = u.row.state;
  line.canonical = u.row.canonical;
  line.replicas = u.replicas.size();
  std::map<std::string, uint64_t> digests;  // reported digest -> replicas that reported it
  uint64_t reported = 0;
  for (uint64_t id : u.replicas) {
    const ReplicaRow& r = replicas_.at(id);
    line.valid += r.validity == "valid";
    line.invalid += r.validity == "invalid";
    line.errors += r.state == "error";
    line.timed_out += r.state == "timed_out";
    line.in_progress += r.state == "in_progress";
    if (r.state == "reported" && !r.digest.empty()) {
      ++digests[r.digest];
      ++reported;
    }
  }
  // Against the canonical digest once there is one; before that, against the
  // largest agreeing group (the one a quorum would most likely accept).
  uint64_t agreeing = 0;
  if (!u.row.canonical.empty()) {
    if (auto it = digests.find(u.row.canonical); it != digests.end()) agreeing = it->second;
  } else {
    for (const auto& [digest, n] : digests) agreeing = std::max(agreeing, n);
  }
  line.disagreements = reported - agreeing;
  return line;
}

Reply Coordinator::unit_report(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = units_.find(id);
  if (it == units_.end())
    return error_reply(not_found("unit " + std::to_string(id) + " does not exist"));
  const Unit& u = it->second;
  wire::UnitReport rep;
  rep.id = u.row.id;
  rep.workload_id = u.row.workload_id;
  rep.index = u.row.idx;
  rep.stage = u.row.stage;
  rep.kernel = u.row.kernel;
  rep.kernel_version = u.row.kernel_version;
  rep.params = u.params;
  rep.seed = u.row.seed;
  rep.state = u.row.state;
  rep.canonical = u.row.canonical;
  rep.reason = u.row.reason;
  for (uint64_t rid : u.replicas) {
    const ReplicaRow& r = replicas_.at(rid);
    const auto h = hosts_.find(r.host_id);
    rep.replicas.push_back({r.id, r.host_id, h == hosts_.end() ? "" : h->second.row.name, r.state,
                            r.validity, r.digest, r.error, r.sent_ms, r.report_by_ms,
                            r.reported_ms});
  }
  return ok_json(wire::to_json(rep));
}

Reply Coordinator::workload_report(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = workloads_.find(id);
  if (it == workloads_.end())
    return error_reply(not_found("workload " + std::to_string(id) + " does not exist"));
  wire::WorkloadReport rep;
  rep.workload = status_of(it->second);
  for (uint64_t uid : it->second.units) rep.units.push_back(unit_line(units_.at(uid)));
  return ok_json(wire::to_json(rep));
}

// Each host exactly as GET /v1/hosts describes it (so whatever that record
// grows, such as reliability and quarantine, shows here too), plus counts
// that only the replicas know. The two are read under separate locks: a
// result landing in between can make the counts one result apart.
Reply Coordinator::hosts_report() {
  Reply listed = list_hosts();
  if (listed.status != 200) return listed;
  const wire::Json list = wire::Json::parse(listed.body, nullptr, false);
  if (!list.is_array()) return error_reply(internal_error("host list is not a JSON array"));
  std::vector<wire::HostReport> reports;
  for (const auto& j : list) {
    auto info = wire::from_json<wire::HostInfo>(j);
    if (!info.ok()) return error_reply(info.status().with_context("host list"));
    reports.push_back({*info, 0, 0});
  }
  std::lock_guard lock(mu_);
  std::unordered_map<uint64_t, wire::HostReport*> by_id;
  for (auto& r : reports) by_id[r.host.id] = &r;
  for (const auto& [id, r] : replicas_) {
    auto h = by_id.find(r.host_id);
    if (h == by_id.end()) continue;
    h->second->timed_out_results += r.state == "timed_out";
    h->second->in_progress += r.state == "in_progress";
    h->second->unfit_results += r.state == "unfit";
    if (!r.ringer()) continue;
    h->second->ringers_passed += r.validity == "valid";
    h->second->ringers_failed +=
        r.validity == "invalid" || r.state == "error" || r.state == "timed_out";
  }
  wire::Json out = wire::Json::array();
  for (const auto& r : reports) out.push_back(wire::to_json(r));
  return ok_json(out);
}

Reply Coordinator::summary_report() {
  std::lock_guard lock(mu_);
  wire::ReportSummary s;
  s.hosts = hosts_.size();
  s.workloads = workloads_.size();
  uint64_t replicas_of_validated = 0;
  for (const auto& [id, u] : units_) {
    const std::string& st = u.row.state;
    if (st == "valid") {
      ++s.units_validated;
      replicas_of_validated += u.replicas.size();
    } else if (st == "failed") {
      ++s.units_failed;
    } else if (st == "cancelled") {
      ++s.units_cancelled;
    } else {
      ++s.units_in_progress;
    }
    s.units_with_disagreement += std::any_of(u.replicas.begin(), u.replicas.end(), [&](uint64_t r) {
      return replicas_.at(r).validity == "invalid";
    });
  }
  if (s.units_validated > 0)
    s.replicas_per_validated_unit =
        static_cast<double>(replicas_of_validated) / static_cast<double>(s.units_validated);
  s.replicas = replicas_.size();
  for (const auto& [id, r] : replicas_) {
    s.valid_results += r.validity == "valid";
    s.invalid_results += r.validity == "invalid";
    s.error_results += r.state == "error";
    s.timed_out_results += r.state == "timed_out";
  }
  // Spot checks: units this server decided to check behind a trusted host
  // (decisions are kept in memory, so since the last start), plus every
  // trusted re-execution (replicas of host 0, persisted).
  uint64_t spot = 0;
  for (const auto& [id, u] : units_)
    spot += u.decision && u.decision->check == validator::CheckBy::kAnotherHost;
  for (const auto& [id, r] : replicas_) spot += r.host_id == 0;
  s.spot_checks = spot;
  uint64_t quarantined = 0;
  for (const auto& [id, record] : book_.hosts()) quarantined += record.quarantined;
  s.quarantined_hosts = quarantined;
  std::map<std::string, double> by_submitter;
  for (const auto& [name, id] : submitter_ids_)
    by_submitter[name] = static_cast<double>(ledger_.submitter(id).granted) / 1e9;
  s.credit_by_submitter = std::move(by_submitter);
  return ok_json(wire::to_json(s));
}

}  // namespace p2c2r::server
