// The simulator's scenarios and the checks on its configuration.
#include "validator/sim.h"

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

}  // namespace p2c2r::validator
