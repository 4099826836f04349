// Readers and writers of the operators' report types (GET /v1/reports/...).
#include "common/internal/wire_json.h"

namespace p2c2r::wire {

P2C2R_FIELDS_BEGIN(ReplicaReport)
REQ(id);
REQ(host_id);
REQ(host_name);
REQ(state);
REQ(validity);
REQ(digest);
REQ(error);
REQ(sent_ms);
REQ(report_by_ms);
REQ(reported_ms);
P2C2R_FIELDS_END

P2C2R_FIELDS_BEGIN(UnitReport)
REQ(id);
REQ(workload_id);
REQ(index);
REQ(stage);
REQ(kernel);
REQ(kernel_version);
OPT(params);
OPT(seed);
REQ(state);
REQ(canonical);
REQ(reason);
REQ(replicas);
P2C2R_FIELDS_END

P2C2R_FIELDS_BEGIN(UnitLine)
REQ(id);
REQ(index);
REQ(stage);
REQ(kernel);
REQ(state);
REQ(canonical);
REQ(replicas);
REQ(valid);
REQ(invalid);
REQ(errors);
REQ(timed_out);
REQ(in_progress);
REQ(disagreements);
P2C2R_FIELDS_END

P2C2R_FIELDS_BEGIN(WorkloadReport)
REQ(workload);
REQ(units);
P2C2R_FIELDS_END

P2C2R_FIELDS_BEGIN(HostReport)
REQ(host);
REQ(timed_out_results);
REQ(in_progress);
OPT(ringers_passed);
OPT(ringers_failed);
OPT(unfit_results);
P2C2R_FIELDS_END

P2C2R_FIELDS_BEGIN(ReportSummary)
REQ(hosts);
REQ(workloads);
REQ(units_validated);
REQ(units_failed);
REQ(units_in_progress);
REQ(units_cancelled);
REQ(replicas_per_validated_unit);
REQ(units_with_disagreement);
REQ(replicas);
REQ(valid_results);
REQ(invalid_results);
REQ(error_results);
REQ(timed_out_results);
OPT(spot_checks);
OPT(quarantined_hosts);
OPT(credit_by_submitter);
P2C2R_FIELDS_END

#undef REQ
#undef OPT

Json js(const ReplicaReport& v) {
  return {{"id", v.id},
          {"host_id", v.host_id},
          {"host_name", v.host_name},
          {"state", v.state},
          {"validity", v.validity},
          {"digest", v.digest},
          {"error", v.error},
          {"sent_ms", v.sent_ms},
          {"report_by_ms", v.report_by_ms},
          {"reported_ms", v.reported_ms}};
}
Json js(const UnitReport& v) {
  Json replicas = Json::array();
  for (const auto& r : v.replicas) replicas.push_back(js(r));
  return {{"id", v.id},
          {"workload_id", v.workload_id},
          {"index", v.index},
          {"stage", v.stage},
          {"kernel", v.kernel},
          {"kernel_version", v.kernel_version},
          {"params", Json(v.params)},
          {"seed", v.seed},
          {"state", v.state},
          {"canonical", v.canonical},
          {"reason", v.reason},
          {"replicas", replicas}};
}
Json js(const UnitLine& v) {
  return {{"id", v.id},
          {"index", v.index},
          {"stage", v.stage},
          {"kernel", v.kernel},
          {"state", v.state},
          {"canonical", v.canonical},
          {"replicas", v.replicas},
          {"valid", v.valid},
          {"invalid", v.invalid},
          {"errors", v.errors},
          {"timed_out", v.timed_out},
          {"in_progress", v.in_progress},
          {"disagreements", v.disagreements}};
}
Json js(const WorkloadReport& v) {
  Json units = Json::array();
  for (const auto& u : v.units) units.push_back(js(u));
  return {{"workload", js(v.workload)}, {"units", units}};
}
Json js(const HostReport& v) {
  return {{"host", js(v.host)},
          {"timed_out_results", v.timed_out_results},
          {"in_progress", v.in_progress},
          {"ringers_passed", v.ringers_passed},
          {"ringers_failed", v.ringers_failed},
          {"unfit_results", v.unfit_results}};
}
Json js(const ReportSummary& v) {
  Json j = {{"hosts", v.hosts},
            {"workloads", v.workloads},
            {"units_validated", v.units_validated},
            {"units_failed", v.units_failed},
            {"units_in_progress", v.units_in_progress},
            {"units_cancelled", v.units_cancelled},
            {"replicas_per_validated_unit", v.replicas_per_validated_unit},
            {"units_with_disagreement", v.units_with_disagreement},
            {"replicas", v.replicas},
            {"valid_results", v.valid_results},
            {"invalid_results", v.invalid_results},
            {"error_results", v.error_results},
            {"timed_out_results", v.timed_out_results}};
  if (v.spot_checks) j["spot_checks"] = *v.spot_checks;
  if (v.quarantined_hosts) j["quarantined_hosts"] = *v.quarantined_hosts;
  if (v.credit_by_submitter) j["credit_by_submitter"] = *v.credit_by_submitter;
  return j;
}

P2C2R_WIRE_TYPE(ReplicaReport)
P2C2R_WIRE_TYPE(UnitReport)
P2C2R_WIRE_TYPE(WorkloadReport)
P2C2R_WIRE_TYPE(HostReport)
P2C2R_WIRE_TYPE(ReportSummary)

}  // namespace p2c2r::wire
