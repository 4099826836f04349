// User-facing operations (submit, status, cancel, lists, metrics), the unit
// life cycle shared with the peer side (ready, replicas, failure), and the
// rebuild of the in-memory state from the store on start-up.
#include <algorithm>

#include "server/coordinator.h"

namespace p2c2r::server {

using wire::Json;

namespace {

Json policy_json(const validator::ReplicationPolicy& p) {
  return {{"min_quorum", p.min_quorum},
          {"target_nresults", p.target_nresults},
          {"max_error_results", p.max_error_results},
          {"max_total_results", p.max_total_results}};
}

Result<validator::ReplicationPolicy> parse_policy(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return internal_error("stored replication policy is not JSON");
  try {
    return validator::ReplicationPolicy{
        j.at("min_quorum").get<uint32_t>(), j.at("target_nresults").get<uint32_t>(),
        j.at("max_error_results").get<uint32_t>(), j.at("max_total_results").get<uint32_t>()};
  } catch (const std::exception& e) {
    return internal_error(std::string("stored replication policy: ") + e.what());
  }
}

Result<std::vector<uint64_t>> parse_ids(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array())
    return internal_error("stored dependency list is not a JSON array");
  std::vector<uint64_t> ids;
  for (const auto& v : j) {
    if (!v.is_number_unsigned()) return internal_error("stored dependency list holds a non-id");
    ids.push_back(v.get<uint64_t>());
  }
  return ids;
}

Reply json_reply(int status, std::string body) {
  return {status, "application/json", std::move(body)};
}

// Units of one shape (kernel and planned parameters) need the same device
// resources; a host that reports one unfit gets no more of them. In memory
// only (rebuilt from the unfit replicas at load), so the hash need not be
// stable across builds.
uint64_t unit_shape(const std::string& kernel, const std::string& params_json) {
  return std::hash<std::string>{}(kernel + '\n' + params_json);
}

bool terminal(const std::string& unit_state) {
  return unit_state == "valid" || unit_state == "failed" || unit_state == "cancelled";
}

}  // namespace

void Coordinator::set_unit_state(Unit& u, const std::string& state, std::vector<Mutation>& ops) {
  if (!u.row.state.empty()) --unit_states_[u.row.state];
  ++unit_states_[state];
  u.row.state = state;
  ops.push_back(u.row);
}

void Coordinator::make_ready(Unit& u, int64_t now, std::vector<Mutation>& ops) {
  u.manifest_json.clear();  // signed when its first replica goes out (see manifest_of)
  settle_unit(u, now, ops);
}

// The unit's signed manifest; its inputs are its dependencies' canonical
// outputs, known once it is ready. Signed lazily, so a large submission does
// not spend its time signing units that wait in the queue.
void Coordinator::sign_manifest(Unit& u) {
  if (!u.manifest_json.empty()) return;
  wire::Manifest m;
  m.unit_id = u.row.id;
  m.workload_id = u.row.workload_id;
  m.kernel = u.row.kernel;
  m.kernel_version = u.row.kernel_version;
  m.params = u.params;
  m.seed = u.row.seed;
  m.inputs = inputs_of(u);
  m.deadline_ms = u.row.deadline_ms;
  u.manifest_json = wire::serialize(m);
  u.manifest_signature = options_.server_key->sign(wire::manifest_signing_bytes(m)).hex();
}

ReplicaRow Coordinator::sent_replica(uint64_t unit_id, uint64_t host_id, int64_t now,
                                     int64_t delay_bound_ms) {
  ReplicaRow r;
  r.id = next_replica_++;
  r.unit_id = unit_id;
  r.host_id = host_id;
  r.state = "in_progress";
  r.sent_ms = now;
  r.report_by_ms = now + delay_bound_ms;
  return r;
}

std::vector<std::string> Coordinator::inputs_of(const Unit& u) const {
  std::vector<std::string> in = u.inputs;
  for (uint32_t i = 0; i < u.inputs_from_deps && i < u.deps.size(); ++i)
    in.push_back(units_.at(u.deps[i]).row.canonical);
  return in;
}

