#include "validator/sim.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <queue>

#include "common/rng.h"
#include "scheduler/matching.h"
#include "validator/credit.h"
#include "validator/replication.h"

namespace p2c2r::validator {

namespace {

constexpr const char* kFamily = "sim";
constexpr uint64_t kServerHost = UINT64_MAX;
constexpr uint64_t kCreditPerUnit = 1000;
constexpr uint32_t kKernelVersion = 1;

enum class Kind { kHonest, kSaboteur, kColluder, kCrasher };

uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// A digest standing for an output: the right one is a function of the unit,
// the colluders' shared wrong one a different function of it.
Digest make_digest(uint64_t a, uint64_t b) {
  Digest d;
  uint64_t x = mix(a) ^ mix(b + 0x51ed27);
  for (size_t i = 0; i < Digest::kSize; i += 8) {
    x = mix(x);
    for (size_t j = 0; j < 8; ++j) d.bytes[i + j] = static_cast<uint8_t>(x >> (8 * j));
  }
  return d;
}
Digest truth(uint64_t unit) { return make_digest(unit, 0); }
Digest colluded(uint64_t unit) { return make_digest(unit, 0xc011ade); }

struct Host {
  Kind kind = Kind::kHonest;
  double speed = 1.0;
  scheduler::HostView view;  // what the scheduler's matching sees
};

struct Replica {
  uint64_t unit = 0;  // for a ringer: its own id, beyond the real units
  uint64_t host = 0;
  ReplicaState state = ReplicaState::kInProgress;
  std::optional<Digest> digest;
  bool trusted = false;  // the server's own re-execution
  bool ringer = false;
  bool host_trusted = false;  // the host was trusted when it got the replica
  bool error = false;         // the host will report an error
  bool credited = false;      // judged valid and paid (granted or pending)
};

struct Unit {
  double arrival = 0, deadline = 0;
  ReplicationDecision decision;
  std::vector<uint64_t> replicas;
  bool done = false, settling_on_server = false;
  Digest canonical;
  double accepted_at = 0;
  uint64_t work = 0;  // replicas run for it, by peers and the server
};

enum class EventKind { kArrive, kReplicaEnd, kDeadline, kHostBack, kRecheckEnd };
struct Event {
  double time;
  uint64_t seq;
  EventKind kind;
  uint64_t id;
  bool operator>(const Event& o) const { return time != o.time ? time > o.time : seq > o.seq; }
};

int64_t to_ms(double seconds) { return std::llround(seconds * 1000.0); }

class Simulation {
 public:
  explicit Simulation(const SimConfig& c)
      : c_(c), rng_(c.seed), book_(c.reliability), units_(c.units) {
    make_hosts();
    warmup_units_ = static_cast<uint64_t>(c.warmup_fraction * static_cast<double>(c.units));
  }

  SimReport run() {
    schedule(0.0, EventKind::kArrive, 0);
    while (!events_.empty()) {
      const Event e = events_.top();
      events_.pop();
      now_ = e.time;
      switch (e.kind) {
        case EventKind::kArrive:
          on_arrive(e.id);
          break;
        case EventKind::kReplicaEnd:
          on_replica_end(e.id);
          break;
        case EventKind::kDeadline:
          for (uint64_t rid : deadlines_.pop_expired(to_ms(now_)))
            finish(rid, ReplicaState::kTimedOut);
          break;
        case EventKind::kHostBack:
          idle_.push_back(e.id);
          break;
        case EventKind::kRecheckEnd:
          on_recheck_end(e.id);
          break;
      }
      dispatch();
    }
    return report();
  }

 private:
  void make_hosts() {
    hosts_.resize(c_.hosts);
    const auto count = [&](double f) { return static_cast<size_t>(f * c_.hosts + 0.5); };
    size_t i = 0;
    const auto assign = [&](double fraction, Kind kind) {
      for (size_t n = count(fraction); n-- && i < hosts_.size();) hosts_[i++].kind = kind;
    };
    assign(c_.scenario.saboteur_fraction, Kind::kSaboteur);
    assign(c_.scenario.colluder_fraction, Kind::kColluder);
    assign(c_.scenario.crasher_fraction, Kind::kCrasher);
    for (size_t k = hosts_.size() - 1; k > 0; --k) std::swap(hosts_[k], hosts_[rng_.below(k + 1)]);
    for (size_t h = 0; h < hosts_.size(); ++h) {
      hosts_[h].speed = 0.5 + 1.5 * uniform01(rng_);
      hosts_[h].view.id = h;
      hosts_[h].view.kernels[kFamily] = {kKernelVersion, c_.exec_mean * hosts_[h].speed};
      idle_.push_back(h);
    }
  }

  void schedule(double t, EventKind kind, uint64_t id) { events_.push({t, seq_++, kind, id}); }

