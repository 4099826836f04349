#include "sandbox/executor.h"

#include <sys/resource.h>
#include <unistd.h>

#include <iostream>
#include <limits>
#include <map>

#include "kernels/registry.h"
#include "runtime/execute.h"
#include "sandbox/protocol.h"

namespace p2c2r::sandbox {
namespace {

double cpu_seconds_used() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Field readers that refuse wrong types instead of throwing.
template <typename T>
Result<T> field(const nlohmann::json& header, const char* name) {
  if (!header.contains(name))
    return invalid_argument(std::string("unit frame lacks \"") + name + "\"");
  const auto& v = header[name];
  if constexpr (std::is_same_v<T, std::string>) {
    if (v.is_string()) return v.get<std::string>();
  } else {
    if (v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0)) {
      const auto u = v.get<uint64_t>();
      if (u <= std::numeric_limits<T>::max()) return static_cast<T>(u);
    }
  }
  return invalid_argument(std::string("unit frame field \"") + name +
                          "\" has the wrong type or range");
}

Result<std::map<std::string, int64_t>> params_field(const nlohmann::json& header) {
  std::map<std::string, int64_t> out;
  if (!header.contains("params")) return out;
  if (!header["params"].is_object())
    return invalid_argument("unit frame \"params\" is not an object");
  for (const auto& [name, value] : header["params"].items()) {
    if (!value.is_number_integer())
      return invalid_argument("unit parameter " + name + " is not an integer");
    out[name] = value.get<int64_t>();
  }
  return out;
}

Result<Frame> run_unit(runtime::Device& device, const kernels::Registry& registry, Frame& request) {
  const auto& h = request.header;
  P2C2R_ASSIGN_OR_RETURN(std::string name, field<std::string>(h, "kernel"));
  P2C2R_ASSIGN_OR_RETURN(uint32_t version, field<uint32_t>(h, "version"));
  P2C2R_ASSIGN_OR_RETURN(uint64_t seed, field<uint64_t>(h, "seed"));
  P2C2R_ASSIGN_OR_RETURN(uint32_t local_size, field<uint32_t>(h, "local_size"));
  P2C2R_ASSIGN_OR_RETURN(uint64_t timeout_ms, field<uint64_t>(h, "timeout_ms"));
  P2C2R_ASSIGN_OR_RETURN(auto given, params_field(h));
  P2C2R_ASSIGN_OR_RETURN(const kernels::Kernel* kernel, registry.find(name));
  if (kernel->version() != version) {
    return failed_precondition("kernel " + name + " is version " +
                               std::to_string(kernel->version()) +
                               " here, the unit wants version " + std::to_string(version));
  }
  P2C2R_ASSIGN_OR_RETURN(kernels::Params params, kernel->resolve_params(seed, given));
  if (const size_t want = kernel->input_names_for(params).size(); request.blobs.size() != want) {
    return invalid_argument("kernel " + name + " takes " + std::to_string(want) +
                            " inputs, the unit has " + std::to_string(request.blobs.size()));
  }
  // execute_unit runs check_inputs first; Device::run validates every shader.
  P2C2R_ASSIGN_OR_RETURN(runtime::UnitResult result,
                         runtime::execute_unit(device, *kernel, params, request.blobs, local_size,
                                               std::chrono::milliseconds(timeout_ms)));
  Frame reply;
  reply.header = {{"type", "result"},
                  {"status", "ok"},
                  {"digest", result.digest.hex()},
                  {"gpu_seconds", result.stats.gpu_seconds},
                  {"wall_seconds", result.stats.wall_seconds},
                  {"dispatches", result.stats.dispatches}};
  reply.blobs.push_back(std::move(result.output));
  return reply;
}

Frame error_reply(const Status& status) {
  Frame reply;
  reply.header = {{"type", "result"}, {"status", "error"}};
  reply.header.update(status_to_json(status));
  return reply;
}

int start_failed(int channel, const Status& status) {
  Frame fatal;
  fatal.header = {{"type", "fatal"}, {"message", status.to_string()}};
  (void)write_frame(channel, fatal, {}, OnClosedPeer::kSigpipe);
  std::cerr << "p2c2r executor: " << status.to_string() << "\n";
  return 1;
}

}  // namespace

int run_executor(const ExecutorOptions& options) {
  Protections protections;
  auto channel_or = close_inherited_fds(options.channel_fd, protections);
  if (!channel_or.ok()) {
    std::cerr << "p2c2r executor: " << channel_or.status().to_string() << "\n";
    return 1;
  }
  const int channel = *channel_or;
  enter_network_namespace(protections);
  if (Status s = restrict_filesystem(protections); !s.ok()) return start_failed(channel, s);

  const kernels::Registry registry = kernels::builtin_registry();
  // No pipeline cache on disk: nothing is writable from here.
  auto device = runtime::open_device(options.device, {}, {.pipeline_cache_dir = ""});
  if (!device.ok())
    return start_failed(channel, device.status().with_context("opening the Vulkan device"));
  if (Status s = finish_lockdown(options.lockdown, protections); !s.ok())
    return start_failed(channel, s);

  Frame hello;
  hello.header = {{"type", "hello"},
                  {"device", (*device)->info().name},
                  {"protections", protections.to_json()}};
  if (!write_frame(channel, hello, {}, OnClosedPeer::kSigpipe).ok()) return 1;

  for (;;) {
    auto request = read_frame(channel);
    if (!request.ok()) {
      if (request.status().code() == Code::kUnavailable)
        return 0;  // the supervisor closed the channel
      // A malformed frame leaves the stream unsynchronised: say why, then stop.
      (void)write_frame(channel, error_reply(request.status()), {}, OnClosedPeer::kSigpipe);
      return 1;
    }
    const auto& header = request->header;
    const std::string type = header["type"].get<std::string>();
    Frame reply;
    if (type == "unit") {
      auto result = run_unit(**device, registry, *request);
      reply = result.ok() ? std::move(*result) : error_reply(result.status());
    } else if (type == "probe") {
      if (!options.allow_test_probes) {
        reply = error_reply(permission_denied(
            "test probes are disabled (executor not started with --allow-test-probes)"));
      } else if (!header.contains("probe") || !header["probe"].is_string()) {
        reply = error_reply(invalid_argument("probe frame lacks a string \"probe\""));
      } else if (Status s =
                     run_test_probe(header["probe"].get<std::string>(),
                                    header.contains("argument") && header["argument"].is_string()
                                        ? header["argument"].get<std::string>()
                                        : std::string());
                 !s.ok()) {
        reply = error_reply(s);
      } else {
        reply.header = {{"type", "result"}, {"status", "ok"}};
      }
    } else {
      reply = error_reply(invalid_argument("unknown frame type '" + type + "'"));
    }
    if (header.contains("id")) reply.header["id"] = header["id"];
    reply.header["cpu_seconds"] = cpu_seconds_used();
    if (!write_frame(channel, reply, {}, OnClosedPeer::kSigpipe).ok()) return 1;
  }
}

}  // namespace p2c2r::sandbox