void Coordinator::queue_replicas(Unit& u, uint32_t count) {
  const Workload& w = workloads_.at(u.row.workload_id);
  scheduler::ReadyUnit r;
  r.unit_id = u.row.id;
  r.workload_id = w.row.id;
  r.submitter = w.row.submitter;
  r.priority = w.priority;
  r.deadline_ms = u.row.deadline_ms;
  r.kernel = u.row.kernel;
  r.kernel_version = u.row.kernel_version;
  r.requires_ = w.requires_;
  r.replicas_wanted = count;
  r.shape = u.shape;
  for (uint64_t id : u.replicas) r.hosts.push_back(replicas_.at(id).host_id);
  ready_.add(std::move(r));
}

void Coordinator::fail_workload(Workload& w, const std::string& state, const std::string& reason,
                                int64_t now, std::vector<Mutation>& ops) {
  if (w.row.state != "running") return;
  w.row.state = state;
  w.row.reason = reason;
  w.row.finished_ms = now;
  ops.push_back(w.row);
  for (uint64_t id : w.units) {
    Unit& u = units_.at(id);
    for (uint64_t rid : u.replicas)
      if (replicas_.at(rid).state == "in_progress") end_replica(rid, "cancelled", ops);
    if (terminal(u.row.state)) continue;
    ready_.remove(id);
    set_unit_state(u, "cancelled", ops);
  }
}

wire::WorkloadStatus Coordinator::status_of(const Workload& w) const {
  wire::WorkloadStatus s;
  s.id = w.row.id;
  s.name = w.row.name;
  s.kind = w.row.kind;
  s.priority = w.row.priority;
  s.submitter = w.row.submitter;
  s.state = w.row.state;
  s.reason = w.row.reason;
  s.created_ms = w.row.created_ms;
  s.finished_ms = w.row.finished_ms;
  for (uint64_t id : w.units) {
    const auto& st = units_.at(id).row.state;
    auto& c = s.units;
    (st == "waiting"   ? c.waiting
     : st == "ready"   ? c.ready
     : st == "running" ? c.running
     : st == "valid"   ? c.valid
     : st == "failed"  ? c.failed
                       : c.cancelled)++;
  }
  if (w.row.state == "done")
    for (uint64_t id : w.units) s.outputs.push_back(units_.at(id).row.canonical);
  return s;
}