  void on_arrive(uint64_t u) {
    Unit& unit = units_[u];
    unit.arrival = now_;
    unit.deadline = now_ + c_.unit_deadline;
    // One replica at first: its host's standing decides how many follow.
    requeue(u, 1);
    if (u == warmup_units_) warmup_time_ = now_;
    const double rate = c_.load * c_.hosts / c_.exec_mean;
    if (u + 1 < c_.units) schedule(now_ + 1.0 / rate, EventKind::kArrive, u + 1);
  }

  // Puts the unit in the scheduler's ready queue wanting `wanted` more
  // replicas (replacing what it wanted before), or takes it out for 0.
  void requeue(uint64_t u, uint32_t wanted) {
    ready_.remove(u);
    if (wanted == 0) return;
    scheduler::ReadyUnit r;
    r.unit_id = u;
    r.submitter = kFamily;
    r.priority = scheduler::Priority::kBatch;
    r.deadline_ms = to_ms(units_[u].deadline);
    r.kernel = kFamily;
    r.kernel_version = kKernelVersion;
    r.replicas_wanted = wanted;
    for (uint64_t rid : units_[u].replicas)
      if (replicas_[rid].host != kServerHost) r.hosts.push_back(replicas_[rid].host);
    ready_.add(std::move(r));
  }

  bool has_live_replica(const Unit& unit) const {
    for (uint64_t r : unit.replicas) {
      const auto s = replicas_[r].state;
      if (s == ReplicaState::kInProgress || s == ReplicaState::kReported) return true;
    }
    return false;
  }

  void dispatch() {
    std::vector<uint64_t> deferred;
    while (!idle_.empty() && ready_.size() > 0) {
      const uint64_t h = idle_.front();
      idle_.pop_front();
      const HostStanding standing = book_.standing(h, kFamily);
      if (standing.standing == Standing::kQuarantined) continue;  // parked: needs an operator
      if (decide_ringer(c_.reliability, standing, rng_)) {
        send_ringer(h);
        continue;
      }
      const auto picked = ready_.take(hosts_[h].view, to_ms(now_));
      if (!picked) {
        deferred.push_back(h);  // holds a replica of every ready unit
        continue;
      }
      send(picked->unit_id, h, standing);
    }
    idle_.insert(idle_.begin(), deferred.begin(), deferred.end());
  }

  // What a host of this kind reports for `unit`, and when.
  void run_on_host(uint64_t rid) {
    Replica& r = replicas_[rid];
    const Host& host = hosts_[r.host];
    ++peer_replicas_;
    deadlines_.add(rid, to_ms(now_ + c_.delay_bound));
    schedule(now_ + c_.delay_bound + 0.001, EventKind::kDeadline, rid);
    switch (host.kind) {
      case Kind::kHonest:
        r.digest = truth(r.unit);
        break;
      case Kind::kSaboteur:
        r.digest = make_digest(rng_.next(), rng_.next());
        break;
      case Kind::kColluder:
        r.digest = colluded(r.unit);
        break;
      case Kind::kCrasher: {
        const double u = uniform01(rng_);
        if (u < c_.crash_timeout_probability) {
          // Crashed: never reports; back online once the deadline has passed.
          schedule(now_ + c_.delay_bound, EventKind::kHostBack, r.host);
          return;
        }
        if (u < c_.crash_timeout_probability + c_.crash_error_probability)
          r.error = true;
        else
          r.digest = truth(r.unit);
        break;
      }
    }
    schedule(now_ + c_.exec_mean * host.speed * (0.8 + 0.4 * uniform01(rng_)),
             EventKind::kReplicaEnd, rid);
  }

  void send_ringer(uint64_t h) {
    Replica r;
    r.unit = c_.units + ringer_ids_++;
    r.host = h;
    r.ringer = true;
    replicas_.push_back(r);
    ++ringers_;
    if (warmup_time_ >= 0) ++steady_ringers_;
    run_on_host(replicas_.size() - 1);
  }

  uint64_t new_replica(uint64_t u, uint64_t host, bool trusted) {
    Replica r;
    r.unit = u;
    r.host = host;
    r.trusted = trusted;
    replicas_.push_back(r);
    units_[u].replicas.push_back(replicas_.size() - 1);
    ++units_[u].work;
    return replicas_.size() - 1;
  }

  double server_slot() {
    ++server_executions_;
    server_free_at_ = std::max(now_, server_free_at_) + c_.server_exec;
    return server_free_at_;
  }

  void server_execute(uint64_t u) {
    const uint64_t rid = new_replica(u, kServerHost, true);
    replicas_[rid].digest = truth(u);  // the server's own run of the same SPIR-V is right
    schedule(server_slot(), EventKind::kReplicaEnd, rid);
  }

