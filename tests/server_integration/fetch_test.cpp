// `p2c2r fetch` against a real server: a workload's validated output comes
// back verified, raw and as a picture; errors are the server's own words.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/wire.h"
#include "kernels/registry.h"
#include "tests/server/temp_dir.h"
#include "tests/server_integration/api_helpers.h"
#include "tests/server_integration/server_process.h"
#include "tests/support/game_params.h"
#include "tests/support/subprocess.h"

namespace p2c2r {
namespace {

using testing::Peer;
using testing::ServerProcess;
using testing::TempDir;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class FetchTest : public ::testing::Test {
 protected:
  FetchTest() : server_(dir_.file("data")), admin_(server_.admin_client()) {}

  uint64_t submit_raytrace() {
    static const kernels::Registry registry = kernels::builtin_registry();
    wire::WorkloadSpec spec;
    spec.kind = "raw";
    spec.name = "one tile";
    spec.replication.min_quorum = 1;
    spec.raw = wire::RawSpec{"raytrace", (*registry.find("raytrace"))->small_params(), 5, 1, {}};
    auto body =
        http::ok_body(admin_.request("POST", "/v1/workloads", bytes_of(wire::serialize(spec))));
    EXPECT_TRUE(body.ok()) << body.status().to_string();
    return body.ok() ? wire::parse<wire::WorkloadStatus>(*body)->id : 0;
  }

  // Runs the assignment with the CPU reference, reports and uploads it.
  Bytes complete(Peer& peer) {
    static const kernels::Registry registry = kernels::builtin_registry();
    auto a = peer.work();
    EXPECT_TRUE(a);
    if (!a) return {};
    const kernels::Kernel* k = *registry.find(a->manifest.kernel);
    const auto params = k->resolve_params(a->manifest.seed, a->manifest.params).value();
    const Bytes out = k->reference(params, k->generate_inputs(params).value(), 1).value();
    const std::string text(out.begin(), out.end());
    EXPECT_EQ(peer.report(a->replica_id, text).status, 200);
    auto up = peer.call("PUT", "/v1/replicas/" + std::to_string(a->replica_id) + "/output", text,
                        "application/octet-stream");
    EXPECT_EQ(up.status, 200) << up.body;
    return out;
  }

  testing::CommandResult cli(const std::string& args) {
    const std::string env = "P2C2R_SERVER=" + server_.url() + " P2C2R_TOKEN=" + server_.token() +
                            " P2C2R_CA=" + server_.cert() + " HOME=" + dir_.path() + " ";
    return testing::run_command(env + testing::p2c2r_command() + " " + args + " 2>&1");
  }

  TempDir dir_;
  ServerProcess server_;
  http::Client admin_;
};

TEST_F(FetchTest, ValidOutputComesBackVerifiedRawAndAsAPicture) {
  const uint64_t id = submit_raytrace();
  Peer peer(server_, "p", testing::kernel_speeds(kernels::builtin_registry(), {"raytrace"}, 0.01));
  const Bytes expected = complete(peer);
  const std::string out = dir_.file("outputs");
  auto r = cli("fetch " + std::to_string(id) + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("unit-0-raytrace.png"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 output(s) of workload"), std::string::npos) << r.out;
  const std::string raw = read_file(out + "/unit-0-raytrace.bin");
  EXPECT_EQ(raw.size(), expected.size());
  EXPECT_TRUE(raw == std::string(expected.begin(), expected.end()));
  EXPECT_EQ(read_file(out + "/unit-0-raytrace.png").substr(0, 4), "\x89PNG");
}

// A 3-frame game run by a peer that computes each unit with the CPU
// reference on the inputs the server sends (its dependencies' outputs):
// frames 1 and 2's videos continue frame 0's stream with P-frames, and
// fetch shows each after the ones it continues.
TEST_F(FetchTest, GameVideoStreamOfPFramesDecodesInOrder) {
  static const kernels::Registry registry = kernels::builtin_registry();
  wire::WorkloadSpec spec;
  spec.kind = "game";
  spec.name = "three frames";
  spec.replication.min_quorum = 1;
  spec.replication.target_nresults = 1;
  spec.game = wire::GameSpec{
      .frames = 3,
      .tiles = 2,
      .seed = 4,
      .stage_params = {{"ai", testing::small_ai_params(registry)},
                       {"physics", {{"bodies", 16}, {"steps", 4}, {"grid", 4}}},
                       {"raytrace", {{"samples", 1}, {"max_depth", 1}, {"mesh_detail", 0}}},
                       {"video", {{"width", 48}, {"height", 32}}}}};
  auto body =
      http::ok_body(admin_.request("POST", "/v1/workloads", bytes_of(wire::serialize(spec))));
  ASSERT_TRUE(body.ok()) << body.status().to_string();
  const uint64_t id = wire::parse<wire::WorkloadStatus>(*body)->id;

  Peer peer(server_, "gamer", testing::game_kernel_speeds(registry, 0.1));
  uint32_t continued = 0;
  for (int step = 0; step < 40; ++step) {
    auto a = peer.work();
    if (!a) break;
    const kernels::Kernel* k = *registry.find(a->manifest.kernel);
    const auto params = k->resolve_params(a->manifest.seed, a->manifest.params).value();
    std::vector<Bytes> inputs;
    for (const auto& digest : a->manifest.inputs) {
      auto blob = peer.call("GET", "/v1/blobs/" + digest, "");
      ASSERT_EQ(blob.status, 200) << blob.body;
      inputs.emplace_back(blob.body.begin(), blob.body.end());
    }
    if (inputs.empty()) inputs = k->generate_inputs(params).value();
    auto out = k->reference(params, inputs, 1);
    ASSERT_TRUE(out.ok()) << a->manifest.kernel << ": " << out.status().to_string();
    if (a->manifest.kernel == "video" && params.get("continues") > 0) ++continued;
    const std::string text(out->begin(), out->end());
    EXPECT_EQ(peer.report(a->replica_id, text).status, 200);
    auto up = peer.call("PUT", "/v1/replicas/" + std::to_string(a->replica_id) + "/output", text,
                        "application/octet-stream");
    EXPECT_EQ(up.status, 200) << up.body;
  }
  EXPECT_EQ(continued, 2u) << "frames 1 and 2 continue the stream";
  ASSERT_EQ(testing::status(admin_, id).state, "done");

  const std::string out = dir_.file("game");
  auto r = cli("fetch " + std::to_string(id) + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::vector<std::string> videos;
  for (const auto& entry : std::filesystem::directory_iterator(out)) {
    const std::string name = entry.path().filename().string();
    if (name.find("-video.png") != std::string::npos) videos.push_back(name);
  }
  EXPECT_EQ(videos.size(), 3u) << r.out;
  size_t shown = 0, pos = 0;
  while ((pos = r.out.find("(P-frames continuing the unit before)", pos)) != std::string::npos) {
    ++shown;
    ++pos;
  }
  EXPECT_EQ(shown, 2u) << r.out;
}

TEST_F(FetchTest, NothingValidYetUnknownWorkloadAndBadArgumentsAreClear) {
  const uint64_t id = submit_raytrace();
  auto pending = cli("fetch " + std::to_string(id) + " --out " + dir_.file("o1"));
  EXPECT_EQ(pending.exit_code, 1) << pending.out;
  EXPECT_NE(pending.out.find("1 unit(s) not valid (yet), skipped"), std::string::npos)
      << pending.out;
  auto missing = cli("fetch 999 --out " + dir_.file("o2"));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("p2c2r fetch: workload 999 does not exist"), std::string::npos)
      << missing.out;
  auto no_out = cli("fetch " + std::to_string(id));
  EXPECT_EQ(no_out.exit_code, 2) << no_out.out;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("o2")));
}

}  // namespace
}  // namespace p2c2r
