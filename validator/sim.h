// The reliability simulator: a deterministic discrete-event model of
// thousands of volunteer hosts, some of them faulty or malicious, driving the
// real validator policy (decide_replication, decide_ringer, decide_quorum,
// ReliabilityBook, plan_recheck, CreditLedger) and the real scheduler
// matching (scheduler::ReadyQueue: earliest deadline first, never two
// replicas of a unit to one host; scheduler::DeadlineQueue for timeouts).
//
// Pure: the same SimConfig gives the same SimReport on every machine (a seeded
// Rng, a simulated clock, no threads, no I/O). `p2c2r bench sim` prints it.
//
// Host kinds, at the scenario's fractions:
//   honest     returns the right digest
//   saboteur   returns a random wrong digest, always
//   colluder   returns a wrong digest that every colluder shares for that unit
//   crasher    with crash_timeout_probability never reports (offline until the
//              replica's deadline), with crash_error_probability reports an
//              error, otherwise the right digest
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "validator/quorum.h"
#include "validator/reliability.h"

namespace p2c2r::validator {

struct Scenario {
  std::string name;
  double saboteur_fraction = 0.0;
  double colluder_fraction = 0.0;
  double crasher_fraction = 0.0;
};

// honest, saboteurs-10, saboteurs-30, colluders-10, crashing-20.
const std::vector<Scenario>& standard_scenarios();
// Not found (listing the known names) for an unknown name.
Result<Scenario> scenario_by_name(const std::string& name);

struct SimConfig {
  Scenario scenario;
  uint64_t units = 10000;
  uint64_t seed = 1;
  uint32_t hosts = 1000;
  ReplicationPolicy policy;       // the base policy of every unit
  ReliabilityConfig reliability;  // the validator's thresholds under test
  // Units arrive evenly at `load` times what the hosts can run at one replica
  // per unit; above 1/replicas_per_unit the queue grows without bound.
  double load = 0.5;
  double exec_mean = 1.0;       // simulated seconds per replica on an average host
  double delay_bound = 10.0;    // a replica not reported this long after sending times out
  double unit_deadline = 20.0;  // after arrival; orders dispatch (EDF)
  double server_exec = 0.25;    // the server's trusted re-execution of one unit
  double crash_timeout_probability = 0.5;
  double crash_error_probability = 0.1;
  double warmup_fraction = 0.2;  // units left out of the steady-state figures
};

// Positive counts and times, fractions summing to at most 1; else an invalid
// argument naming the field.
Status check_sim_config(const SimConfig& config);

struct SimReport {
  std::string scenario;
  uint64_t units = 0;
  uint64_t units_completed = 0;
  // Units accepted with a wrong canonical result (a user could have fetched
  // it), whether or not a later re-check fixed it.
  uint64_t wrong_accepted = 0;
  // Of those, found by the re-check of a caught host and replaced.
  uint64_t wrong_fixed = 0;
  // Units whose canonical result is still wrong at the end.
  uint64_t wrong_outstanding = 0;
  // Every replica run for the units (by peers, including errors, timeouts and
  // ringers, plus the server's re-executions) per completed unit.
  double replicas_per_unit = 0.0;
  double steady_replicas_per_unit = 0.0;  // the same for units after warm-up
  double p50_latency = 0.0;               // simulated seconds from arrival to acceptance
  double p99_latency = 0.0;
  uint64_t peer_replicas = 0;
  uint64_t server_executions = 0;
  uint64_t ringers = 0;
  uint64_t single_replica_units = 0;  // accepted on one trusted host's word
  uint64_t spot_checks = 0;
  uint64_t failed_quorums = 0;     // settled by the server's re-execution
  uint64_t hosts_caught = 0;       // invalid results that triggered a re-check
  uint64_t quarantined_hosts = 0;  // at the end
  uint64_t trusted_hosts = 0;      // at the end
  double simulated_seconds = 0.0;
};

Result<SimReport> run_simulation(const SimConfig& config);

// A table, one row per report, for people.
std::string format_sim_table(const std::vector<SimReport>& reports);
// One JSON object for one report, an array of them for several.
std::string format_sim_json(const std::vector<SimReport>& reports);

}  // namespace p2c2r::validator
