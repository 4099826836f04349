// Printing simulation reports: a table for people, JSON for scripts.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "validator/sim.h"

namespace p2c2r::validator {

namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string pad(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

nlohmann::ordered_json to_json(const SimReport& r) {
  return {{"scenario", r.scenario},
          {"units", r.units},
          {"units_completed", r.units_completed},
          {"wrong_accepted", r.wrong_accepted},
          {"wrong_fixed", r.wrong_fixed},
          {"wrong_outstanding", r.wrong_outstanding},
          {"accepted_wrong_rate",
           r.units_completed ? double(r.wrong_accepted) / double(r.units_completed) : 0.0},
          {"replicas_per_unit", r.replicas_per_unit},
          {"steady_replicas_per_unit", r.steady_replicas_per_unit},
          {"p50_latency", r.p50_latency},
          {"p99_latency", r.p99_latency},
          {"peer_replicas", r.peer_replicas},
          {"server_executions", r.server_executions},
          {"ringers", r.ringers},
          {"single_replica_units", r.single_replica_units},
          {"spot_checks", r.spot_checks},
          {"failed_quorums", r.failed_quorums},
          {"hosts_caught", r.hosts_caught},
          {"quarantined_hosts", r.quarantined_hosts},
          {"trusted_hosts", r.trusted_hosts},
          {"simulated_seconds", r.simulated_seconds}};
}

}  // namespace

std::string format_sim_table(const std::vector<SimReport>& reports) {
  struct Column {
    const char* title;
    std::string (*cell)(const SimReport&);
  };
  static const Column columns[] = {
      {"scenario", [](const SimReport& r) { return r.scenario; }},
      {"units",
       [](const SimReport& r) {
         return std::to_string(r.units_completed) + "/" + std::to_string(r.units);
       }},
      {"wrong", [](const SimReport& r) { return std::to_string(r.wrong_accepted); }},
      {"fixed", [](const SimReport& r) { return std::to_string(r.wrong_fixed); }},
      {"left", [](const SimReport& r) { return std::to_string(r.wrong_outstanding); }},
      {"replicas/unit", [](const SimReport& r) { return fixed(r.replicas_per_unit, 3); }},
      {"steady", [](const SimReport& r) { return fixed(r.steady_replicas_per_unit, 3); }},
      {"p50 s", [](const SimReport& r) { return fixed(r.p50_latency, 2); }},
      {"p99 s", [](const SimReport& r) { return fixed(r.p99_latency, 2); }},
      {"single", [](const SimReport& r) { return std::to_string(r.single_replica_units); }},
      {"checks", [](const SimReport& r) { return std::to_string(r.spot_checks); }},
      {"ringers", [](const SimReport& r) { return std::to_string(r.ringers); }},
      {"server", [](const SimReport& r) { return std::to_string(r.server_executions); }},
      {"quarantined", [](const SimReport& r) { return std::to_string(r.quarantined_hosts); }},
  };
  std::vector<size_t> width;
  for (const auto& col : columns) {
    size_t w = std::string(col.title).size();
    for (const auto& r : reports) w = std::max(w, col.cell(r).size());
    width.push_back(w);
  }
  std::string out;
  for (size_t i = 0; i < std::size(columns); ++i)
    out += (i ? "  " : "") + pad(columns[i].title, width[i]);
  out += "\n";
  for (const auto& r : reports) {
    for (size_t i = 0; i < std::size(columns); ++i)
      out += (i ? "  " : "") + pad(columns[i].cell(r), width[i]);
    out += "\n";
  }
  return out;
}

std::string format_sim_json(const std::vector<SimReport>& reports) {
  if (reports.size() == 1) return to_json(reports.front()).dump(2);
  auto all = nlohmann::ordered_json::array();
  for (const auto& r : reports) all.push_back(to_json(r));
  return all.dump(2);
}

}  // namespace p2c2r::validator
