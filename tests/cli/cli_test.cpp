// The p2c2r command line as a user sees it: output, JSON shapes, exit codes
// and error messages.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/subprocess.h"

namespace p2c2r {
namespace {

using testing::run_command;

std::string p2c2r(const std::string& args) {
  return testing::p2c2r_command() + " " + args + " --pipeline-cache ''";
}

TEST(CliTest, DevicesListsLlvmpipe) {
  const auto r = run_command(testing::p2c2r_command() + " devices");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("llvmpipe"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("usable      yes"), std::string::npos) << r.out;
}

TEST(CliTest, DevicesJsonDescribesEachDevice) {
  const auto r = run_command(testing::p2c2r_command() + " devices --json");
  ASSERT_EQ(r.exit_code, 0);
  const auto devices = nlohmann::json::parse(r.out);
  ASSERT_FALSE(devices.empty());
  for (const char* field :
       {"index", "name", "type", "driver", "api_version", "features", "usable"}) {
    EXPECT_TRUE(devices[0].contains(field)) << field;
  }
}

TEST(CliTest, KernelsJsonListsNameAndVersion) {
  const auto r = run_command(testing::p2c2r_command() + " kernels --json");
  ASSERT_EQ(r.exit_code, 0);
  const auto kernels = nlohmann::json::parse(r.out);
  bool peak = false;
  for (const auto& k : kernels) {
    EXPECT_TRUE(k["name"].is_string());
    EXPECT_TRUE(k["version"].is_number_integer());
    peak = peak || k["name"] == "peak";
  }
  EXPECT_TRUE(peak);
}

TEST(CliTest, RunJsonMatchesTheReference) {
  const auto r = run_command(p2c2r("run peak --seed 1 --size 4096 --json"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto out = nlohmann::json::parse(r.out);
  EXPECT_EQ(out["kernel"], "peak");
  EXPECT_EQ(out["digest"].get<std::string>().size(), 64u);
  EXPECT_TRUE(out["seconds"].is_number());
  EXPECT_EQ(out["matches_reference"], true);
  EXPECT_EQ(out["digest"], out["reference_digest"]);
}

TEST(CliTest, RunIsReproducibleForASeedAndDiffersAcrossSeeds) {
  auto digest = [](int seed) {
    const auto r = run_command(
        p2c2r("run peak --size 1000 --no-reference --json --seed " + std::to_string(seed)));
    return nlohmann::json::parse(r.out)["digest"].get<std::string>();
  };
  EXPECT_EQ(digest(5), digest(5));
  EXPECT_NE(digest(5), digest(6));
}

TEST(CliTest, UnknownKernelIsAClearError) {
  const auto r = run_command(p2c2r("run no-such-kernel 2>&1"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("unknown kernel 'no-such-kernel'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("peak"), std::string::npos) << "the error lists the known kernels";
}

TEST(CliTest, OutOfRangeParameterIsAClearError) {
  const auto r = run_command(p2c2r("run peak --param iterations=0 2>&1"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("parameter 'iterations' is 0"), std::string::npos) << r.out;
}

TEST(CliTest, MalformedParameterIsAUsageError) {
  const auto r = run_command(p2c2r("run peak --param iterations=lots 2>&1"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("not an integer"), std::string::npos) << r.out;
}

TEST(CliTest, UnknownDeviceIsAClearError) {
  const auto r = run_command(p2c2r("run peak --device quantum-gpu 2>&1"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("no Vulkan device matches --device 'quantum-gpu'"), std::string::npos)
      << r.out;
}

TEST(CliTest, UnknownCommandAndOptionAreUsageErrors) {
  EXPECT_EQ(run_command(testing::p2c2r_command() + " frobnicate 2>&1").exit_code, 2);
  EXPECT_EQ(run_command(testing::p2c2r_command() + " kernels --no-such-flag 2>&1").exit_code, 2);
}

TEST(CliTest, EveryCommandHasHelp) {
  for (const char* command : {"devices", "kernels", "run"}) {
    const auto r = run_command(testing::p2c2r_command() + " " + command + " --help");
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_NE(r.out.find("usage: p2c2r"), std::string::npos) << command;
  }
  const auto top = run_command(testing::p2c2r_command() + " --help");
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_NE(top.out.find("commands:"), std::string::npos);
}

}  // namespace
}  // namespace p2c2r