void Coordinator::submit(const wire::WorkloadSpec& spec, Respond respond) {
  if (spec.name.size() > 256)
    return respond(error_reply(invalid_argument("name: longer than 256 characters")));
  if (spec.submitter.size() > 128)
    return respond(error_reply(invalid_argument("submitter: longer than 128 characters")));
  const int64_t now = now_ms();
  auto plan = scheduler::plan_workload(spec, now);
  if (!plan.ok()) return respond(error_reply(plan.status()));
  // Every kernel must exist here and accept its parameters before anything is
  // stored. Units of a stage may differ in parameters (a game's tiles each
  // have their rectangle), so each distinct set is resolved once.
  struct Checked {
    const kernels::Kernel* kernel;
    wire::ParamMap params;
    uint64_t cost;
  };
  using CheckKey = std::pair<std::string, wire::ParamMap>;  // stage, given parameters
  std::map<CheckKey, Checked> checked;
  auto checked_of = [&](const scheduler::PlannedUnit& pu) -> const Checked& {
    return checked.at({pu.stage, pu.params});
  };
  for (const auto& pu : plan->units) {
    if (checked.count({pu.stage, pu.params})) continue;
    auto k = options_.registry->find(pu.kernel);
    if (!k.ok())
      return respond(error_reply(invalid_argument(pu.stage + " stage: " + k.status().message())));
    auto params = (*k)->resolve_params(pu.seed, pu.params);
    if (!params.ok())
      return respond(error_reply(params.status().with_context(pu.stage + " stage params")));
    checked[{pu.stage, pu.params}] = {*k, params->values, (*k)->cost(*params)};
  }
  // A unit's inputs are generated blobs followed by its dependencies'
  // outputs (where the plan says its deps carry data): the kernel's inputs
  // not coming from dependencies are generated from the unit's seed here,
  // once, and stored as blobs, so every replica runs on the same bytes,
  // which the manifest names by digest.
  std::vector<std::vector<std::string>> inputs(plan->units.size());
  std::vector<uint32_t> from_deps(plan->units.size(), 0);
  std::vector<BlobRow> new_blobs;
  for (const auto& pu : plan->units) {
    const Checked& c = checked_of(pu);
    const kernels::Params params{pu.seed, c.params};
    const size_t names = c.kernel->input_names_for(params).size();
    from_deps[pu.index] =
        pu.inputs_from_deps ? static_cast<uint32_t>(std::min(names, pu.deps.size())) : 0;
    const size_t own = names - from_deps[pu.index];
    if (own == 0) continue;
    auto generated = c.kernel->generate_inputs(params);
    if (!generated.ok())
      return respond(error_reply(generated.status().with_context(pu.stage + " stage inputs")));
    generated->resize(std::min(generated->size(), own));  // the rest come from dependencies
    for (const Bytes& blob : *generated) {
      const Digest d = digest_of(blob);
      inputs[pu.index].push_back(d.hex());
      if (std::any_of(new_blobs.begin(), new_blobs.end(),
                      [&](const BlobRow& b) { return b.digest == d.hex(); }))
        continue;
      if (Status st = blobs_.put(d, blob); !st.ok()) return respond(error_reply(st));
      new_blobs.push_back({d.hex(), blob.size()});
    }
  }

  std::lock_guard lock(mu_);
  Workload& w = workloads_[next_workload_];
  w.row.id = next_workload_++;
  w.row.name = spec.name;
  w.row.kind = spec.kind;
  w.row.priority = spec.priority;
  w.row.submitter = spec.submitter.empty() ? "admin" : spec.submitter;
  w.row.spec_json = wire::serialize(spec);
  w.row.policy_json = policy_json(plan->replication).dump();
  w.row.state = "running";
  w.row.created_ms = now;
  w.priority = plan->priority;
  w.policy = plan->replication;
  w.requires_ = spec.requires_;
  std::vector<uint64_t> ids;
  for (const auto& pu : plan->units) {
    const Checked& c = checked_of(pu);
    const uint64_t id = next_unit_++;
    ids.push_back(id);
    Unit& u = units_[id];
    u.row.id = id;
    u.row.workload_id = w.row.id;
    u.row.idx = pu.index;
    u.row.stage = pu.stage;
    u.row.kernel = pu.kernel;
    u.row.kernel_version = c.kernel->version();
    u.params = c.params;
    u.row.params_json = Json(c.params).dump();
    u.shape = unit_shape(u.row.kernel, u.row.params_json);
    u.row.seed = pu.seed;
    u.row.deadline_ms = pu.deadline_ms;
    u.row.delay_bound_ms = pu.delay_bound_ms;
    u.cost = c.cost;
    u.family = c.kernel->family();
    for (uint32_t d : pu.deps) {
      u.deps.push_back(ids.at(d));
      units_.at(ids.at(d)).dependants.push_back(id);
    }
    u.row.deps_json = Json(u.deps).dump();
    u.inputs = std::move(inputs[pu.index]);
    u.inputs_from_deps = from_deps[pu.index];
    u.row.inputs_json = Json(u.inputs).dump();
    u.deps_pending = static_cast<uint32_t>(u.deps.size());
    w.units.push_back(id);
    std::vector<Mutation> ignored;
    set_unit_state(u, "waiting", ignored);
  }
  std::vector<Mutation> ops{w.row}, ignored;
  for (auto& b : new_blobs) {
    stored_blobs_.insert(b.digest);
    ops.push_back(std::move(b));
  }
  for (uint64_t id : ids)
    if (units_.at(id).deps_pending == 0) make_ready(units_.at(id), now, ignored);
  for (uint64_t id : ids) ops.push_back(units_.at(id).row);  // final state of every unit
  commit_.submit(std::move(ops), [respond = std::move(respond),
                                  body = wire::serialize(status_of(w))](const Status& s) {
    respond(s.ok() ? json_reply(200, body) : error_reply(s));
  });
  wake_waiters(now);
}

Reply Coordinator::workload_status(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = workloads_.find(id);
  if (it == workloads_.end())
    return error_reply(not_found("workload " + std::to_string(id) + " does not exist"));
  return json_reply(200, wire::serialize(status_of(it->second)));
}

Reply Coordinator::list_workloads() {
  std::lock_guard lock(mu_);
  Json list = Json::array();
  for (const auto& [id, w] : workloads_) list.push_back(wire::to_json(status_of(w)));
  return json_reply(200, list.dump());
}

