// The JSON messages of the P2C2R HTTP API (docs/protocol.md), shared by the
// server, the CLI and the peer.
//
// Parsing is strict: an unknown field, a missing required field or a value of
// the wrong type is an invalid-argument Status whose message names the field
// by its path ("raw.units: expected an unsigned integer, got string"), so a
// client learns exactly what to fix. Serialisation is deterministic (keys
// sorted), which is what makes a manifest's signature reproducible.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace p2c2r::wire {

using Json = nlohmann::json;
using ParamMap = std::map<std::string, int64_t>;

// ---- peers ----

// What a host measured for one kernel (runtime::KernelThroughput, reduced).
struct KernelSpeed {
  std::string kernel;
  uint32_t version = 0;
  double seconds_per_unit = 0;
};

struct DeviceCaps {
  std::string name;
  uint64_t memory_bytes = 0;
  std::vector<std::string> features;  // e.g. "int64", "subgroups"
  std::vector<KernelSpeed> kernels;   // the kernels this host can run, with their speed
};

struct RegisterHost {
  std::string public_key;  // Ed25519, 64 hex digits
  std::string name;
  DeviceCaps device;
};

struct Registered {
  uint64_t host_id = 0;
  std::string server_public_key;
};

struct WorkRequest {
  uint32_t wait_ms = 0;  // long-poll bound; the server caps it
};

// What a peer runs; signed by the server (Assignment::manifest_signature over
// manifest_signing_bytes()).
struct Manifest {
  uint64_t unit_id = 0;
  uint64_t workload_id = 0;
  std::string kernel;
  uint32_t kernel_version = 0;
  ParamMap params;
  uint64_t seed = 0;
  std::vector<std::string> inputs;  // digests (hex) of input blobs, in the kernel's order
  int64_t deadline_ms = 0;          // the unit's deadline, unix milliseconds
};

// The canonical bytes a manifest signature covers: its JSON with sorted keys.
std::string manifest_signing_bytes(const Manifest& m);

struct Assignment {
  uint64_t replica_id = 0;
  int64_t report_by_ms = 0;  // this replica times out after this (unix ms)
  Manifest manifest;
  std::string manifest_signature;  // hex
};

struct Report {
  uint64_t replica_id = 0;
  bool ok = true;
  std::optional<std::string> digest;  // required when ok
  std::string error;                  // required when !ok
  double seconds = 0;
  // Also a work request: the reply carries the next assignment if one is
  // ready now (one round trip per unit, like BOINC's scheduler RPC; no long
  // poll here: when none is ready the peer asks with POST /v1/work).
  bool want_work = false;
  // With !ok: the unit is past one of this host's fixed device limits (a
  // buffer over maxStorageBufferRange or maxTexelBufferElements, too many
  // workgroups). Not a wrong answer: the server gives the unit to another
  // host and does not hold it against this one.
  bool unfit = false;
};

struct ReportReply {
  bool want_output = false;        // upload the output with PUT /v1/replicas/ID/output
  std::optional<Assignment> work;  // the next unit, when the report asked for one
};

// ---- users ----

struct Replication {
  std::optional<uint32_t> min_quorum;
  std::optional<uint32_t> target_nresults;
  std::optional<uint32_t> max_error_results;
  std::optional<uint32_t> max_total_results;
};

struct Requirements {
  uint64_t memory_bytes = 0;
  std::vector<std::string> features;
};

struct RawSpec {
  std::string kernel;
  ParamMap params;
  uint64_t seed = 0;  // unit i uses seed + i unless `seeds` is given
  uint32_t units = 1;
  std::vector<uint64_t> seeds;  // one unit per seed when not empty
};

struct GameSpec {
  uint32_t frames = 1;
  uint32_t tiles = 4;  // ray-traced tiles per frame
  uint64_t seed = 0;
  std::map<std::string, ParamMap> stage_params;  // by stage name: ai, physics, raytrace, video
  // Every keyframe_interval-th frame's video is an I-frame, the others
  // P-frames continuing the frames before (docs/kernels.md).
  uint32_t keyframe_interval = 8;
};

struct WorkloadSpec {
  std::string kind;  // "raw" or "game"
  std::string name;
  // Whose work this is, for fair share. The admin token may submit on behalf
  // of any submitter; empty means "admin".
  std::string submitter;
  std::string priority = "batch";  // "interactive" or "batch"
  // interactive game: each frame's deadline (ms); otherwise the workload's (ms).
  std::optional<int64_t> deadline_ms;
  Replication replication;
  Requirements requires_;  // JSON "requires"
  std::optional<RawSpec> raw;
  std::optional<GameSpec> game;
};

struct UnitCounts {
  uint64_t waiting = 0, ready = 0, running = 0, valid = 0, failed = 0, cancelled = 0;
};

