#include "common/wire.h"

#include <set>

namespace p2c2r::wire {
namespace {

const char* type_name(const Json& j) {
  if (j.is_number_unsigned()) return "unsigned integer";
  if (j.is_number_integer()) return "integer";
  return j.type_name();
}

std::string join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

Status wrong_type(const std::string& path, const char* expected, const Json& j) {
  return invalid_argument((path.empty() ? std::string("body") : path) + ": expected " + expected +
                          ", got " + type_name(j));
}

// Declared up front so the container templates below can find them.
Status read(const Json& j, const std::string& path, KernelSpeed& out);
Status read(const Json& j, const std::string& path, DeviceCaps& out);
Status read(const Json& j, const std::string& path, RegisterHost& out);
Status read(const Json& j, const std::string& path, Registered& out);
Status read(const Json& j, const std::string& path, WorkRequest& out);
Status read(const Json& j, const std::string& path, Manifest& out);
Status read(const Json& j, const std::string& path, Assignment& out);
Status read(const Json& j, const std::string& path, Report& out);
Status read(const Json& j, const std::string& path, ReportReply& out);
Status read(const Json& j, const std::string& path, Replication& out);
Status read(const Json& j, const std::string& path, Requirements& out);
Status read(const Json& j, const std::string& path, RawSpec& out);
Status read(const Json& j, const std::string& path, GameSpec& out);
Status read(const Json& j, const std::string& path, WorkloadSpec& out);
Status read(const Json& j, const std::string& path, UnitCounts& out);
Status read(const Json& j, const std::string& path, WorkloadStatus& out);
Status read(const Json& j, const std::string& path, HostInfo& out);
Status read(const Json& j, const std::string& path, Error& out);
Status read(const Json& j, const std::string& path, ReplicaReport& out);
Status read(const Json& j, const std::string& path, UnitReport& out);
Status read(const Json& j, const std::string& path, UnitLine& out);
Status read(const Json& j, const std::string& path, WorkloadReport& out);
Status read(const Json& j, const std::string& path, HostReport& out);
Status read(const Json& j, const std::string& path, ReportSummary& out);

// ---- scalar readers ----
Status read(const Json& j, const std::string& path, std::string& out) {
  if (!j.is_string()) return wrong_type(path, "a string", j);
  out = j.get<std::string>();
  return Status::Ok();
}
Status read(const Json& j, const std::string& path, bool& out) {
  if (!j.is_boolean()) return wrong_type(path, "true or false", j);
  out = j.get<bool>();
  return Status::Ok();
}
Status read(const Json& j, const std::string& path, uint64_t& out) {
  if (!j.is_number_unsigned()) return wrong_type(path, "an unsigned integer", j);
  out = j.get<uint64_t>();
  return Status::Ok();
}
Status read(const Json& j, const std::string& path, uint32_t& out) {
  uint64_t v = 0;
  P2C2R_RETURN_IF_ERROR(read(j, path, v));
  if (v > UINT32_MAX) return invalid_argument(path + ": " + std::to_string(v) + " is too large");
  out = static_cast<uint32_t>(v);
  return Status::Ok();
}
Status read(const Json& j, const std::string& path, int64_t& out) {
  if (j.is_number_unsigned()) {
    if (j.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      return invalid_argument(path + ": value is too large");
    out = static_cast<int64_t>(j.get<uint64_t>());
    return Status::Ok();
  }
  if (!j.is_number_integer()) return wrong_type(path, "an integer", j);
  out = j.get<int64_t>();
  return Status::Ok();
}
Status read(const Json& j, const std::string& path, double& out) {
  if (!j.is_number()) return wrong_type(path, "a number", j);
  out = j.get<double>();
  return Status::Ok();
}

template <typename T>
Status read(const Json& j, const std::string& path, std::vector<T>& out);
template <typename T>
Status read(const Json& j, const std::string& path, std::map<std::string, T>& out);

template <typename T>
Status read(const Json& j, const std::string& path, std::optional<T>& out) {
  T v{};
  P2C2R_RETURN_IF_ERROR(read(j, path, v));
  out = std::move(v);
  return Status::Ok();
}

template <typename T>
Status read(const Json& j, const std::string& path, std::vector<T>& out) {
  if (!j.is_array()) return wrong_type(path, "an array", j);
  out.clear();
  for (size_t i = 0; i < j.size(); ++i) {
    T v{};
    P2C2R_RETURN_IF_ERROR(read(j[i], path + "[" + std::to_string(i) + "]", v));
    out.push_back(std::move(v));
  }
  return Status::Ok();
}

template <typename T>
Status read(const Json& j, const std::string& path, std::map<std::string, T>& out) {
  if (!j.is_object()) return wrong_type(path, "an object", j);
  out.clear();
  for (const auto& [k, v] : j.items()) {
    T value{};
    P2C2R_RETURN_IF_ERROR(read(v, join(path, k), value));
    out.emplace(k, std::move(value));
  }
  return Status::Ok();
}

// Reads the fields of one JSON object, remembering which were consumed so
// that finish() can refuse the rest.
class Fields {
 public:
  Fields(const Json& j, std::string path) : j_(j), path_(std::move(path)) {}
  Status check_object() const {
    return j_.is_object() ? Status::Ok() : wrong_type(path_, "an object", j_);
  }
  template <typename T>
  Status required(const char* key, T& out) {
    seen_.insert(key);
    auto it = j_.find(key);
    if (it == j_.end()) return invalid_argument(join(path_, key) + ": required field is missing");
    return read(*it, join(path_, key), out);
  }
  template <typename T>
  Status optional(const char* key, T& out) {
    seen_.insert(key);
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return Status::Ok();
    return read(*it, join(path_, key), out);
  }
  Status finish() const {
    for (const auto& [k, v] : j_.items()) {
      if (!seen_.count(k)) return invalid_argument(join(path_, k) + ": unknown field");
    }
    return Status::Ok();
  }

 private:
  const Json& j_;
  std::string path_;
  std::set<std::string> seen_;
};

#define P2C2R_FIELDS_BEGIN(Type)                                   \
  Status read(const Json& j, const std::string& path, Type& out) { \
    Fields f(j, path);                                             \
    P2C2R_RETURN_IF_ERROR(f.check_object());
#define P2C2R_FIELDS_END \
  return f.finish();     \
  }
#define REQ(name) P2C2R_RETURN_IF_ERROR(f.required(#name, out.name))
#define OPT(name) P2C2R_RETURN_IF_ERROR(f.optional(#name, out.name))

P2C2R_FIELDS_BEGIN(KernelSpeed)
REQ(kernel);
REQ(version);
REQ(seconds_per_unit);
P2C2R_FIELDS_END

P2C2R_FIELDS_BEGIN(DeviceCaps)
REQ(name);
REQ(memory_bytes);
OPT(features);
REQ(kernels);
P2C2R_FIELDS_END

P2C2R_FIELDS_BEGIN(RegisterHost)
REQ(public_key);
REQ(name);
REQ(device);
P2C2R_FIELDS_END

P2C2R_FIELDS_BEGIN(Registered)
REQ(host_id);
REQ(server_public_key);
P2C2R_FIELDS_END

P2C2R_FIELDS_BEGIN(WorkRequest)
OPT(wait_ms);
P2C2R_FIELDS_END

P2C2R_FIELDS_BEGIN(Manifest)
REQ(unit_id);
REQ(workload_id);
REQ(kernel);
REQ(kernel_version);
REQ(params);
REQ(seed);
REQ(inputs);
REQ(deadline_ms);
P2C2R_FIELDS_END

P2C2R_FIELDS_BEGIN(Assignment)
REQ(replica_id);
REQ(report_by_ms);
REQ(manifest);
REQ(manifest_signature);
P2C2R_FIELDS_END

P2C2R_FIELDS_BEGIN(Report)
REQ(replica_id);
REQ(ok);
OPT(digest);
OPT(error);
OPT(seconds);
OPT(want_work);
if (out.ok && !out.digest)
  return invalid_argument(join(path, "digest") + ": required when ok is true");
if (!out.ok && out.error.empty())
  return invalid_argument(join(path, "error") + ": required when ok is false");
P2C2R_FIELDS_END

P2C2R_FIELDS_BEGIN(ReportReply)
REQ(want_output);
OPT(work);
P2C2R_FIELDS_END

P2C2R_FIELDS_BEGIN(Replication)
OPT(min_quorum);
OPT(target_nresults);
OPT(max_error_results);
OPT(max_total_results);
P2C2R_FIELDS_END

P2C2R_FIELDS_BEGIN(Requirements)
OPT(memory_bytes);
OPT(features);
P2C2R_FIELDS_END

P2C2R_FIELDS_BEGIN(RawSpec)
REQ(kernel);
OPT(params);
OPT(seed);
OPT(units);
OPT(seeds);
P2C2R_FIELDS_END

P2C2R_FIELDS_BEGIN(GameSpec)
REQ(frames);
OPT(tiles);
OPT(seed);
OPT(stage_params);
P2C2R_FIELDS_END

Status read(const Json& j, const std::string& path, WorkloadSpec& out) {
  Fields f(j, path);
  P2C2R_RETURN_IF_ERROR(f.check_object());
  REQ(kind);
  OPT(name);
  OPT(submitter);
  OPT(priority);
  OPT(deadline_ms);
  OPT(replication);
  P2C2R_RETURN_IF_ERROR(f.optional("requires", out.requires_));
  OPT(raw);
  OPT(game);
  P2C2R_RETURN_IF_ERROR(f.finish());
  if (out.kind != "raw" && out.kind != "game")
    return invalid_argument("kind: unknown workload kind '" + out.kind + "' (known: raw, game)");
  if (out.priority != "interactive" && out.priority != "batch")
    return invalid_argument("priority: must be 'interactive' or 'batch', got '" + out.priority +
                            "'");
  if (out.kind == "raw" && !out.raw) return invalid_argument("raw: required for kind 'raw'");
  if (out.kind == "game" && !out.game) return invalid_argument("game: required for kind 'game'");
  if (out.kind == "raw" && out.game) return invalid_argument("game: not allowed for kind 'raw'");
  if (out.kind == "game" && out.raw) return invalid_argument("raw: not allowed for kind 'game'");
  if (out.deadline_ms && *out.deadline_ms <= 0)
    return invalid_argument("deadline_ms: must be positive");
  return Status::Ok();
}

P2C2R_FIELDS_BEGIN(UnitCounts)
REQ(waiting);
REQ(ready);
REQ(running);
REQ(valid);
REQ(failed);
REQ(cancelled);
P2C2R_FIELDS_END

P2C2R_FIELDS_BEGIN(WorkloadStatus)
REQ(id);
REQ(name);
REQ(kind);
REQ(priority);
REQ(submitter);
REQ(state);
REQ(reason);
REQ(created_ms);
REQ(finished_ms);
REQ(units);
REQ(outputs);
P2C2R_FIELDS_END

P2C2R_FIELDS_BEGIN(HostInfo)
REQ(id);
REQ(name);
REQ(public_key);
REQ(device);
REQ(registered_ms);
REQ(last_seen_ms);
REQ(valid_results);
REQ(invalid_results);
REQ(error_results);
REQ(credit);
REQ(timeout_results);
REQ(consecutive_valid);
REQ(error_rate);
REQ(standing);
REQ(quarantine_reason);
REQ(credit_pending);
REQ(credit_revoked);
P2C2R_FIELDS_END

P2C2R_FIELDS_BEGIN(Error)
REQ(error);
OPT(code);
P2C2R_FIELDS_END

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

// ---- writers ----
Json js(const KernelSpeed& v) {
  return {{"kernel", v.kernel}, {"version", v.version}, {"seconds_per_unit", v.seconds_per_unit}};
}
Json js(const DeviceCaps& v) {
  Json k = Json::array();
  for (const auto& s : v.kernels) k.push_back(js(s));
  return {
      {"name", v.name}, {"memory_bytes", v.memory_bytes}, {"features", v.features}, {"kernels", k}};
}
Json js(const RegisterHost& v) {
  return {{"public_key", v.public_key}, {"name", v.name}, {"device", js(v.device)}};
}
Json js(const Registered& v) {
  return {{"host_id", v.host_id}, {"server_public_key", v.server_public_key}};
}
Json js(const WorkRequest& v) { return {{"wait_ms", v.wait_ms}}; }
Json js(const Manifest& v) {
  return {{"unit_id", v.unit_id},     {"workload_id", v.workload_id},
          {"kernel", v.kernel},       {"kernel_version", v.kernel_version},
          {"params", Json(v.params)}, {"seed", v.seed},
          {"inputs", v.inputs},       {"deadline_ms", v.deadline_ms}};
}
Json js(const Assignment& v) {
  return {{"replica_id", v.replica_id},
          {"report_by_ms", v.report_by_ms},
          {"manifest", js(v.manifest)},
          {"manifest_signature", v.manifest_signature}};
}
Json js(const Report& v) {
  Json j = {{"replica_id", v.replica_id}, {"ok", v.ok}, {"seconds", v.seconds}};
  if (v.digest) j["digest"] = *v.digest;
  if (!v.error.empty()) j["error"] = v.error;
  if (v.want_work) j["want_work"] = true;
  return j;
}
Json js(const ReportReply& v) {
  Json j = {{"want_output", v.want_output}};
  if (v.work) j["work"] = js(*v.work);
  return j;
}
Json js(const Replication& v) {
  Json j = Json::object();
  if (v.min_quorum) j["min_quorum"] = *v.min_quorum;
  if (v.target_nresults) j["target_nresults"] = *v.target_nresults;
  if (v.max_error_results) j["max_error_results"] = *v.max_error_results;
  if (v.max_total_results) j["max_total_results"] = *v.max_total_results;
  return j;
}
Json js(const Requirements& v) {
  return {{"memory_bytes", v.memory_bytes}, {"features", v.features}};
}
Json js(const RawSpec& v) {
  Json j = {{"kernel", v.kernel}, {"params", Json(v.params)}, {"seed", v.seed}, {"units", v.units}};
  if (!v.seeds.empty()) j["seeds"] = v.seeds;
  return j;
}
Json js(const GameSpec& v) {
  Json sp = Json::object();
  for (const auto& [k, p] : v.stage_params) sp[k] = Json(p);
  return {{"frames", v.frames}, {"tiles", v.tiles}, {"seed", v.seed}, {"stage_params", sp}};
}
Json js(const WorkloadSpec& v) {
  Json j = {{"kind", v.kind},
            {"name", v.name},
            {"priority", v.priority},
            {"replication", js(v.replication)},
            {"requires", js(v.requires_)}};
  if (!v.submitter.empty()) j["submitter"] = v.submitter;
  if (v.deadline_ms) j["deadline_ms"] = *v.deadline_ms;
  if (v.raw) j["raw"] = js(*v.raw);
  if (v.game) j["game"] = js(*v.game);
  return j;
}
Json js(const UnitCounts& v) {
  return {{"waiting", v.waiting}, {"ready", v.ready},   {"running", v.running},
          {"valid", v.valid},     {"failed", v.failed}, {"cancelled", v.cancelled}};
}
Json js(const WorkloadStatus& v) {
  return {{"id", v.id},
          {"name", v.name},
          {"kind", v.kind},
          {"priority", v.priority},
          {"submitter", v.submitter},
          {"state", v.state},
          {"reason", v.reason},
          {"created_ms", v.created_ms},
          {"finished_ms", v.finished_ms},
          {"units", js(v.units)},
          {"outputs", v.outputs}};
}
Json js(const HostInfo& v) {
  return {{"id", v.id},
          {"name", v.name},
          {"public_key", v.public_key},
          {"device", js(v.device)},
          {"registered_ms", v.registered_ms},
          {"last_seen_ms", v.last_seen_ms},
          {"valid_results", v.valid_results},
          {"invalid_results", v.invalid_results},
          {"error_results", v.error_results},
          {"credit", v.credit},
          {"timeout_results", v.timeout_results},
          {"consecutive_valid", v.consecutive_valid},
          {"error_rate", v.error_rate},
          {"standing", v.standing},
          {"quarantine_reason", v.quarantine_reason},
          {"credit_pending", v.credit_pending},
          {"credit_revoked", v.credit_revoked}};
}
Json js(const Error& v) { return {{"error", v.error}, {"code", v.code}}; }
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
  return {{"id", v.id},         {"workload_id", v.workload_id},
          {"index", v.index},   {"stage", v.stage},
          {"kernel", v.kernel}, {"kernel_version", v.kernel_version},
          {"state", v.state},   {"canonical", v.canonical},
          {"reason", v.reason}, {"replicas", replicas}};
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
          {"in_progress", v.in_progress}};
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

}  // namespace

std::string manifest_signing_bytes(const Manifest& m) {
  return "p2c2r-manifest-v1\n" + js(m).dump();
}

template <typename T>
Result<T> from_json(const Json& j) {
  T out{};
  P2C2R_RETURN_IF_ERROR(read(j, "", out));
  return out;
}

template <typename T>
Result<T> parse(std::string_view body) {
  Json j = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return invalid_argument("body: malformed JSON");
  return from_json<T>(j);
}

template <typename T>
Json to_json(const T& value) {
  return js(value);
}

#define P2C2R_WIRE_TYPE(T)                       \
  template Result<T> parse<T>(std::string_view); \
  template Result<T> from_json<T>(const Json&);  \
  template Json to_json<T>(const T&);
P2C2R_WIRE_TYPE(KernelSpeed)
P2C2R_WIRE_TYPE(DeviceCaps)
P2C2R_WIRE_TYPE(RegisterHost)
P2C2R_WIRE_TYPE(Registered)
P2C2R_WIRE_TYPE(WorkRequest)
P2C2R_WIRE_TYPE(Manifest)
P2C2R_WIRE_TYPE(Assignment)
P2C2R_WIRE_TYPE(Report)
P2C2R_WIRE_TYPE(ReportReply)
P2C2R_WIRE_TYPE(WorkloadSpec)
P2C2R_WIRE_TYPE(WorkloadStatus)
P2C2R_WIRE_TYPE(HostInfo)
P2C2R_WIRE_TYPE(Error)
P2C2R_WIRE_TYPE(ReplicaReport)
P2C2R_WIRE_TYPE(UnitReport)
P2C2R_WIRE_TYPE(WorkloadReport)
P2C2R_WIRE_TYPE(HostReport)
P2C2R_WIRE_TYPE(ReportSummary)

}  // namespace p2c2r::wire