void Coordinator::cancel(uint64_t id, Respond respond) {
  std::lock_guard lock(mu_);
  auto it = workloads_.find(id);
  if (it == workloads_.end())
    return respond(error_reply(not_found("workload " + std::to_string(id) + " does not exist")));
  Workload& w = it->second;
  if (w.row.state != "running")
    return respond(error_reply(failed_precondition(
        "workload " + std::to_string(id) + " is already " + w.row.state + "; nothing to cancel")));
  std::vector<Mutation> ops;
  fail_workload(w, "cancelled", "cancelled on request", now_ms(), ops);
  commit_.submit(std::move(ops), [respond = std::move(respond),
                                  body = wire::serialize(status_of(w))](const Status& s) {
    respond(s.ok() ? json_reply(200, body) : error_reply(s));
  });
}

Reply Coordinator::list_hosts() {
  std::lock_guard lock(mu_);
  Json list = Json::array();
  for (uint64_t id = 1; id < next_host_; ++id)
    if (auto it = hosts_.find(id); it != hosts_.end())
      list.push_back(wire::to_json(host_info_of(it->second)));
  return json_reply(200, list.dump());
}

Reply Coordinator::host_info(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = hosts_.find(id);
  if (it == hosts_.end())
    return error_reply(not_found("host " + std::to_string(id) + " is not registered"));
  return json_reply(200, wire::serialize(host_info_of(it->second)));
}

std::string Coordinator::metrics_text() {
  std::lock_guard lock(mu_);
  const int64_t now = now_ms();
  std::string out = "# HELP p2c2r_units Work units by state.\n# TYPE p2c2r_units gauge\n";
  for (const char* st : {"waiting", "ready", "running", "valid", "failed", "cancelled"}) {
    auto it = unit_states_.find(st);
    out += std::string("p2c2r_units{state=\"") + st + "\"} " +
           std::to_string(it == unit_states_.end() ? 0 : it->second) + "\n";
  }
  auto gauge = [&](const char* name, const char* help, const char* type, double v) {
    char line[64];
    std::snprintf(line, sizeof line, "%.10g", v);
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
           name + " " + line + "\n";
  };
  gauge("p2c2r_queue_depth", "Replicas waiting to be sent.", "gauge",
        static_cast<double>(ready_.replicas_wanted()));
  gauge("p2c2r_replicas_in_flight", "Replicas sent and not yet reported.", "gauge",
        static_cast<double>(deadlines_.size()));
  gauge("p2c2r_long_polls", "Work requests waiting for a unit.", "gauge",
        static_cast<double>(waiters_.size()));
  gauge("p2c2r_hosts", "Registered hosts.", "gauge", static_cast<double>(hosts_.size()));
  gauge("p2c2r_results_total", "Results reported.", "counter",
        static_cast<double>(metrics_.results_total()));
  gauge("p2c2r_results_per_second", "Results reported per second over the last 10 seconds.",
        "gauge", metrics_.results_per_second(now));
  gauge("p2c2r_store_commits_total",
        "Store transactions committed (each serves a group of requests).", "counter",
        static_cast<double>(commit_.commits()));
  return out + metrics_.render_histogram();
}