struct WorkloadStatus {
  uint64_t id = 0;
  std::string name;
  std::string kind;
  std::string priority;
  std::string submitter;
  std::string state;   // "running", "done", "failed", "cancelled"
  std::string reason;  // why it failed or was cancelled
  int64_t created_ms = 0;
  int64_t finished_ms = 0;
  UnitCounts units;
  std::vector<std::string> outputs;  // canonical output digests by unit, when done
};

struct HostInfo {
  uint64_t id = 0;
  std::string name;
  std::string public_key;
  DeviceCaps device;
  int64_t registered_ms = 0;
  int64_t last_seen_ms = 0;
  uint64_t valid_results = 0;
  uint64_t invalid_results = 0;
  uint64_t error_results = 0;
  double credit = 0;  // granted, in 1e9 kernel operations (Kernel::cost)
  // Reliability over every kernel family (validator/reliability.h).
  uint64_t timeout_results = 0;
  uint64_t consecutive_valid = 0;
  double error_rate = 0;
  std::string standing;           // untrusted, trusted, probation, quarantined
  std::string quarantine_reason;  // empty unless quarantined
  double credit_pending = 0;      // unverified single results, until the host next passes a check
  double credit_revoked = 0;      // taken back from results found wrong
};

struct Error {
  std::string error;  // what went wrong, for a person
  std::string code;   // common/result.h code name
};

// ---- reports (admin; GET /v1/reports/...) ----

// One replica of a unit: where it went, what came back, what the validator
// made of it.
struct ReplicaReport {
  uint64_t id = 0;
  uint64_t host_id = 0;
  std::string host_name;
  std::string state;     // in_progress, reported, error, unfit, timed_out, cancelled
  std::string validity;  // "valid", "invalid", or "" while not judged
  std::string digest;    // output digest, when reported
  std::string error;     // the peer's error text, when state is "error" or "unfit"
  int64_t sent_ms = 0;
  int64_t report_by_ms = 0;
  int64_t reported_ms = 0;  // 0 while not reported
};

struct UnitReport {
  uint64_t id = 0;
  uint64_t workload_id = 0;
  uint32_t index = 0;  // the unit's place in its workload
  std::string stage;
  std::string kernel;
  uint32_t kernel_version = 0;
  ParamMap params;  // as planned; with `seed` they give the kernel's parameters
  uint64_t seed = 0;
  std::string state;      // waiting, ready, running, valid, failed, cancelled
  std::string canonical;  // the accepted digest, when valid
  std::string reason;     // why it failed
  std::vector<ReplicaReport> replicas;
};

// One unit's line in a workload report.
struct UnitLine {
  uint64_t id = 0;
  uint32_t index = 0;
  std::string stage;
  std::string kernel;
  std::string state;
  std::string canonical;
  uint64_t replicas = 0;  // sent, in any state
  uint64_t valid = 0, invalid = 0, errors = 0, timed_out = 0, in_progress = 0;
  // Reported results whose digest differs from the canonical one (before
  // validation: from the largest agreeing group).
  uint64_t disagreements = 0;
};

struct WorkloadReport {
  WorkloadStatus workload;
  std::vector<UnitLine> units;
};

// A host as GET /v1/hosts/{id} shows it, plus counts taken from its replicas.
struct HostReport {
  HostInfo host;
  uint64_t timed_out_results = 0;
  uint64_t in_progress = 0;
  // Ringers (units whose answer was known) it got right, and got wrong,
  // errored or timed out on. Admin only: the host itself must not learn which
  // of its results were ringers. Optional: older servers omit them.
  uint64_t ringers_passed = 0;
  uint64_t ringers_failed = 0;
  // Units it reported too big for its device or sandbox (Report::unfit).
  // Optional: older servers omit it.
  uint64_t unfit_results = 0;
};

struct ReportSummary {
  uint64_t hosts = 0;
  uint64_t workloads = 0;
  uint64_t units_validated = 0, units_failed = 0, units_in_progress = 0, units_cancelled = 0;
  // Replicas sent (errors and timeouts included) per validated unit: the
  // redundancy validation cost.
  double replicas_per_validated_unit = 0;
  uint64_t units_with_disagreement = 0;  // units with at least one invalid result
  uint64_t replicas = 0;
  uint64_t valid_results = 0, invalid_results = 0, error_results = 0, timed_out_results = 0;
  // Present when the server counts them (trusted spot checks, quarantine).
  std::optional<uint64_t> spot_checks;
  std::optional<uint64_t> quarantined_hosts;
  // Credit granted for each submitter's work (1e9 kernel operations): what
  // the submitter consumed.
  std::optional<std::map<std::string, double>> credit_by_submitter;
};

// Parsing (strict) and serialising each message.
template <typename T>
Result<T> parse(std::string_view body);
template <typename T>
Json to_json(const T& value);
template <typename T>
std::string serialize(const T& value) {
  return to_json(value).dump();
}

// Parses a JSON value that has already been read (for lists, CLI files).
template <typename T>
Result<T> from_json(const Json& j);

}  // namespace p2c2r::wire