  // The scheduler gave unit `u` to host `h`.
  void send(uint64_t u, uint64_t h, const HostStanding& standing) {
    Unit& unit = units_[u];
    const bool first = !has_live_replica(unit);
    uint32_t more = 0;
    if (first) {
      unit.decision = decide_replication(c_.reliability, c_.policy, standing, rng_);
      if (unit.decision.check == CheckBy::kServer) server_execute(u);
      if (unit.decision.check == CheckBy::kServer || unit.decision.check == CheckBy::kAnotherHost)
        ++spot_checks_;
      more =
          std::max<uint32_t>(decide_quorum(unit.decision.policy, views(unit)).replicas_to_add, 1) -
          1;
    }
    const uint64_t rid = new_replica(u, h, false);
    replicas_[rid].host_trusted = standing.standing == Standing::kTrusted;
    run_on_host(rid);
    if (first) requeue(u, more);
  }

  std::vector<ReplicaView> views(const Unit& unit) const {
    std::vector<ReplicaView> v;
    for (uint64_t rid : unit.replicas) {
      const Replica& r = replicas_[rid];
      v.push_back({rid, r.host, r.state, r.digest, r.trusted});
    }
    return v;
  }

  void on_replica_end(uint64_t rid) {
    Replica& r = replicas_[rid];
    if (r.host == kServerHost) return finish(rid, ReplicaState::kReported);
    deadlines_.remove(rid);
    idle_.push_back(r.host);
    finish(rid, r.error ? ReplicaState::kError : ReplicaState::kReported);
  }

  void finish(uint64_t rid, ReplicaState state) {
    Replica& r = replicas_[rid];
    r.state = state;
    if (!r.ringer && r.host != kServerHost) ready_.replica_ended(kFamily);
    if (state != ReplicaState::kReported) {
      book_.record(r.host, kFamily,
                   state == ReplicaState::kError ? Verdict::kError : Verdict::kTimedOut, true);
      if (r.ringer) return;
    } else if (r.ringer) {
      judged(rid, *r.digest == truth(r.unit), true, true);
      return;
    }
    Unit& unit = units_[r.unit];
    if (unit.done) {
      if (state == ReplicaState::kReported)
        judged(rid, judge_late_result(unit.canonical, {}, *r.digest, {}) == LateVerdict::kValid,
               true, false);
      return;
    }
    settle(r.unit);
  }

  // Records a verdict on a peer's reported result and pays or punishes it.
  // `confirmed`: the server or a trusted host agreed with it.
  void judged(uint64_t rid, bool valid, bool checked, bool confirmed) {
    const uint64_t h = replicas_[rid].host;
    if (h == kServerHost) return;
    book_.record(h, kFamily, valid ? Verdict::kValid : Verdict::kInvalid, checked);
    if (!valid) return caught(h);
    replicas_[rid].credited = true;
    // Ringers pay like real work: a ringer that earned nothing would give itself away.
    if (checked) {
      (void)credit_.grant(rid, h, 0, kCreditPerUnit);
      credit_.release_pending(h);
    } else {
      (void)credit_.add_pending(rid, h, 0, kCreditPerUnit);
    }
    // Suspect once the host is caught: a single replica taken on trust, or a
    // quorum of untrusted hosts (who may be colluding).
    if (!confirmed && !replicas_[rid].ringer)
      unverified_[h].push_back({rid, replicas_[rid].unit, seq_});
  }

  void caught(uint64_t h) {
    ++hosts_caught_;
    credit_.revoke_pending(h);
    auto it = unverified_.find(h);
    if (it == unverified_.end()) return;
    const RecheckPlan plan = plan_recheck(c_.reliability, std::move(it->second));
    unverified_.erase(it);
    // The simulator settles both lists the same way: the server re-executes.
    for (const auto* list : {&plan.recheck, &plan.invalidate}) {
      for (uint64_t rid : *list) {
        ++units_[replicas_[rid].unit].work;
        schedule(server_slot(), EventKind::kRecheckEnd, rid);
      }
    }
  }

  // The server's re-execution of a suspect result's unit is in: a wrong
  // canonical result is replaced, and every host that agreed with it loses
  // the credit and is caught in turn.
  void on_recheck_end(uint64_t suspect) {
    const uint64_t u = replicas_[suspect].unit;
    Unit& unit = units_[u];
    if (unit.canonical != truth(u)) {
      unit.canonical = truth(u);
      ++wrong_fixed_;
    }
    for (uint64_t rid : unit.replicas) {
      Replica& r = replicas_[rid];
      if (!r.credited || r.digest == truth(u)) continue;
      r.credited = false;
      (void)credit_.revoke(rid);
      book_.record(r.host, kFamily, Verdict::kInvalid, true);
      caught(r.host);
    }
  }

