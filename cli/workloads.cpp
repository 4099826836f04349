// p2c2r submit / status / cancel / hosts: the user side of the server API.
//
// Where the server is: see cli/server_flags.h. Errors from the server are
// printed as the server wrote them.
#include <chrono>
#include <fstream>
#include <iomanip>
#include <thread>

#include "cli/options.h"
#include "cli/progress.h"
#include "cli/server_flags.h"
#include "common/http_client.h"
#include "common/wire.h"

namespace p2c2r::cli {
namespace {

using wire::Json;

Result<wire::WorkloadStatus> get_status(http::Client& client, uint64_t id) {
  P2C2R_ASSIGN_OR_RETURN(std::string body, http::ok_body(client.request(
                                               "GET", "/v1/workloads/" + std::to_string(id))));
  return wire::parse<wire::WorkloadStatus>(body);
}

uint64_t total(const wire::UnitCounts& c) {
  return c.waiting + c.ready + c.running + c.valid + c.failed + c.cancelled;
}

std::string counts(const wire::UnitCounts& c) {
  std::ostringstream out;
  out << c.valid << "/" << total(c) << " valid";
  if (c.running) out << ", " << c.running << " running";
  if (c.ready) out << ", " << c.ready << " ready";
  if (c.waiting) out << ", " << c.waiting << " waiting";
  if (c.failed) out << ", " << c.failed << " failed";
  if (c.cancelled) out << ", " << c.cancelled << " cancelled";
  return out.str();
}

void print_status(const wire::WorkloadStatus& s) {
  std::cout << "workload " << s.id << (s.name.empty() ? "" : " (" + s.name + ")") << ": " << s.state
            << "\n"
            << "  kind " << s.kind << ", priority " << s.priority << ", submitter " << s.submitter
            << "\n"
            << "  units " << counts(s.units) << "\n";
  if (!s.reason.empty()) std::cout << "  reason: " << s.reason << "\n";
  if (s.finished_ms) std::cout << "  took " << (s.finished_ms - s.created_ms) / 1000.0 << " s\n";
  for (size_t i = 0; i < s.outputs.size() && i < 8; ++i)
    std::cout << "  output " << i << ": " << s.outputs[i] << "\n";
  if (s.outputs.size() > 8)
    std::cout << "  ... " << s.outputs.size() - 8 << " more outputs (--json lists all)\n";
}

// Splits "name=value" into the map.
Status add_param(wire::ParamMap& params, const std::string& pair) {
  const size_t eq = pair.find('=');
  if (eq == std::string::npos || eq == 0)
    return invalid_argument("--param '" + pair + "': expected name=value");
  try {
    size_t used = 0;
    const std::string v = pair.substr(eq + 1);
    params[pair.substr(0, eq)] = std::stoll(v, &used);
    if (used != v.size()) throw std::invalid_argument(v);
  } catch (const std::exception&) {
    return invalid_argument("--param '" + pair + "': value must be an integer");
  }
  return Status::Ok();
}

}  // namespace

int submit_command(const Args& args) {
  ServerFlags server;
  std::string file, kind = "raw", kernel, name, submitter, priority = "batch";
  std::vector<std::string> params;
  uint32_t units = 1, frames = 1, tiles = 4, min_quorum = 0;
  uint64_t seed = 0;
  int64_t deadline_ms = 0;
  bool wait = false, json = false;
  po::options_description options("submit options");
  server.add_to(options);
  options.add_options()("file", po::value(&file),
                        "workload spec, JSON (docs/protocol.md); or give the flags below")(
      "kind", po::value(&kind)->default_value(kind), "raw or game")("kernel", po::value(&kernel),
                                                                    "raw: kernel name")(
      "param", po::value(&params)->composing(), "raw: kernel parameter name=value (repeatable)")(
      "units", po::value(&units)->default_value(units), "raw: number of units")(
      "frames", po::value(&frames)->default_value(frames), "game: frames")(
      "tiles", po::value(&tiles)->default_value(tiles), "game: ray-traced tiles per frame")(
      "seed", po::value(&seed)->default_value(seed), "first unit's seed")(
      "name", po::value(&name), "workload name")("submitter", po::value(&submitter),
                                                 "on whose behalf (fair share)")(
      "priority", po::value(&priority)->default_value(priority), "interactive or batch")(
      "deadline-ms", po::value(&deadline_ms), "deadline (per frame for interactive games)")(
      "min-quorum", po::value(&min_quorum), "agreeing results needed per unit")(
      "wait", po::bool_switch(&wait), "wait for the end, with a progress bar, and print a summary")(
      "json", po::bool_switch(&json), "print the final status as JSON");
  po::positional_options_description positional;
  positional.add("file", 1);
  po::variables_map vm;
  if (auto code = parse("submit", "[FILE.json | --kernel K --units N ...] [--wait]", args, options,
                        vm, &positional))
    return *code;

  wire::WorkloadSpec spec;
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) return fail("submit", not_found("cannot read " + file));
    std::string text((std::istreambuf_iterator<char>(in)), {});
    auto parsed = wire::parse<wire::WorkloadSpec>(text);
    if (!parsed.ok()) return fail("submit", parsed.status().with_context(file));
    spec = *parsed;
  } else {
    spec.kind = kind;
    spec.name = name;
    spec.submitter = submitter;
    spec.priority = priority;
    if (vm.count("deadline-ms")) spec.deadline_ms = deadline_ms;
    if (vm.count("min-quorum")) spec.replication.min_quorum = min_quorum;
    if (kind == "raw") {
      if (kernel.empty())
        return fail("submit", invalid_argument("--kernel is required for a raw workload"));
      wire::RawSpec raw{kernel, {}, seed, units, {}};
      for (const auto& p : params)
        if (Status s = add_param(raw.params, p); !s.ok()) return fail("submit", s);
      spec.raw = raw;
    } else {
      spec.game = wire::GameSpec{frames, tiles, seed, {}};
    }
  }
  auto client = server.client();
  if (!client.ok()) return fail("submit", client.status());
  const std::string body = wire::serialize(spec);
  auto reply = http::ok_body(client->request("POST", "/v1/workloads", bytes_of(body)));
  if (!reply.ok()) return fail("submit", reply.status());
  auto status = wire::parse<wire::WorkloadStatus>(*reply);
  if (!status.ok()) return fail("submit", status.status().with_context("server reply"));
  if (!wait) {
    if (json)
      std::cout << *reply << "\n";
    else
      std::cout << "submitted workload " << status->id << " (" << total(status->units)
                << " units)\n";
    return 0;
  }
  ProgressBar bar;
  while (status->state == "running") {
    bar.update(
        static_cast<double>(status->units.valid) / std::max<uint64_t>(1, total(status->units)),
        "workload " + std::to_string(status->id) + ": " + counts(status->units));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    status = get_status(*client, status->id);
    if (!status.ok()) return fail("submit", status.status());
  }
  bar.finish();
  if (json)
    std::cout << wire::serialize(*status) << "\n";
  else
    print_status(*status);
  return status->state == "done" ? 0 : 1;
}

