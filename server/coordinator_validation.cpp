// The validator wiring: quorum decisions applied to units (settle_unit), host
// reliability and quarantine, adaptive replication, credit, and the server's
// trusted re-execution. All policy comes from validator/; this file applies it
// to the coordinator's state and rows.
#include <algorithm>
#include <cstdio>

#include "runtime/execute.h"
#include "server/coordinator.h"
#include "server/trusted_runner.h"

namespace p2c2r::server {
namespace {

// The server's own trusted re-execution is stored as a replica of host 0: no
// host has that id (ids start at 1), so every hosts_ lookup must skip it.
constexpr uint64_t kServerHost = 0;

validator::ReplicaState replica_state(const std::string& s) {
  if (s == "reported") return validator::ReplicaState::kReported;
  if (s == "error") return validator::ReplicaState::kError;
  if (s == "timed_out" || s == "cancelled") return validator::ReplicaState::kTimedOut;
  return validator::ReplicaState::kInProgress;
}

double giga(uint64_t operations) { return static_cast<double>(operations) / 1e9; }

bool accepted_validity(const std::string& v) { return v == "valid" || v == "unverified"; }

}  // namespace

const validator::ReplicationPolicy& Coordinator::policy_of(const Unit& u) const {
  return u.decision ? u.decision->policy : workloads_.at(u.row.workload_id).policy;
}

uint64_t Coordinator::submitter_id(const std::string& submitter) {
  auto [it, added] = submitter_ids_.emplace(submitter, submitter_ids_.size() + 1);
  return it->second;
}

void Coordinator::sync_credit(Host& h, std::vector<Mutation>& ops) {
  h.row.credit = giga(ledger_.host(h.row.id).granted);
  ops.push_back(h.row);
}

void Coordinator::record(uint64_t host_id, const Unit& u, validator::Verdict verdict,
                         bool checked) {
  book_.record(host_id, u.family, verdict, checked);
}

// Called from assign() for a replica that went out while the unit had none in
// flight or reported: the first host's standing decides the unit's policy.
void Coordinator::decide_replication(Unit& u, const Host& h) {
  const Workload& w = workloads_.at(u.row.workload_id);
  // A submitter who asked for min_quorum 1 accepts any host's word: nothing
  // to adapt, and spot-checking only trusted hosts there would be perverse.
  if (w.policy.min_quorum <= 1) return;
  auto d = validator::decide_replication(book_.config(), w.policy,
                                         book_.standing(h.row.id, u.family), rng_);
  if (d.check == validator::CheckBy::kServer && !trusted_)
    d.check = validator::CheckBy::kAnotherHost;  // no device: another host checks
  u.decision = d;
  switch (d.check) {
    case validator::CheckBy::kQuorum:
      return;
    case validator::CheckBy::kNone:
      ready_.remove(u.row.id);
      return;
    case validator::CheckBy::kAnotherHost:
      ready_.remove(u.row.id);
      queue_replicas(u, 1);
      return;
    case validator::CheckBy::kServer:
      ready_.remove(u.row.id);
      run_trusted(u, "spot check");
      return;
  }
}

void Coordinator::settle_unit(Unit& u, int64_t now, std::vector<Mutation>& ops) {
  if (u.row.state == "failed" || u.row.state == "cancelled") return;
  Workload& w = workloads_.at(u.row.workload_id);
  std::vector<validator::ReplicaView> views;
  for (uint64_t id : u.replicas) {
    const ReplicaRow& r = replicas_.at(id);
    if (r.validity == "revoked") continue;  // withdrawn: a caught host's word
    if (r.state == "unfit") continue;       // the host could not run it: no word at all
    validator::ReplicaView v{id, r.host_id, replica_state(r.state), std::nullopt,
                             r.host_id == kServerHost};
    if (!r.digest.empty()) v.digest = Digest::from_hex(r.digest).value();
    views.push_back(v);
  }
  const auto d = validator::decide_quorum(policy_of(u), views);
  const bool was_valid = u.row.state == "valid";
  // A queued or running trusted re-execution counts as a replica in flight.
  if (u.trusted_pending && d.outcome != validator::Outcome::kAccepted) return;
  switch (d.outcome) {
    case validator::Outcome::kWaiting:
      return;
    case validator::Outcome::kNeedMore: {
      const auto* queued = ready_.find(u.row.id);
      const uint32_t have = queued ? queued->replicas_wanted : 0;
      if (d.replicas_to_add > have) queue_replicas(u, d.replicas_to_add - have);
      if (u.row.state != "ready") {
        u.row.ready_ms = now;
        set_unit_state(u, "ready", ops);
      }
      return;
    }
    case validator::Outcome::kFailed: {
      const bool settled_by_server =
          std::any_of(u.replicas.begin(), u.replicas.end(),
                      [&](uint64_t id) { return replicas_.at(id).host_id == kServerHost; });
      if (trusted_ && !settled_by_server) {
        // The hosts cannot agree: the server settles the unit itself.
        ready_.remove(u.row.id);
        if (u.row.state != "running") set_unit_state(u, "running", ops);
        run_trusted(u, "quorum failed: " + d.reason);
        return;
      }
      set_unit_state(u, "failed", ops);
      u.row.reason = d.reason;
      ops.push_back(u.row);
      ready_.remove(u.row.id);
      fail_workload(w, "failed",
                    "unit " + std::to_string(u.row.id) + " (" + u.row.stage + ", " + u.row.kernel +
                        ") failed: " + d.reason,
                    now, ops);
      return;
    }
    case validator::Outcome::kAccepted:
      break;
  }
  judge(u, d.valid, true, now, ops);
  judge(u, d.invalid, false, now, ops);
  if (was_valid) return;
  ready_.remove(u.row.id);
  u.row.canonical = d.canonical_digest->hex();
  set_unit_state(u, "valid", ops);
  ringer_sources_[u.family].push_back(u.row.id);  // checked when a ringer is made of it
  ++w.valid;
  if (stored_blobs_.count(u.row.canonical)) {
    output_available(u, now, ops);
  } else {
    await_output(u, now);
  }
  finish_if_done(w, now, ops);
}

void Coordinator::await_output(Unit& u, int64_t now) {
  u.awaiting_output_since_ms = now;
  awaiting_output_[u.row.canonical].push_back(u.row.id);
  ++workloads_.at(u.row.workload_id).outputs_missing;
}

bool Coordinator::stop_awaiting_output(Unit& u) {
  auto a = awaiting_output_.find(u.row.canonical);
  if (a == awaiting_output_.end() || std::erase(a->second, u.row.id) == 0) return false;
  if (a->second.empty()) awaiting_output_.erase(a);
  --workloads_.at(u.row.workload_id).outputs_missing;
  return true;
}

void Coordinator::recover_overdue_outputs(int64_t now) {
  if (!trusted_) return;
  std::vector<uint64_t> overdue;
  for (const auto& [digest, ids] : awaiting_output_)
    for (uint64_t id : ids)
      if (now - units_.at(id).awaiting_output_since_ms >= options_.output_grace_ms)
        overdue.push_back(id);
  // run_trusted skips a unit already queued; its result stores the output.
  // A run that fails is tried again a grace period later, not every tick.
  for (uint64_t id : overdue) {
    Unit& u = units_.at(id);
    u.awaiting_output_since_ms = now;
    run_trusted(u, "its output was never uploaded");
  }
}

void Coordinator::finish_if_done(Workload& w, int64_t now, std::vector<Mutation>& ops) {
  if (w.row.state != "running" || w.valid != w.units.size() || w.outputs_missing != 0) return;
  w.row.state = "done";
  w.row.finished_ms = now;
  ops.push_back(w.row);
}

// Marks newly judged replicas (a replica is judged once), records the verdict
// in the host's reliability and settles its credit: a checked valid result is
// granted and releases the host's pending credit; a single replica accepted on
// the host's trust is "unverified" and its credit pending; an invalid result
// catches the host.
void Coordinator::judge(Unit& u, const std::vector<uint64_t>& ids, bool valid, int64_t now,
                        std::vector<Mutation>& ops) {
  const Workload& w = workloads_.at(u.row.workload_id);
  for (uint64_t id : ids) {
    ReplicaRow& r = replicas_.at(id);
    if (!r.validity.empty()) continue;
    const bool unverified = valid && u.decision && u.decision->single;
    r.validity = !valid ? "invalid" : unverified ? "unverified" : "valid";
    ops.push_back(r);
    if (r.host_id == kServerHost) continue;
    const uint64_t host = r.host_id;
    record(host, u, valid ? validator::Verdict::kValid : validator::Verdict::kInvalid, !unverified);
    if (valid && unverified) {
      (void)ledger_.add_pending(id, host, submitter_id(w.row.submitter), u.cost);
      unverified_[host].push_back({id, u.row.id, id});
    } else if (valid) {
      if (ledger_.grant(id, host, submitter_id(w.row.submitter), u.cost).ok())
        ops.push_back(CreditRow{host, u.row.id, giga(u.cost), now});
      ledger_.release_pending(host);
    }
    if (auto h = hosts_.find(host); h != hosts_.end()) {
      ++(valid ? h->second.row.valid_results : h->second.row.invalid_results);
      sync_credit(h->second, ops);
    }
    if (!valid) catch_host(host, now, ops);
  }
}

// A host caught lying: its pending credit is revoked and its results accepted
// on its word alone are re-checked by the server (or, without a trusted
// device or past max_recheck_results, withdrawn and redone by a full quorum).
void Coordinator::catch_host(uint64_t host_id, int64_t now, std::vector<Mutation>& ops) {
  ledger_.revoke_pending(host_id);
  std::vector<validator::UnverifiedResult> suspects;
  if (auto it = unverified_.find(host_id); it != unverified_.end()) {
    suspects = std::move(it->second);
    unverified_.erase(it);
  }
  const auto plan = validator::plan_recheck(book_.config(), std::move(suspects));
  for (uint64_t rid : plan.recheck) {
    Unit& u = units_.at(replicas_.at(rid).unit_id);
    if (trusted_)
      run_trusted(u, "re-check of a caught host");
    else
      reopen_unit(u, now, ops);
  }
  for (uint64_t rid : plan.invalidate) reopen_unit(units_.at(replicas_.at(rid).unit_id), now, ops);
  if (auto h = hosts_.find(host_id); h != hosts_.end()) sync_credit(h->second, ops);
}

// Withdraws a valid unit's canonical result (its hosts' word is no longer
// good enough) and asks for a full quorum. Units that already consumed the
// withdrawn output are not redone (docs/validator.md).
void Coordinator::reopen_unit(Unit& u, int64_t now, std::vector<Mutation>& ops) {
  if (u.row.state != "valid") return;
  Workload& w = workloads_.at(u.row.workload_id);
  std::vector<uint64_t> liars;
  for (uint64_t rid : u.replicas) {
    ReplicaRow& r = replicas_.at(rid);
    if (!accepted_validity(r.validity) || r.host_id == kServerHost) continue;
    r.validity = "revoked";
    ops.push_back(r);
    (void)ledger_.revoke(rid);
    record(r.host_id, u, validator::Verdict::kInvalid, true);
    liars.push_back(r.host_id);
  }
  // Its output was available (and counted by its dependants) unless awaited.
  if (!stop_awaiting_output(u)) withdraw_output(u, ops);
  u.row.canonical.clear();
  --w.valid;
  if (w.row.state == "done") {
    w.row.state = "running";
    w.row.finished_ms = 0;
    ops.push_back(w.row);
  }
  u.decision.reset();
  u.full_quorum = true;
  u.row.ready_ms = now;
  set_unit_state(u, "ready", ops);
  queue_replicas(u, w.policy.target_nresults);
  for (uint64_t host : liars) catch_host(host, now, ops);
}

void Coordinator::withdraw_output(Unit& u, std::vector<Mutation>& ops) {
  for (uint64_t id : u.dependants) {
    Unit& d = units_.at(id);
    if (d.row.state == "waiting") {
      ++d.deps_pending;  // output_available counted this one; it waits for the redone unit
    } else if (d.row.state == "ready" && d.replicas.empty()) {
      // Queued but never sent: its manifest named the withdrawn output.
      ready_.remove(d.row.id);
      d.manifest_json.clear();
      ++d.deps_pending;
      set_unit_state(d, "waiting", ops);
    }
  }
}

void Coordinator::run_trusted(Unit& u, const std::string& why) {
  if (!trusted_ || u.trusted_pending) return;
  for (uint64_t rid : u.replicas)
    if (replicas_.at(rid).host_id == kServerHost) return;  // the server has spoken already
  u.trusted_pending = true;
  TrustedJob job;
  job.unit_id = u.row.id;
  job.kernel = u.row.kernel;
  job.seed = u.row.seed;
  job.params = u.params;
  job.inputs = inputs_of(u);
  job.done = [this, id = u.row.id, why](Result<runtime::UnitResult> result) {
    if (result.ok())  // the server's output is canonical if it is accepted: keep it
      if (Status s = blobs_.put(result->digest, result->output); !s.ok()) result = s;
    trusted_result(id, why, std::move(result));
  };
  trusted_->submit(std::move(job));
}

void Coordinator::trusted_result(uint64_t unit_id, const std::string& why,
                                 Result<runtime::UnitResult> result) {
  std::lock_guard lock(mu_);
  auto it = units_.find(unit_id);
  if (it == units_.end()) return;
  Unit& u = it->second;
  u.trusted_pending = false;
  if (u.row.state == "failed" || u.row.state == "cancelled") return;
  const int64_t now = now_ms();
  std::vector<Mutation> ops;
  if (!result.ok()) {
    const std::string reason =
        "trusted re-execution (" + why + ") failed: " + result.status().message();
    if (u.row.state == "valid") {
      // A re-check that could not run: the accepted result stands, as before.
    } else if (u.decision && u.decision->check == validator::CheckBy::kServer) {
      u.decision->check = validator::CheckBy::kAnotherHost;  // fall back to a host
      queue_replicas(u, 1);
      u.row.ready_ms = now;
      set_unit_state(u, "ready", ops);
    } else {
      set_unit_state(u, "failed", ops);
      u.row.reason = reason;
      ops.push_back(u.row);
      ready_.remove(u.row.id);
      fail_workload(workloads_.at(u.row.workload_id), "failed",
                    "unit " + std::to_string(u.row.id) + ": " + reason, now, ops);
    }
    commit_.submit(std::move(ops), nullptr);
    wake_waiters(now);
    return;
  }
  ReplicaRow r;
  r.id = next_replica_++;
  r.unit_id = u.row.id;
  r.host_id = kServerHost;  // the server's trusted re-execution, authoritative
  r.state = "reported";
  r.sent_ms = r.report_by_ms = r.reported_ms = now;
  r.digest = result->digest.hex();
  replicas_[r.id] = r;
  u.replicas.push_back(r.id);
  ops.push_back(r);
  blob_stored(r.digest, result->output.size(), now, ops);
  if (u.row.state != "valid") {
    settle_unit(u, now, ops);
  } else {
    // A re-check of an accepted unit: the canonical result stands if the
    // server agrees; otherwise the server's replaces it and every host that
    // agreed with the wrong one is caught.
    ReplicaRow& mine = replicas_.at(r.id);
    mine.validity = "valid";
    ops.push_back(mine);
    if (r.digest != u.row.canonical) {
      std::vector<uint64_t> liars;
      for (uint64_t rid : u.replicas) {
        ReplicaRow& other = replicas_.at(rid);
        if (other.host_id == kServerHost || !accepted_validity(other.validity)) continue;
        other.validity = "revoked";
        ops.push_back(other);
        (void)ledger_.revoke(rid);
        record(other.host_id, u, validator::Verdict::kInvalid, true);
        liars.push_back(other.host_id);
      }
      // The server's output is stored (above): whatever waited for the
      // wrong one's upload goes on with it.
      const bool awaited = stop_awaiting_output(u);
      u.row.canonical = r.digest;
      ops.push_back(u.row);
      if (awaited) {
        output_available(u, now, ops);
        finish_if_done(workloads_.at(u.row.workload_id), now, ops);
      }
      for (uint64_t host : liars) catch_host(host, now, ops);
    }
  }
  commit_.submit(std::move(ops), nullptr);
  wake_waiters(now);
}

void Coordinator::blob_stored(const std::string& digest, uint64_t size, int64_t now,
                              std::vector<Mutation>& ops) {
  if (!stored_blobs_.insert(digest).second) return;
  ops.push_back(BlobRow{digest, size});
  if (auto waiting = awaiting_output_.find(digest); waiting != awaiting_output_.end()) {
    const auto ids = std::move(waiting->second);
    awaiting_output_.erase(waiting);
    for (uint64_t id : ids) {
      Unit& u = units_.at(id);
      Workload& w = workloads_.at(u.row.workload_id);
      --w.outputs_missing;
      output_available(u, now, ops);
      finish_if_done(w, now, ops);
    }
  }
}

void Coordinator::drain_trusted() {
  if (trusted_) trusted_->drain();
}

// Why the host gets no real work, from its worst record (a hard quarantine
// before a probation); for a probation, how far the host has come.
std::optional<std::string> Coordinator::quarantine_reason(uint64_t host_id) const {
  const auto& config = book_.config();
  auto why = [&](const validator::HostReliability& rec, const std::string& scope) {
    char rate[64];
    std::snprintf(rate, sizeof rate, "error rate %.2f above %.2f", rec.error_rate,
                  config.quarantine_error_rate);
    std::string text = std::string(rate) + scope + " after " + std::to_string(rec.results()) +
                       " results (" + std::to_string(rec.valid) + " valid, " +
                       std::to_string(rec.invalid) + " invalid, " + std::to_string(rec.errors) +
                       " errors, " + std::to_string(rec.timeouts) + " timeouts)";
    if (validator::standing_of(config, rec) == validator::Standing::kProbation)
      return text + "; on probation: " + std::to_string(rec.probation_valid) + " of " +
             std::to_string(config.probation_valid_results) + " checked results right in a row";
    if (config.probation_enabled)
      return text + "; quarantined " + std::to_string(rec.quarantines) + " times, more than the " +
             std::to_string(config.max_probations) + " probations allowed";
    return text;
  };
  std::optional<std::string> probation;
  auto consider = [&](const validator::HostReliability& rec, const std::string& scope) {
    if (!rec.quarantined) return false;
    if (validator::standing_of(config, rec) == validator::Standing::kQuarantined) return true;
    if (!probation) probation = why(rec, scope);
    return false;
  };
  if (consider(book_.host(host_id), "")) return why(book_.host(host_id), "");
  const auto& families = book_.families();
  for (auto it = families.lower_bound({host_id, ""});
       it != families.end() && it->first.first == host_id; ++it)
    if (consider(it->second, " for kernel family " + it->first.second))
      return why(it->second, " for kernel family " + it->first.second);
  return probation;
}

wire::HostInfo Coordinator::host_info_of(const Host& h) const {
  const auto rec = book_.host(h.row.id);
  const auto credit = ledger_.host(h.row.id);
  wire::HostInfo info{
      h.row.id,           h.row.name, h.row.public_key, h.caps,     h.row.registered_ms,
      h.row.last_seen_ms, rec.valid,  rec.invalid,      rec.errors, giga(credit.granted)};
  info.timeout_results = rec.timeouts;
  info.consecutive_valid = rec.consecutive_valid;
  info.error_rate = rec.error_rate;
  const auto reason = quarantine_reason(h.row.id);
  info.standing = validator::standing_name(worst_standing(h.row.id));
  info.quarantine_reason = reason.value_or("");
  info.credit_pending = giga(credit.pending);
  info.credit_revoked = giga(credit.revoked);
  return info;
}

void Coordinator::clear_host(uint64_t id, Respond respond) {
  std::lock_guard lock(mu_);
  auto it = hosts_.find(id);
  if (it == hosts_.end())
    return respond(error_reply(not_found("host " + std::to_string(id) + " is not registered")));
  Host& h = it->second;
  book_.clear_quarantine(id);
  h.row.cleared_after_replica = next_replica_ - 1;
  std::vector<Mutation> ops{h.row};
  commit_.submit(std::move(ops), [respond = std::move(respond),
                                  body = wire::serialize(host_info_of(h))](const Status& s) {
    respond(s.ok() ? Reply{200, "application/json", body} : error_reply(s));
  });
  wake_waiters(now_ms());
}

// Rebuilds reliability, credit and the unverified results from replica rows
// in id order: the order their verdicts were reached, give or take replicas
// judged out of order. An operator's clear is replayed where it happened.
Status Coordinator::replay_validation(const Snapshot& snap) {
  std::map<uint64_t, uint64_t> clear_at;
  for (const auto& [id, h] : hosts_)
    if (h.row.cleared_after_replica > 0) clear_at[id] = h.row.cleared_after_replica;
  std::vector<const ReplicaRow*> rows;
  for (const auto& r : snap.replicas) rows.push_back(&r);
  std::sort(rows.begin(), rows.end(),
            [](const ReplicaRow* a, const ReplicaRow* b) { return a->id < b->id; });
  using validator::Verdict;
  for (const ReplicaRow* r : rows) {
    if (r->host_id == kServerHost) continue;
    const uint64_t host = r->host_id;
    if (auto c = clear_at.find(host); c != clear_at.end() && r->id > c->second) {
      book_.clear_quarantine(host);
      clear_at.erase(c);
    }
    const Unit& u = units_.at(r->unit_id);
    if (r->ringer()) {
      replay_ringer(*r, u);  // reliability only: no credit, no unverified results
      continue;
    }
    const uint64_t sub = submitter_id(workloads_.at(u.row.workload_id).row.submitter);
    if (r->state == "error") record(host, u, Verdict::kError, true);
    if (r->state == "timed_out") record(host, u, Verdict::kTimedOut, true);
    if (r->validity == "valid") {
      record(host, u, Verdict::kValid, true);
      (void)ledger_.grant(r->id, host, sub, u.cost);
      ledger_.release_pending(host);
    } else if (r->validity == "unverified" || r->validity == "revoked") {
      record(host, u, Verdict::kValid, false);
      (void)ledger_.add_pending(r->id, host, sub, u.cost);
      if (r->validity == "unverified") unverified_[host].push_back({r->id, u.row.id, r->id});
    }
    if (r->validity == "revoked") (void)ledger_.revoke(r->id);
    if (r->validity == "invalid" || r->validity == "revoked") {
      record(host, u, Verdict::kInvalid, true);
      ledger_.revoke_pending(host);
      unverified_.erase(host);
    }
  }
  for (const auto& [host, at] : clear_at) book_.clear_quarantine(host);
  for (auto& [id, h] : hosts_) h.row.credit = giga(ledger_.host(id).granted);
  return Status::Ok();
}

}  // namespace p2c2r::server
