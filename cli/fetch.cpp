// p2c2r fetch: downloads a workload's validated outputs into a directory,
// each checked against its digest, as raw bytes and in the form a person can
// look at (the kernel's write_output: PNG for tiles and video frames, CSV for
// a physics world, a table for NPC actions). Units are taken in their
// workload's order, so a unit whose output continues earlier ones (a game's
// video: P-frames continuing the frames before) is shown after them.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>

#include "cli/options.h"
#include "cli/server_flags.h"
#include "common/digest.h"
#include "common/http_client.h"
#include "common/wire.h"
#include "kernels/registry.h"

namespace p2c2r::cli {
namespace {

namespace fs = std::filesystem;

std::string extension_for(const std::string& family) {
  if (family == "raytrace" || family == "video") return ".png";
  if (family == "physics") return ".csv";
  if (family == "nn") return ".txt";
  return ".out";
}

Status write_file(const fs::path& path, ByteView bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return internal_error("cannot write " + path.string());
  return Status::Ok();
}

struct Fetched {
  std::string raw, view, format;
};

// Earlier valid outputs by stage and kernel, oldest first: what a unit that
// continues them needs to be shown. A video unit continues at most 63.
class History {
 public:
  std::vector<Bytes>& of(const wire::UnitReport& unit) {
    return outputs_[unit.stage + "/" + unit.kernel];
  }
  void add(const wire::UnitReport& unit, ByteView output) {
    auto& list = of(unit);
    list.emplace_back(output.begin(), output.end());
    if (list.size() > kKept) list.erase(list.begin());
  }

 private:
  static constexpr size_t kKept = 64;
  std::map<std::string, std::vector<Bytes>> outputs_;
};

// One valid unit: its canonical output, verified, written raw and viewable.
Result<Fetched> fetch_unit(http::Client& client, const kernels::Registry& registry,
                           const wire::UnitLine& line, const fs::path& dir, History& history) {
  P2C2R_ASSIGN_OR_RETURN(
      std::string body,
      http::ok_body(client.request("GET", "/v1/reports/units/" + std::to_string(line.id))));
  P2C2R_ASSIGN_OR_RETURN(wire::UnitReport unit, wire::parse<wire::UnitReport>(body));
  P2C2R_ASSIGN_OR_RETURN(Digest want, Digest::from_hex(unit.canonical));
  P2C2R_ASSIGN_OR_RETURN(std::string blob,
                         http::ok_body(client.request("GET", "/v1/blobs/" + unit.canonical)));
  const ByteView output = bytes_of(blob);
  if (!(digest_of(output) == want))
    return internal_error("the server sent bytes whose digest is not " + unit.canonical);

  // A game's units are named by their stage (ai, physics, raytrace, video).
  const std::string stem =
      "unit-" + std::to_string(unit.index) + "-" + (unit.stage == "raw" ? unit.kernel : unit.stage);
  Fetched f{(dir / (stem + ".bin")).string(), "", ""};
  P2C2R_RETURN_IF_ERROR(write_file(f.raw, output));
  P2C2R_ASSIGN_OR_RETURN(const kernels::Kernel* kernel, registry.find(unit.kernel));
  if (kernel->version() != unit.kernel_version) {
    f.format = "raw only: this p2c2r has " + unit.kernel + " v" +
               std::to_string(kernel->version()) + ", the unit ran v" +
               std::to_string(unit.kernel_version);
    return f;
  }
  P2C2R_ASSIGN_OR_RETURN(kernels::Params params, kernel->resolve_params(unit.seed, unit.params));
  const uint32_t continues = kernel->continued_outputs(params);
  std::vector<Bytes>& earlier = history.of(unit);
  if (earlier.size() < continues) {
    f.format = "raw only: it continues " + std::to_string(continues) +
               " earlier unit(s), not all of them valid";
  } else {
    f.view = (dir / (stem + extension_for(kernel->family()))).string();
    const std::vector<Bytes> continued(earlier.end() - continues, earlier.end());
    P2C2R_ASSIGN_OR_RETURN(f.format,
                           kernel->write_continued_output(params, continued, output, f.view));
  }
  history.add(unit, output);
  return f;
}

}  // namespace

int fetch_command(const Args& args) {
  ServerFlags server;
  uint64_t id = 0;
  std::string out_dir;
  po::options_description options("fetch options");
  server.add_to(options);
  options.add_options()("id", po::value(&id)->required(), "workload id")(
      "out,o", po::value(&out_dir)->required()->value_name("DIR"),
      "directory for the outputs (created if missing)");
  po::positional_options_description positional;
  positional.add("id", 1);
  po::variables_map vm;
  if (auto code = parse("fetch", "ID --out DIR", args, options, vm, &positional)) return *code;
  auto client = server.client();
  if (!client.ok()) return fail("fetch", client.status());
  auto body = http::ok_body(client->request("GET", "/v1/reports/workloads/" + std::to_string(id)));
  if (!body.ok()) return fail("fetch", body.status());
  auto report = wire::parse<wire::WorkloadReport>(*body);
  if (!report.ok()) return fail("fetch", report.status().with_context("server reply"));

  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return fail("fetch", internal_error("cannot create " + out_dir + ": " + ec.message()));
  static const kernels::Registry registry = kernels::builtin_registry();
  size_t written = 0, skipped = 0;
  History history;
  auto lines = report->units;
  std::sort(lines.begin(), lines.end(),
            [](const wire::UnitLine& a, const wire::UnitLine& b) { return a.index < b.index; });
  for (const auto& line : lines) {
    if (line.state != "valid" || line.canonical.empty()) {
      ++skipped;
      continue;
    }
    auto f = fetch_unit(*client, registry, line, out_dir, history);
    if (!f.ok())
      return fail("fetch", f.status().with_context("unit " + std::to_string(line.id) + " (" +
                                                   line.stage + ")"));
    const std::string shown = fs::path(f->view.empty() ? f->raw : f->view).filename().string();
    std::cout << "  " << std::left << std::setw(26) << shown << " " << f->format << "\n";
    ++written;
  }
  std::cout << written << " output(s) of workload " << id << " in " << out_dir;
  if (skipped > 0) std::cout << "; " << skipped << " unit(s) not valid (yet), skipped";
  std::cout << "\n";
  return written > 0 ? 0 : 1;
}

}  // namespace p2c2r::cli