int status_command(const Args& args) {
  ServerFlags server;
  std::string id;
  bool json = false;
  po::options_description options("status options");
  server.add_to(options);
  options.add_options()("id", po::value(&id), "workload id (all workloads when omitted)")(
      "json", po::bool_switch(&json), "print JSON");
  po::positional_options_description positional;
  positional.add("id", 1);
  po::variables_map vm;
  if (auto code = parse("status", "[ID] [--json]", args, options, vm, &positional)) return *code;
  auto client = server.client();
  if (!client.ok()) return fail("status", client.status());
  auto body =
      http::ok_body(client->request("GET", id.empty() ? "/v1/workloads" : "/v1/workloads/" + id));
  if (!body.ok()) return fail("status", body.status());
  if (json) {
    std::cout << *body << "\n";
    return 0;
  }
  if (!id.empty()) {
    auto s = wire::parse<wire::WorkloadStatus>(*body);
    if (!s.ok()) return fail("status", s.status());
    print_status(*s);
    return 0;
  }
  Json list = Json::parse(*body, nullptr, false);
  if (!list.is_array()) return fail("status", invalid_argument("server reply is not a list"));
  std::cout << std::left << std::setw(6) << "ID" << std::setw(11) << "STATE" << std::setw(6)
            << "KIND" << std::setw(13) << "PRIORITY" << std::setw(20) << "NAME"
            << "UNITS\n";
  for (const auto& j : list) {
    auto s = wire::from_json<wire::WorkloadStatus>(j);
    if (!s.ok()) return fail("status", s.status());
    std::cout << std::setw(6) << s->id << std::setw(11) << s->state << std::setw(6) << s->kind
              << std::setw(13) << s->priority << std::setw(20) << s->name.substr(0, 19)
              << counts(s->units) << "\n";
  }
  return 0;
}