  void settle(uint64_t u) {
    Unit& unit = units_[u];
    const QuorumDecision d = decide_quorum(unit.decision.policy, views(unit));
    switch (d.outcome) {
      case Outcome::kWaiting:
        return;
      case Outcome::kNeedMore:
        return requeue(u, d.replicas_to_add);
      case Outcome::kFailed:
        requeue(u, 0);
        if (!unit.settling_on_server) {
          unit.settling_on_server = true;
          ++failed_quorums_;
          server_execute(u);
        }
        return;
      case Outcome::kAccepted:
        break;
    }
    requeue(u, 0);
    unit.done = true;
    unit.canonical = *d.canonical_digest;
    unit.accepted_at = now_;
    ++completed_;
    if (unit.canonical != truth(u)) ++wrong_accepted_;
    if (unit.decision.single) ++single_units_;
    for (uint64_t rid : d.valid) {
      const bool confirmed = std::any_of(d.valid.begin(), d.valid.end(), [&](uint64_t other) {
        return other != rid && (replicas_[other].trusted || replicas_[other].host_trusted);
      });
      judged(rid, true, !unit.decision.single, confirmed);
    }
    for (uint64_t rid : d.invalid) judged(rid, false, true, true);
  }

  SimReport report() const {
    SimReport rep;
    rep.scenario = c_.scenario.name;
    rep.units = c_.units;
    rep.units_completed = completed_;
    rep.wrong_accepted = wrong_accepted_;
    std::vector<double> latency;
    uint64_t steady_work = 0, steady_done = 0;
    for (uint64_t u = 0; u < units_.size(); ++u) {
      const Unit& unit = units_[u];
      if (!unit.done) continue;
      if (unit.canonical != truth(u)) ++rep.wrong_outstanding;
      latency.push_back(unit.accepted_at - unit.arrival);
      if (u >= warmup_units_) steady_work += unit.work, ++steady_done;
    }
    std::sort(latency.begin(), latency.end());
    auto quantile = [&](double q) {
      if (latency.empty()) return 0.0;
      size_t i = static_cast<size_t>(q * static_cast<double>(latency.size()) + 0.999999);
      return latency[std::min(latency.size(), std::max<size_t>(i, 1)) - 1];
    };
    rep.p50_latency = quantile(0.50);
    rep.p99_latency = quantile(0.99);
    rep.wrong_fixed = wrong_fixed_;
    rep.peer_replicas = peer_replicas_;
    rep.server_executions = server_executions_;
    rep.ringers = ringers_;
    const double done = static_cast<double>(std::max<uint64_t>(completed_, 1));
    rep.replicas_per_unit = static_cast<double>(peer_replicas_ + server_executions_) / done;
    rep.steady_replicas_per_unit = static_cast<double>(steady_work + steady_ringers_) /
                                   static_cast<double>(std::max<uint64_t>(steady_done, 1));
    rep.single_replica_units = single_units_;
    rep.spot_checks = spot_checks_;
    rep.failed_quorums = failed_quorums_;
    rep.hosts_caught = hosts_caught_;
    for (uint64_t h = 0; h < hosts_.size(); ++h) {
      const Standing s = book_.standing(h, kFamily).standing;
      rep.quarantined_hosts += s == Standing::kQuarantined || s == Standing::kProbation;
      rep.trusted_hosts += s == Standing::kTrusted;
    }
    rep.simulated_seconds = now_;
    return rep;
  }

  const SimConfig& c_;
  Rng rng_;
  ReliabilityBook book_;
  CreditLedger credit_;
  std::vector<Host> hosts_;
  std::vector<Unit> units_;
  std::vector<Replica> replicas_;
  std::map<uint64_t, std::vector<UnverifiedResult>> unverified_;
  scheduler::ReadyQueue ready_;         // units wanting replicas, EDF
  scheduler::DeadlineQueue deadlines_;  // peer replicas in flight, by report-by time
  std::deque<uint64_t> idle_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  double now_ = 0, server_free_at_ = 0, warmup_time_ = -1;
  uint64_t seq_ = 0, ringer_ids_ = 0, warmup_units_ = 0;
  uint64_t completed_ = 0, peer_replicas_ = 0, server_executions_ = 0, ringers_ = 0,
           steady_ringers_ = 0, single_units_ = 0, spot_checks_ = 0, failed_quorums_ = 0,
           hosts_caught_ = 0, wrong_accepted_ = 0, wrong_fixed_ = 0;
};

}  // namespace

Result<SimReport> run_simulation(const SimConfig& config) {
  P2C2R_RETURN_IF_ERROR(check_sim_config(config));
  Simulation sim(config);
  return sim.run();
}

}  // namespace p2c2r::validator