Status Coordinator::load(const Snapshot& snap) {
  std::lock_guard lock(mu_);
  for (const auto& n : snap.nonces) {
    const std::string k = std::to_string(n.host_id) + ":" + n.nonce;
    nonces_.insert(k);
    nonce_order_.push_back({n.timestamp_ms, k});
  }
  std::sort(nonce_order_.begin(), nonce_order_.end());
  for (const auto& b : snap.blobs) stored_blobs_.insert(b.digest);
  for (const auto& row : snap.hosts) {
    Host& h = hosts_[row.id];
    h.row = row;
    P2C2R_ASSIGN_OR_RETURN(h.key, crypto::PublicKey::from_hex(row.public_key));
    auto caps = wire::parse<wire::DeviceCaps>(row.caps_json);
    if (!caps.ok()) return caps.status().with_context("stored host " + std::to_string(row.id));
    h.caps = *caps;
    h.view = scheduler::HostView::from_caps(row.id, h.caps);
    host_by_key_[row.public_key] = row.id;
    next_host_ = std::max(next_host_, row.id + 1);
  }
  for (const auto& row : snap.workloads) {
    Workload& w = workloads_[row.id];
    w.row = row;
    P2C2R_ASSIGN_OR_RETURN(w.priority, scheduler::parse_priority(row.priority));
    P2C2R_ASSIGN_OR_RETURN(w.policy, parse_policy(row.policy_json));
    auto spec = wire::parse<wire::WorkloadSpec>(row.spec_json);
    if (!spec.ok()) return spec.status().with_context("stored workload " + std::to_string(row.id));
    w.requires_ = spec->requires_;
    next_workload_ = std::max(next_workload_, row.id + 1);
  }
  for (const auto& row : snap.units) {
    Unit& u = units_[row.id];
    u.row = row;
    P2C2R_ASSIGN_OR_RETURN(u.deps, parse_ids(row.deps_json));
    Json inputs_json = Json::parse(row.inputs_json, nullptr, false);
    if (!inputs_json.is_array())
      return internal_error("stored unit " + std::to_string(row.id) + ": inputs not a JSON array");
    u.inputs = inputs_json.get<std::vector<std::string>>();
    Json params = Json::parse(row.params_json, nullptr, false);
    if (params.is_discarded())
      return internal_error("stored unit " + std::to_string(row.id) + ": params not JSON");
    u.params = params.get<wire::ParamMap>();
    u.shape = unit_shape(row.kernel, row.params_json);
    // Without its kernel or valid params a unit takes its dependencies'
    // outputs when it has no generated inputs (the rule before kernels said).
    u.inputs_from_deps = u.inputs.empty() ? static_cast<uint32_t>(u.deps.size()) : 0;
    if (auto k = options_.registry->find(row.kernel); k.ok()) {
      u.family = (*k)->family();
      if (auto p = (*k)->resolve_params(row.seed, u.params); p.ok()) {
        u.cost = (*k)->cost(*p);
        const size_t names = (*k)->input_names_for(*p).size();
        u.inputs_from_deps = static_cast<uint32_t>(
            std::min(u.deps.size(), names > u.inputs.size() ? names - u.inputs.size() : 0));
      }
    }
    auto w = workloads_.find(row.workload_id);
    if (w == workloads_.end())
      return internal_error("stored unit " + std::to_string(row.id) + " has no workload");
    w->second.units.push_back(row.id);
    if (row.state == "valid") ++w->second.valid;
    ++unit_states_[row.state];
    next_unit_ = std::max(next_unit_, row.id + 1);
  }
  for (auto& [id, u] : units_) {
    for (uint64_t dep : u.deps) {
      auto d = units_.find(dep);
      if (d == units_.end())
        return internal_error("stored unit " + std::to_string(id) + " depends on a missing unit");
      d->second.dependants.push_back(id);
      if (d->second.row.state != "valid" || !stored_blobs_.count(d->second.row.canonical))
        ++u.deps_pending;
    }
    if (u.row.state == "valid" && !stored_blobs_.count(u.row.canonical)) await_output(u, now_ms());
  }
  for (auto& [id, w] : workloads_) std::sort(w.units.begin(), w.units.end());
  for (auto& [id, d] : units_) std::sort(d.dependants.begin(), d.dependants.end());
  for (const auto& row : snap.replicas) {
    auto u = units_.find(row.unit_id);
    if (u == units_.end())
      return internal_error("stored replica " + std::to_string(row.id) + " has no unit");
    replicas_[row.id] = row;
    next_replica_ = std::max(next_replica_, row.id + 1);
    if (auto h = hosts_.find(row.host_id); h != hosts_.end() && row.state == "unfit")
      h->second.view.unfit_shapes.insert(u->second.shape);
    if (row.ringer()) {
      load_ringer(row);  // not one of the unit's replicas: it never joins its quorum
      continue;
    }
    u->second.replicas.push_back(row.id);
    if (row.state != "in_progress") continue;
    deadlines_.add(row.id, row.report_by_ms);
    if (auto h = hosts_.find(row.host_id); h != hosts_.end()) h->second.active.insert(row.id);
    ready_.replica_started(workloads_.at(u->second.row.workload_id).row.submitter);
  }
  P2C2R_RETURN_IF_ERROR(replay_validation(snap));
  std::vector<uint64_t> valid_ids;
  for (const auto& [id, u] : units_)
    if (u.row.state == "valid") valid_ids.push_back(id);
  std::sort(valid_ids.begin(), valid_ids.end());
  for (uint64_t id : valid_ids) ringer_sources_[units_.at(id).family].push_back(id);
  // Units that were handing out replicas get their manifests back and ask again
  // for what they still lack; the resulting rows equal the stored ones.
  const int64_t now = now_ms();
  std::vector<Mutation> ignored;
  for (auto& [id, u] : units_)
    if (u.row.state == "ready" || u.row.state == "running") make_ready(u, now, ignored);
  return Status::Ok();
}

}  // namespace p2c2r::server
