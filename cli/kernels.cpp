// p2c2r kernels / p2c2r run: the kernel registry and single-unit runs.
#include <chrono>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/options.h"
#include "common/digest.h"
#include "kernels/registry.h"
#include "runtime/execute.h"

namespace p2c2r::cli {

int kernels_command(const Args& args) {
  po::options_description options("kernels options");
  bool json = false;
  options.add_options()("json", po::bool_switch(&json),
                        "print a JSON list of {name, version, ...}");
  po::variables_map vm;
  if (auto code = parse("kernels", "[--json]", args, options, vm)) return *code;

  const auto registry = kernels::builtin_registry();
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const kernels::Kernel* k : registry.all()) {
      nlohmann::json params = nlohmann::json::array();
      for (const auto& p : k->param_specs()) {
        params.push_back({{"name", p.name},
                          {"min", p.min},
                          {"max", p.max},
                          {"default", p.default_value},
                          {"help", p.help}});
      }
      nlohmann::json shaders = nlohmann::json::array();
      for (const auto& s : k->shaders()) shaders.push_back(s.name);
      out.push_back({{"name", k->name()},
                     {"version", k->version()},
                     {"family", k->family()},
                     {"description", k->description()},
                     {"shaders", shaders},
                     {"inputs", k->input_names()},
                     {"params", params},
                     {"work_unit", k->work_unit_name()}});
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  for (const kernels::Kernel* k : registry.all()) {
    std::cout << k->name() << " v" << k->version() << " (" << k->family()
              << "): " << k->description() << "\n";
    for (const auto& p : k->param_specs()) {
      std::cout << "    " << std::left << std::setw(14) << p.name << " default " << p.default_value
                << ", range [" << p.min << ", " << p.max << "]  " << p.help << "\n";
    }
  }
  return 0;
}

// Parses "name=value" pairs into a parameter map.
static Result<std::map<std::string, int64_t>> parse_params(const std::vector<std::string>& pairs) {
  std::map<std::string, int64_t> out;
  for (const auto& pair : pairs) {
    const auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0)
      return invalid_argument("--param wants NAME=VALUE, got '" + pair + "'");
    const std::string value = pair.substr(eq + 1);
    try {
      size_t used = 0;
      const long long v = std::stoll(value, &used, 0);
      if (used != value.size()) throw std::invalid_argument(value);
      out[pair.substr(0, eq)] = v;
    } catch (const std::exception&) {
      return invalid_argument("--param " + pair.substr(0, eq) + ": '" + value +
                              "' is not an integer");
    }
  }
  return out;
}

int run_command(const Args& args) {
  po::options_description options("run options");
  std::string kernel_name, output_path;
  uint64_t seed = 1;
  int64_t size = 0;
  uint32_t local_size = runtime::kDefaultLocalSize;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::string> param_pairs;
  bool json = false, no_reference = false;
  DeviceFlags device;
  options.add_options()("kernel", po::value(&kernel_name)->required(),
                        "kernel name (see 'p2c2r kernels')")(
      "seed", po::value(&seed)->default_value(1), "seed of the input generator")(
      "size", po::value(&size), "shorthand for the kernel's first parameter (see 'p2c2r kernels')")(
      "param", po::value(&param_pairs)->composing()->value_name("NAME=VALUE"),
      "set a kernel parameter (repeatable)")(
      "local-size", po::value(&local_size)->default_value(runtime::kDefaultLocalSize),
      "workgroup size")("threads", po::value(&threads)->default_value(threads),
                        "CPU threads for the reference")(
      "no-reference", po::bool_switch(&no_reference), "skip the CPU reference check")(
      "output,o", po::value(&output_path)->value_name("FILE"),
      "write the output (PNG, CSV, table, or raw bytes)")(
      "json", po::bool_switch(&json),
      "print a JSON object {kernel, digest, seconds, matches_reference, ...}");
  device.add_to(options);
  po::positional_options_description positional;
  positional.add("kernel", 1);
  po::variables_map vm;
  if (auto code = parse("run", "KERNEL [--seed S] [--size N] [--param NAME=VALUE ...]", args,
                        options, vm, &positional)) {
    return *code;
  }

  const auto registry = kernels::builtin_registry();
  auto kernel = registry.find(kernel_name);
  if (!kernel.ok()) return fail("run", kernel.status());
  auto given = parse_params(param_pairs);
  if (!given.ok()) return fail("run", given.status());
  if (vm.count("size")) {
    const auto specs = (*kernel)->param_specs();
    if (specs.empty())
      return fail("run", invalid_argument("kernel " + kernel_name + " has no size parameter"));
    given->emplace(specs.front().name, size);
  }
  auto params = (*kernel)->resolve_params(seed, *given);
  if (!params.ok()) return fail("run", params.status());
  auto inputs = (*kernel)->generate_inputs(*params);
  if (!inputs.ok()) return fail("run", inputs.status());

  auto dev =
      runtime::open_device(device.device, device.instance_options(), device.device_options());
  if (!dev.ok()) return fail("run", dev.status());
  auto result = runtime::execute_unit(**dev, **kernel, *params, *inputs, local_size);
  if (!result.ok()) return fail("run", result.status());

  std::optional<Digest> reference;
  double reference_seconds = 0;
  if (!no_reference) {
    const auto start = std::chrono::steady_clock::now();
    auto ref = (*kernel)->reference(*params, *inputs, threads);
    reference_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!ref.ok()) return fail("run", ref.status().with_context("CPU reference"));
    reference = digest_of(*ref);
  }
  std::string output_format;
  if (!output_path.empty()) {
    auto written = (*kernel)->write_output(*params, result->output, output_path);
    if (!written.ok()) return fail("run", written.status());
    output_format = *written;
  }
  const bool matches = reference && *reference == result->digest;
  const double seconds =
      result->stats.gpu_seconds > 0 ? result->stats.gpu_seconds : result->stats.wall_seconds;

  if (json) {
    nlohmann::json out{{"kernel", (*kernel)->name()},
                       {"version", (*kernel)->version()},
                       {"device", (*dev)->info().name},
                       {"seed", seed},
                       {"params", params->values},
                       {"digest", result->digest.hex()},
                       {"output_bytes", result->output.size()},
                       {"seconds", seconds},
                       {"wall_seconds", result->stats.wall_seconds}};
    if (reference) {
      out["reference_digest"] = reference->hex();
      out["reference_seconds"] = reference_seconds;
      out["matches_reference"] = matches;
    } else {
      out["matches_reference"] = nullptr;
    }
    if (!output_path.empty()) out["output"] = {{"path", output_path}, {"format", output_format}};
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << "kernel     " << (*kernel)->name() << " v" << (*kernel)->version() << " on "
              << (*dev)->info().name << "\n"
              << "digest     " << result->digest.hex() << "\n"
              << "seconds    " << seconds
              << (result->stats.gpu_seconds > 0 ? " (GPU timestamps)" : " (wall clock)") << "\n";
    if (reference) {
      std::cout << "reference  " << reference->hex() << " (CPU, " << threads << " threads, "
                << reference_seconds << " s)\n"
                << "matches    " << (matches ? "yes" : "NO") << "\n";
    }
    if (!output_path.empty())
      std::cout << "output     " << output_path << " (" << output_format << ")\n";
  }
  if (reference && !matches) {
    std::cerr << "p2c2r run: the device's output differs from the CPU reference\n";
    return 1;
  }
  return 0;
}

}  // namespace p2c2r::cli
