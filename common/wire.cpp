#include "common/internal/wire_json.h"

namespace p2c2r::wire {

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
OPT(unfit);
if (out.ok && !out.digest)
  return invalid_argument(join(path, "digest") + ": required when ok is true");
if (!out.ok && out.error.empty())
  return invalid_argument(join(path, "error") + ": required when ok is false");
if (out.ok && out.unfit)
  return invalid_argument(join(path, "unfit") + ": only a failed unit can be unfit");
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
OPT(keyframe_interval);
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

#undef REQ
#undef OPT

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
  if (v.unfit) j["unfit"] = true;
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
  return {{"frames", v.frames},
          {"tiles", v.tiles},
          {"seed", v.seed},
          {"stage_params", sp},
          {"keyframe_interval", v.keyframe_interval}};
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

std::string manifest_signing_bytes(const Manifest& m) {
  return "p2c2r-manifest-v1\n" + js(m).dump();
}

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

}  // namespace p2c2r::wire
