// What a host asking for work gets (dispatch), and ringers (Golle &
// Mironov): replicas of units whose canonical result a check already
// confirmed, sent under fresh unit and workload ids so that the host sees
// ordinary work. They are the only work of a host on probation (until
// probation_valid_results in a row are right) and a ringer_fraction of every
// other host's dispatches. A ringer's verdict feeds host reliability and
// nothing else: it never makes or changes a canonical result, never joins a
// quorum, never feeds a downstream unit and earns no credit.
//
// Stored as a replica row of the source unit with ringer_unit and
// ringer_workload set (schema version 3); it is kept out of the source unit's
// replica list, so quorum, re-checks and reports of the unit never see it.
// Why this shape, and what a host can still infer: docs/validator.md.
#include <algorithm>

#include "server/coordinator.h"

namespace p2c2r::server {
namespace {

constexpr uint64_t kServerHost = 0;  // the trusted re-execution's replicas
// Candidates inspected per family for one ringer, newest first: bounded cost
// per dispatch however many units were ever validated.
constexpr size_t kRingerScan = 512;

Reply quarantined_reply(uint64_t host_id, const std::string& why) {
  const std::string id = std::to_string(host_id);
  return error_reply(permission_denied("host " + id + " is quarantined: " + why +
                                       "; it gets no work until an operator clears it (POST "
                                       "/v1/hosts/" +
                                       id + "/clear)"));
}

// A host on probation for which no ringer can be made right now.
Reply probation_reply(uint64_t host_id, const std::string& why, uint32_t needed) {
  const std::string id = std::to_string(host_id);
  return error_reply(permission_denied(
      "host " + id + " is on probation (" + why + "): it gets only checked units until " +
      std::to_string(needed) +
      " in a row are right, and none is available for it yet (no validated unit of a kernel it "
      "runs that it has not run before); ask again later"));
}

int severity(validator::Standing s) {
  return s == validator::Standing::kQuarantined ? 2 : s == validator::Standing::kProbation ? 1 : 0;
}

}  // namespace

Coordinator::Dispatch Coordinator::dispatch(Host& h, int64_t now, std::vector<Mutation>& ops) {
  const validator::Standing standing = worst_standing(h.row.id);
  if (standing == validator::Standing::kQuarantined)
    return {std::nullopt, quarantined_reply(h.row.id, quarantine_reason(h.row.id).value_or(""))};
  if (standing == validator::Standing::kProbation) {
    // Only ringers, never real work: the host has not yet shown it is honest again.
    if (auto body = assign_ringer(h, now, ops)) return {std::move(body), std::nullopt};
    return {std::nullopt, probation_reply(h.row.id, quarantine_reason(h.row.id).value_or(""),
                                          book_.config().probation_valid_results)};
  }
  if (validator::decide_ringer(book_.config(), book_.standing(h.row.id, ""), ringer_rng_))
    if (auto body = assign_ringer(h, now, ops)) return {std::move(body), std::nullopt};
  if (auto picked = ready_.take(h.view, now)) return {assign(h, *picked, now, ops), std::nullopt};
  return {};
}

validator::Standing Coordinator::worst_standing(uint64_t host_id) const {
  const auto& config = book_.config();
  validator::Standing worst = validator::standing_of(config, book_.host(host_id));
  const auto& families = book_.families();
  for (auto it = families.lower_bound({host_id, ""});
       it != families.end() && it->first.first == host_id; ++it) {
    const auto s = validator::standing_of(config, it->second);
    if (severity(s) > severity(worst)) worst = s;
  }
  return worst;
}

// Whether `u` can be sent to `h` as a ringer: its canonical result was
// confirmed by a check (two agreeing hosts or the server itself, not one
// host's word), its inputs are still canonical, the host can run it under the
// ordinary matching rules, and the host has never held a replica or ringer of
// it (it would recognise the content, or replay its earlier answer).
bool Coordinator::ringer_source_for(const Host& h, const Unit& u, int64_t now) const {
  if (u.row.state != "valid" || u.row.canonical.empty()) return false;
  uint32_t agreeing = 0;
  bool by_server = false;
  for (uint64_t rid : u.replicas) {
    const ReplicaRow& r = replicas_.at(rid);
    if (r.host_id == h.row.id) return false;
    if (r.validity != "valid" || r.digest != u.row.canonical) continue;
    ++agreeing;
    by_server |= r.host_id == kServerHost;
  }
  if (!by_server && agreeing < 2) return false;
  if (auto seen = ringers_of_host_.find(h.row.id);
      seen != ringers_of_host_.end() && seen->second.count(u.row.id))
    return false;
  for (uint32_t i = 0; i < u.inputs_from_deps && i < u.deps.size(); ++i) {
    const Unit& dep = units_.at(u.deps[i]);
    if (dep.row.state != "valid" || dep.row.canonical.empty()) return false;
  }
  const Workload& w = workloads_.at(u.row.workload_id);
  scheduler::ReadyUnit probe;
  probe.unit_id = u.row.id;
  probe.priority = w.priority;
  probe.deadline_ms = now + u.row.delay_bound_ms;
  probe.kernel = u.row.kernel;
  probe.kernel_version = u.row.kernel_version;
  probe.requires_ = w.requires_;
  probe.shape = u.shape;
  return scheduler::why_not(h.view, probe, now).empty();
}

std::optional<std::string> Coordinator::assign_ringer(Host& h, int64_t now,
                                                      std::vector<Mutation>& ops) {
  // Families the host is on probation for first: only their ringers advance
  // those records. Otherwise (or when there are none) any family it runs.
  std::vector<uint64_t> candidates;
  auto scan = [&](const std::vector<uint64_t>& ids) {
    size_t looked = 0;
    for (auto it = ids.rbegin(); it != ids.rend() && looked < kRingerScan; ++it, ++looked)
      if (ringer_source_for(h, units_.at(*it), now)) candidates.push_back(*it);
  };
  const auto& families = book_.families();
  for (auto it = families.lower_bound({h.row.id, ""});
       it != families.end() && it->first.first == h.row.id; ++it)
    if (it->second.quarantined)
      if (auto s = ringer_sources_.find(it->first.second); s != ringer_sources_.end())
        scan(s->second);
  if (candidates.empty())
    for (const auto& [family, ids] : ringer_sources_) scan(ids);
  if (candidates.empty()) return std::nullopt;
  const Unit& src = units_.at(candidates[ringer_rng_.below(candidates.size())]);
  const Workload& w = workloads_.at(src.row.workload_id);

  // Fresh ids from the same sequences as real work: never seen before, never
  // marked. The deadline is as far off as the source's was from its submission.
  wire::Manifest m;
  m.unit_id = next_unit_++;
  m.workload_id = next_workload_++;
  m.kernel = src.row.kernel;
  m.kernel_version = src.row.kernel_version;
  m.params = src.params;
  m.seed = src.row.seed;
  m.inputs = inputs_of(src);
  m.deadline_ms = now + std::max(src.row.delay_bound_ms, src.row.deadline_ms - w.row.created_ms);

  ReplicaRow r = sent_replica(src.row.id, h.row.id, now, src.row.delay_bound_ms);
  r.ringer_unit = m.unit_id;
  r.ringer_workload = m.workload_id;
  replicas_[r.id] = r;
  h.active.insert(r.id);
  deadlines_.add(r.id, r.report_by_ms);
  ringers_of_host_[h.row.id].insert(src.row.id);
  ops.push_back(r);
  wake_timer_by(r.report_by_ms + 1);
  return assignment_body(r, wire::serialize(m),
                         options_.server_key->sign(wire::manifest_signing_bytes(m)).hex());
}

// A reported ringer against the known answer. Errors were recorded when
// reported and timeouts when they expired, like any replica's.
void Coordinator::judge_ringer(ReplicaRow& r, const Unit& u, int64_t now,
                               std::vector<Mutation>& ops) {
  if (r.state != "reported") return;
  if (u.row.state != "valid" || u.row.canonical.empty()) {
    r.validity = "void";  // the answer was withdrawn meanwhile: no verdict either way
    ops.push_back(r);
    return;
  }
  const bool valid = r.digest == u.row.canonical;
  r.validity = valid ? "valid" : "invalid";
  ops.push_back(r);
  record(r.host_id, u, valid ? validator::Verdict::kValid : validator::Verdict::kInvalid, true);
  if (auto h = hosts_.find(r.host_id); h != hosts_.end()) {
    ++(valid ? h->second.row.valid_results : h->second.row.invalid_results);
    ops.push_back(h->second.row);
  }
  if (!valid) catch_host(r.host_id, now, ops);  // a lie like any other
}

// The same verdicts as judge_ringer (and report/expire) reached, from the row.
void Coordinator::replay_ringer(const ReplicaRow& r, const Unit& u) {
  using validator::Verdict;
  if (r.state == "error") record(r.host_id, u, Verdict::kError, true);
  if (r.state == "timed_out") record(r.host_id, u, Verdict::kTimedOut, true);
  if (r.validity == "valid") record(r.host_id, u, Verdict::kValid, true);
  if (r.validity == "invalid") {
    record(r.host_id, u, Verdict::kInvalid, true);
    ledger_.revoke_pending(r.host_id);
    unverified_.erase(r.host_id);
  }
}

void Coordinator::load_ringer(const ReplicaRow& r) {
  ringers_of_host_[r.host_id].insert(r.unit_id);
  next_unit_ = std::max(next_unit_, r.ringer_unit + 1);
  next_workload_ = std::max(next_workload_, r.ringer_workload + 1);
  if (r.state != "in_progress") return;
  deadlines_.add(r.id, r.report_by_ms);
  if (auto h = hosts_.find(r.host_id); h != hosts_.end()) h->second.active.insert(r.id);
}

}  // namespace p2c2r::server
