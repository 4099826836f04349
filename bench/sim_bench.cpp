// p2c2r bench sim: the reliability simulator (validator/sim.h) for one
// scenario or all of them, as a table or JSON. Deterministic: the same
// arguments print the same numbers on every machine.
#include <iostream>

#include "bench/bench.h"
#include "cli/options.h"
#include "validator/sim.h"

namespace p2c2r::bench {

int sim_benchmark(const Args& args) {
  namespace po = boost::program_options;
  po::options_description options("bench sim options");
  std::string scenario = "all";
  uint64_t units = 10000, seed = 1;
  uint32_t hosts = 1000;
  bool json = false;
  validator::SimConfig base;
  auto& rc = base.reliability;
  options.add_options()("scenario", po::value(&scenario)->default_value(scenario),
                        "honest, saboteurs-10, saboteurs-30, colluders-10, crashing-20 or all")(
      "units", po::value(&units)->default_value(units), "work units to validate")(
      "hosts", po::value(&hosts)->default_value(hosts), "simulated volunteer hosts")(
      "seed", po::value(&seed)->default_value(seed), "seed of the whole run")(
      "json", po::bool_switch(&json), "print JSON (an array for --scenario all)")(
      "load", po::value(&base.load)->default_value(base.load),
      "arrival rate as a fraction of what the hosts run at one replica per unit")(
      "server-exec", po::value(&base.server_exec)->default_value(base.server_exec),
      "simulated seconds of the server's re-execution of one unit")(
      "spot-check-floor", po::value(&rc.spot_check_floor)->default_value(rc.spot_check_floor),
      "validator: least spot-check probability of a trusted host's unit")(
      "server-check-fraction",
      po::value(&rc.server_check_fraction)->default_value(rc.server_check_fraction),
      "validator: share of spot checks the server runs itself")(
      "ringer-fraction", po::value(&rc.ringer_fraction)->default_value(rc.ringer_fraction),
      "validator: share of dispatches that are ringers")(
      "trust-after",
      po::value(&rc.trust_after_consecutive_valid)->default_value(rc.trust_after_consecutive_valid),
      "validator: consecutive valid results before a host is trusted");
  po::variables_map vm;
  if (auto code = cli::parse(
          "bench sim", "[--scenario NAME|all] [--units N] [--seed S] [--json] [policy options]",
          args, options, vm))
    return *code;

  std::vector<validator::Scenario> scenarios;
  if (scenario == "all") {
    scenarios = validator::standard_scenarios();
  } else {
    auto s = validator::scenario_by_name(scenario);
    if (!s.ok()) return cli::fail("bench sim", s.status());
    scenarios.push_back(*s);
  }
  std::vector<validator::SimReport> reports;
  for (const auto& s : scenarios) {
    validator::SimConfig config = base;
    config.scenario = s;
    config.units = units;
    config.hosts = hosts;
    config.seed = seed;
    auto report = validator::run_simulation(config);
    if (!report.ok()) return cli::fail("bench sim", report.status());
    reports.push_back(*report);
  }
  if (json)
    std::cout << validator::format_sim_json(reports) << "\n";
  else
    std::cout << validator::format_sim_table(reports);
  return 0;
}

}  // namespace p2c2r::bench