int cancel_command(const Args& args) {
  ServerFlags server;
  uint64_t id = 0;
  po::options_description options("cancel options");
  server.add_to(options);
  options.add_options()("id", po::value(&id)->required(), "workload id");
  po::positional_options_description positional;
  positional.add("id", 1);
  po::variables_map vm;
  if (auto code = parse("cancel", "ID", args, options, vm, &positional)) return *code;
  auto client = server.client();
  if (!client.ok()) return fail("cancel", client.status());
  auto body =
      http::ok_body(client->request("POST", "/v1/workloads/" + std::to_string(id) + "/cancel"));
  if (!body.ok()) return fail("cancel", body.status());
  auto s = wire::parse<wire::WorkloadStatus>(*body);
  if (!s.ok()) return fail("cancel", s.status());
  std::cout << "workload " << id << " cancelled (" << counts(s->units) << ")\n";
  return 0;
}

int hosts_command(const Args& args) {
  ServerFlags server;
  bool json = false;
  uint64_t clear = 0;
  po::options_description options("hosts options");
  server.add_to(options);
  options.add_options()("json", po::bool_switch(&json), "print JSON")(
      "clear", po::value(&clear)->value_name("ID"),
      "release host ID from quarantine (operator decision; it must earn trust again)");
  po::variables_map vm;
  if (auto code = parse("hosts", "[--json] [--clear ID]", args, options, vm)) return *code;
  auto client = server.client();
  if (!client.ok()) return fail("hosts", client.status());
  if (vm.count("clear")) {
    auto cleared =
        http::ok_body(client->request("POST", "/v1/hosts/" + std::to_string(clear) + "/clear"));
    if (!cleared.ok()) return fail("hosts", cleared.status());
    std::cout << "host " << clear << " released from quarantine\n";
    return 0;
  }
  auto body = http::ok_body(client->request("GET", "/v1/hosts"));
  if (!body.ok()) return fail("hosts", body.status());
  if (json) {
    std::cout << *body << "\n";
    return 0;
  }
  Json list = Json::parse(*body, nullptr, false);
  if (!list.is_array()) return fail("hosts", invalid_argument("server reply is not a list"));
  std::cout << std::left << std::setw(6) << "ID" << std::setw(20) << "NAME" << std::setw(28)
            << "DEVICE" << std::setw(8) << "VALID" << std::setw(9) << "INVALID" << std::setw(8)
            << "ERRORS" << std::setw(13) << "STANDING"
            << "CREDIT\n";
  for (const auto& j : list) {
    auto h = wire::from_json<wire::HostInfo>(j);
    if (!h.ok()) return fail("hosts", h.status());
    std::cout << std::setw(6) << h->id << std::setw(20) << h->name.substr(0, 19) << std::setw(28)
              << h->device.name.substr(0, 27) << std::setw(8) << h->valid_results << std::setw(9)
              << h->invalid_results << std::setw(8) << h->error_results << std::setw(13)
              << h->standing << h->credit << "\n";
  }
  return 0;
}

}  // namespace p2c2r::cli
