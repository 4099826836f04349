#include "validator/sim.h"

#include <algorithm>
#include <deque>
#include <map>
#include <queue>
#include <set>

#include "common/rng.h"
#include "validator/credit.h"
#include "validator/replication.h"

namespace p2c2r::validator {

const std::vector<Scenario>& standard_scenarios() {
  static const std::vector<Scenario> all = {
      {"honest", 0.0, 0.0, 0.0},       {"saboteurs-10", 0.1, 0.0, 0.0},
      {"saboteurs-30", 0.3, 0.0, 0.0}, {"colluders-10", 0.0, 0.1, 0.0},
      {"crashing-20", 0.0, 0.0, 0.2},
  };
  return all;
}

Result<Scenario> scenario_by_name(const std::string& name) {
  std::string known;
  for (const auto& s : standard_scenarios()) {
    if (s.name == name) return s;
    known += (known.empty() ? "" : ", ") + s.name;
  }
  return not_found("unknown scenario '" + name + "' (known: " + known + ", all)");
}

Status check_sim_config(const SimConfig& c) {
  const auto& s = c.scenario;
  for (double f : {s.saboteur_fraction, s.colluder_fraction, s.crasher_fraction}) {
    if (!(f >= 0.0 && f <= 1.0)) return invalid_argument("host fractions must be in [0, 1]");
  }
  if (s.saboteur_fraction + s.colluder_fraction + s.crasher_fraction > 1.0)
    return invalid_argument("host fractions add up to more than 1");
  if (c.units == 0) return invalid_argument("units must be at least 1");
  if (c.hosts < 2) return invalid_argument("hosts must be at least 2");
  for (double t : {c.load, c.exec_mean, c.delay_bound, c.unit_deadline, c.server_exec}) {
    if (!(t > 0.0)) return invalid_argument("load and times must be positive");
  }
  for (double p : {c.crash_timeout_probability, c.crash_error_probability, c.warmup_fraction}) {
    if (!(p >= 0.0 && p < 1.0)) return invalid_argument("probabilities must be in [0, 1)");
  }
  P2C2R_RETURN_IF_ERROR(check_policy(c.policy));
  return check_config(c.reliability);
}

namespace {

constexpr const char* kFamily = "sim";
constexpr uint64_t kServerHost = UINT64_MAX;
constexpr uint64_t kCreditPerUnit = 1000;

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
};

struct Replica {
  uint64_t unit = 0;  // for a ringer: its own id, beyond the real units
  uint64_t host = 0;
  ReplicaState state = ReplicaState::kInProgress;
  std::optional<Digest> digest;
  bool trusted = false;
  bool ringer = false;
};

struct Unit {
  double arrival = 0, deadline = 0;
  ReplicationDecision decision;
  std::vector<uint64_t> replicas;
  uint32_t want = 0;  // replicas still to send
  bool done = false, settling_on_server = false;
  Digest canonical;
  double accepted_at = 0;
  uint64_t work = 0;  // replicas run for it, by peers and the server
};

enum class EventKind { kArrive, kReplicaEnd, kRecheckEnd };
struct Event {
  double time;
  uint64_t seq;
  EventKind kind;
  uint64_t id;
  bool operator>(const Event& o) const { return time != o.time ? time > o.time : seq > o.seq; }
};

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
    for (size_t n = count(c_.scenario.saboteur_fraction); n-- && i < hosts_.size();)
      hosts_[i++].kind = Kind::kSaboteur;
    for (size_t n = count(c_.scenario.colluder_fraction); n-- && i < hosts_.size();)
      hosts_[i++].kind = Kind::kColluder;
    for (size_t n = count(c_.scenario.crasher_fraction); n-- && i < hosts_.size();)
      hosts_[i++].kind = Kind::kCrasher;
    for (size_t k = hosts_.size() - 1; k > 0; --k) std::swap(hosts_[k], hosts_[rng_.below(k + 1)]);
    for (size_t h = 0; h < hosts_.size(); ++h) {
      hosts_[h].speed = 0.5 + 1.5 * uniform01(rng_);
      idle_.push_back(h);
    }
  }

  void schedule(double t, EventKind kind, uint64_t id) { events_.push({t, seq_++, kind, id}); }

  void on_arrive(uint64_t u) {
    Unit& unit = units_[u];
    unit.arrival = now_;
    unit.deadline = now_ + c_.unit_deadline;
    unit.want = c_.policy.target_nresults;
    ready_.insert({unit.deadline, u});
    if (u == warmup_units_) warmup_time_ = now_;
    const double rate = c_.load * c_.hosts / c_.exec_mean;
    if (u + 1 < c_.units) schedule(now_ + 1.0 / rate, EventKind::kArrive, u + 1);
  }

  bool holds(const Unit& unit, uint64_t host) const {
    for (uint64_t r : unit.replicas)
      if (replicas_[r].host == host) return true;
    return false;
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
    while (!idle_.empty() && !ready_.empty()) {
      const uint64_t h = idle_.front();
      idle_.pop_front();
      const HostStanding standing = book_.standing(h, kFamily);
      if (standing.standing == Standing::kQuarantined) continue;  // parked: needs an operator
      if (decide_ringer(c_.reliability, standing, rng_)) {
        send_ringer(h);
        continue;
      }
      auto it = ready_.begin();
      for (int tries = 0; it != ready_.end() && tries < 64 && holds(units_[it->second], h); ++tries)
        ++it;
      if (it == ready_.end() || holds(units_[it->second], h)) {
        deferred.push_back(h);
        continue;
      }
      send(it->second, h, standing);
    }
    idle_.insert(idle_.begin(), deferred.begin(), deferred.end());
  }

  // What a host of this kind reports for `unit`, and when.
  void run_on_host(uint64_t rid) {
    Replica& r = replicas_[rid];
    const Host& host = hosts_[r.host];
    double end = now_ + c_.exec_mean * host.speed * (0.8 + 0.4 * uniform01(rng_));
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
          end = now_ + c_.delay_bound;  // offline until the deadline passes
          pending_state_[rid] = ReplicaState::kTimedOut;
        } else if (u < c_.crash_timeout_probability + c_.crash_error_probability) {
          pending_state_[rid] = ReplicaState::kError;
        } else {
          r.digest = truth(r.unit);
        }
        break;
      }
    }
    ++peer_replicas_;
    schedule(end, EventKind::kReplicaEnd, rid);
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

  void server_execute(uint64_t u) {
    const uint64_t rid = new_replica(u, kServerHost, true);
    replicas_[rid].digest = truth(u);  // the server's own run of the same SPIR-V is right
    ++server_executions_;
    server_free_at_ = std::max(now_, server_free_at_) + c_.server_exec;
    schedule(server_free_at_, EventKind::kReplicaEnd, rid);
  }

  void send(uint64_t u, uint64_t h, const HostStanding& standing) {
    Unit& unit = units_[u];
    if (!has_live_replica(unit)) {
      unit.decision = decide_replication(c_.reliability, c_.policy, standing, rng_);
      if (unit.decision.check == CheckBy::kServer) server_execute(u);
      if (unit.decision.check == CheckBy::kServer || unit.decision.check == CheckBy::kAnotherHost)
        ++spot_checks_;
      const QuorumDecision d = decide_quorum(unit.decision.policy, views(unit));
      unit.want = std::max<uint32_t>(d.replicas_to_add, 1);
    }
    run_on_host(new_replica(u, h, false));
    if (--unit.want == 0) ready_.erase({unit.deadline, u});
  }

  std::vector<ReplicaView> views(const Unit& unit) const {
    std::vector<ReplicaView> v;
    for (uint64_t rid : unit.replicas) {
      const Replica& r = replicas_[rid];
      v.push_back({rid, r.host, r.state, r.digest, {}, r.trusted});
    }
    return v;
  }

  void on_replica_end(uint64_t rid) {
    Replica& r = replicas_[rid];
    if (r.host != kServerHost) idle_.push_back(r.host);
    auto ps = pending_state_.find(rid);
    if (ps != pending_state_.end()) {
      r.state = ps->second;
      pending_state_.erase(ps);
    } else {
      r.state = ReplicaState::kReported;
    }
    if (r.state != ReplicaState::kReported) {
      book_.record(r.host, kFamily,
                   r.state == ReplicaState::kError ? Verdict::kError : Verdict::kTimedOut, true);
      if (r.ringer) return;
    } else if (r.ringer) {
      judged(rid, *r.digest == truth(r.unit), true);
      return;
    }
    Unit& unit = units_[r.unit];
    if (unit.done) {
      if (r.state == ReplicaState::kReported)
        judged(rid, judge_late_result(unit.canonical, {}, *r.digest, {}) == LateVerdict::kValid,
               true);
      return;
    }
    settle(r.unit);
  }

  // Records a verdict on a peer's reported result and pays or punishes it.
  void judged(uint64_t rid, bool valid, bool checked) {
    const uint64_t h = replicas_[rid].host;
    if (h == kServerHost) return;
    book_.record(h, kFamily, valid ? Verdict::kValid : Verdict::kInvalid, checked);
    if (!valid) return caught(h);
    // Ringers pay like real work: a ringer that earned nothing would give itself away.
    if (checked) {
      (void)credit_.grant(rid, h, 0, kCreditPerUnit);
      credit_.release_pending(h);
    } else {
      (void)credit_.add_pending(rid, h, 0, kCreditPerUnit);
      unverified_[h].push_back({rid, replicas_[rid].unit, seq_});
    }
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
        ++server_executions_;
        ++units_[replicas_[rid].unit].work;
        server_free_at_ = std::max(now_, server_free_at_) + c_.server_exec;
        schedule(server_free_at_, EventKind::kRecheckEnd, rid);
      }
    }
  }

  void on_recheck_end(uint64_t rid) {
    Unit& unit = units_[replicas_[rid].unit];
    if (unit.canonical == truth(replicas_[rid].unit)) return;
    unit.canonical = truth(replicas_[rid].unit);
    ++wrong_fixed_;
    (void)credit_.revoke(rid);
  }

  void settle(uint64_t u) {
    Unit& unit = units_[u];
    const QuorumDecision d = decide_quorum(unit.decision.policy, views(unit));
    switch (d.outcome) {
      case Outcome::kWaiting:
        return;
      case Outcome::kNeedMore:
        unit.want = d.replicas_to_add;
        ready_.insert({unit.deadline, u});
        return;
      case Outcome::kFailed:
        ready_.erase({unit.deadline, u});
        if (!unit.settling_on_server) {
          unit.settling_on_server = true;
          ++failed_quorums_;
          server_execute(u);
        }
        return;
      case Outcome::kAccepted:
        break;
    }
    ready_.erase({unit.deadline, u});
    unit.done = true;
    unit.canonical = *d.canonical_digest;
    unit.accepted_at = now_;
    ++completed_;
    if (unit.decision.single) ++single_units_;
    for (uint64_t rid : d.valid) judged(rid, true, !unit.decision.single);
    for (uint64_t rid : d.invalid) judged(rid, false, true);
  }

  SimReport report() const {
    SimReport rep;
    rep.scenario = c_.scenario.name;
    rep.units = c_.units;
    rep.units_completed = completed_;
    std::vector<double> latency;
    uint64_t steady_work = 0, steady_done = 0;
    for (uint64_t u = 0; u < units_.size(); ++u) {
      const Unit& unit = units_[u];
      if (!unit.done) continue;
      if (unit.canonical != truth(u)) ++rep.wrong_accepted;
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
  std::map<uint64_t, ReplicaState> pending_state_;  // outcomes decided at send, shown at the end
  std::map<uint64_t, std::vector<UnverifiedResult>> unverified_;
  std::set<std::pair<double, uint64_t>> ready_;  // (deadline, unit): units wanting replicas
  std::deque<uint64_t> idle_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  double now_ = 0, server_free_at_ = 0, warmup_time_ = -1;
  uint64_t seq_ = 0, ringer_ids_ = 0, warmup_units_ = 0;
  uint64_t completed_ = 0, peer_replicas_ = 0, server_executions_ = 0, ringers_ = 0,
           steady_ringers_ = 0, single_units_ = 0, spot_checks_ = 0, failed_quorums_ = 0,
           hosts_caught_ = 0, wrong_fixed_ = 0;
};

}  // namespace

Result<SimReport> run_simulation(const SimConfig& config) {
  P2C2R_RETURN_IF_ERROR(check_sim_config(config));
  Simulation sim(config);
  return sim.run();
}

}  // namespace p2c2r::validator
