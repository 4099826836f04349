// The supervisor and the locked-down executor as real processes on the real
// Vulkan device (lavapipe on a machine without a GPU). The probe tests attempt
// each forbidden action from inside the executor and check that the sandbox
// stops it and that the supervisor survives and reports the unit as errored.
#include "sandbox/supervisor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "kernels/registry.h"
#include "tests/support/slowdown.h"

namespace p2c2r::sandbox {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const kernels::Registry& registry() {
  static const kernels::Registry r = kernels::builtin_registry();
  return r;
}

SupervisorOptions test_options(bool probes = true) {
  SupervisorOptions options;
  options.binary = P2C2R_BINARY;
  options.allow_test_probes = probes;
  return options;
}

// A unit of `name` with its small parameters and generated inputs, and the
// digest of the CPU reference output.
struct ReferenceUnit {
  Unit unit;
  Digest reference;
};

ReferenceUnit small_unit(const std::string& name) {
  const kernels::Kernel* kernel = *registry().find(name);
  ReferenceUnit r;
  r.unit.kernel = name;
  r.unit.version = kernel->version();
  r.unit.seed = 7;
  r.unit.params = kernel->small_params();
  r.unit.deadline *= testing::kSlowdown;
  const auto params = kernel->resolve_params(r.unit.seed, r.unit.params);
  EXPECT_TRUE(params.ok()) << params.status().to_string();
  auto inputs = kernel->generate_inputs(*params);
  EXPECT_TRUE(inputs.ok()) << inputs.status().to_string();
  r.unit.inputs = *inputs;
  const auto reference = kernel->reference(*params, *inputs, 1);
  EXPECT_TRUE(reference.ok()) << reference.status().to_string();
  r.reference = digest_of(*reference);
  return r;
}

void expect_peak_unit_runs(Supervisor& supervisor) {
  const ReferenceUnit r = small_unit("peak");
  auto outcome = supervisor.run(r.unit);
  ASSERT_TRUE(outcome.ok()) << outcome.status().to_string();
  EXPECT_EQ(outcome->digest, r.reference);
}

TEST(SupervisorTest, EveryKernelUnitUnderFullSandboxMatchesReference) {
  Supervisor supervisor(test_options(false));
  for (const kernels::Kernel* kernel : registry().all()) {
    SCOPED_TRACE(kernel->name());
    const ReferenceUnit r = small_unit(kernel->name());
    auto outcome = supervisor.run(r.unit);
    ASSERT_TRUE(outcome.ok()) << outcome.status().to_string();
    EXPECT_EQ(outcome->digest, r.reference);
    EXPECT_EQ(outcome->digest, digest_of(outcome->output));
  }
  EXPECT_EQ(supervisor.executor_starts(), 1u);
}

TEST(SupervisorTest, ExecutorReportsItsProtections) {
  Supervisor supervisor(test_options(false));
  ASSERT_TRUE(supervisor.start().ok());
  const Protections p = supervisor.protections();
  EXPECT_THAT(p.seccomp, ::testing::StartsWith("on"));
  EXPECT_EQ(p.no_new_privs, "on");
  // Files cannot be opened for writing; the file-size limit bounds the
  // driver's memory file (llvmpipe's memfd) at the address-space limit.
  EXPECT_THAT(p.rlimits, HasSubstr("fsize=" + std::to_string(test_options().address_space_bytes)));
  EXPECT_THAT(p.rlimits, HasSubstr("core=0"));
  EXPECT_THAT(p.fds, ::testing::StartsWith("on"));
  EXPECT_THAT(p.environment, ::testing::StartsWith("on"));
  // These depend on the kernel and the container; the executor must say which.
  for (const std::string& optional : {p.network, p.landlock}) {
    EXPECT_TRUE(optional.rfind("on", 0) == 0 || optional.rfind("unavailable: ", 0) == 0)
        << optional;
  }
  RecordProperty("network", p.network);
  RecordProperty("landlock", p.landlock);
}

TEST(SupervisorTest, SocketCreationKillsExecutorAndNextUnitRuns) {
  Supervisor supervisor(test_options());
  const Status probe = supervisor.run_test_probe("socket", 60s);
  EXPECT_EQ(probe.code(), Code::kPermissionDenied) << probe.to_string();
  EXPECT_THAT(probe.message(), HasSubstr("SIGSYS"));
  expect_peak_unit_runs(supervisor);
  EXPECT_EQ(supervisor.executor_starts(), 2u);
}

TEST(SupervisorTest, ExecKillsExecutorAndNextUnitRuns) {
  Supervisor supervisor(test_options());
  const Status probe = supervisor.run_test_probe("exec", 60s);
  EXPECT_EQ(probe.code(), Code::kPermissionDenied) << probe.to_string();
  EXPECT_THAT(probe.message(), HasSubstr("SIGSYS"));
  expect_peak_unit_runs(supervisor);
}

TEST(SupervisorTest, OpeningAFileForWritingFails) {
  ::unlink("/tmp/p2c2r-sandbox-probe");
  Supervisor supervisor(test_options());
  const Status probe = supervisor.run_test_probe("open_write", 60s);
  EXPECT_FALSE(probe.ok());
  EXPECT_THAT(probe.message(), HasSubstr("open for writing: Operation not permitted"));
  EXPECT_NE(::access("/tmp/p2c2r-sandbox-probe", F_OK), 0);
  // A refused call is not a crash: the same executor takes the next unit.
  expect_peak_unit_runs(supervisor);
  EXPECT_EQ(supervisor.executor_starts(), 1u);
}

TEST(SupervisorTest, ExceedingTheMemoryLimitFails) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP()
      << "RLIMIT_AS is not applied under AddressSanitizer (its shadow memory needs terabytes of "
         "address space); see docs/security.md";
#endif
  SupervisorOptions options = test_options();
  options.address_space_bytes = 2ull << 30;  // enough for lavapipe, small enough to exhaust quickly
  Supervisor supervisor(options);
  const Status probe = supervisor.run_test_probe("memory", 120s);
  EXPECT_FALSE(probe.ok());
  EXPECT_THAT(probe.to_string(), HasSubstr("resource exhausted")) << probe.to_string();
  expect_peak_unit_runs(supervisor);
}

TEST(SupervisorTest, ReadingOutsideTheVulkanPathsFailsUnderLandlock) {
  Supervisor supervisor(test_options());
  ASSERT_TRUE(supervisor.start().ok());
  if (supervisor.protections().landlock.rfind("on", 0) != 0) {
    GTEST_SKIP() << "Landlock is not available here: " << supervisor.protections().landlock;
  }
  const Status own_source =
      supervisor.run_test_probe("read", 60s, P2C2R_SOURCE_DIR "/CMakeLists.txt");
  EXPECT_EQ(own_source.code(), Code::kPermissionDenied) << own_source.to_string();
  EXPECT_THAT(own_source.message(), HasSubstr("Permission denied"));
  // What the driver needs stays readable.
  EXPECT_TRUE(supervisor.run_test_probe("read", 60s, "/usr/share/vulkan").ok());
}

TEST(SupervisorTest, EveryExecutorThreadRunsUnderSeccomp) {
  Supervisor supervisor(test_options());
  expect_peak_unit_runs(supervisor);  // so the driver's worker threads exist
  const Status probe = supervisor.run_test_probe("unfiltered_thread", 60s);
  EXPECT_EQ(probe.code(), Code::kPermissionDenied) << probe.to_string();
  EXPECT_THAT(probe.message(), HasSubstr("threads run under the seccomp filter"));
  int threads = 0;
  ASSERT_EQ(std::sscanf(probe.message().c_str(), "all %d threads", &threads), 1);
  EXPECT_GT(threads, 1) << "lavapipe's worker threads should exist by now";
}

TEST(SupervisorTest, HungUnitIsKilledAtDeadlineAndNextUnitRunsOnANewExecutor) {
  Supervisor supervisor(test_options());
  ASSERT_TRUE(supervisor.start().ok());
  const Status probe = supervisor.run_test_probe("spin", 1s);
  EXPECT_EQ(probe.code(), Code::kDeadlineExceeded) << probe.to_string();
  expect_peak_unit_runs(supervisor);
  EXPECT_EQ(supervisor.executor_starts(), 2u);
}

TEST(SupervisorTest, CrashDuringAUnitIsReportedWithItsSignal) {
  Supervisor supervisor(test_options());
  const Status probe = supervisor.run_test_probe("crash", 60s);
  EXPECT_EQ(probe.code(), Code::kInternal) << probe.to_string();
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer catches the SIGSEGV itself, reports it and exits 1.
  EXPECT_THAT(probe.message(), HasSubstr("exited with status 1"));
#else
  EXPECT_THAT(probe.message(), HasSubstr("killed by signal 11"));
#endif
  expect_peak_unit_runs(supervisor);
  EXPECT_EQ(supervisor.executor_starts(), 2u);
}

// Waits (bounded) until `pid` is a zombie: dead, not yet reaped.
size_t threads_left(pid_t pid) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

bool wait_until_dead(pid_t pid) {
  for (int i = 0; i < 1000000; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), {});
    const auto close_paren = text.rfind(')');
    // A killed multi-threaded process shows its leader as a zombie while
    // the other threads (the Vulkan driver's) are still exiting; only when
    // they are gone can its parent reap it.
    if (close_paren != std::string::npos && text.size() > close_paren + 2 &&
        text[close_paren + 2] == 'Z' && threads_left(pid) <= 1)
      return true;
    std::this_thread::yield();
  }
  return false;
}

TEST(SupervisorTest, ExecutorThatDiedWhileIdleIsReplacedWithoutFailingTheNextUnit) {
  Supervisor supervisor(test_options(false));
  ASSERT_TRUE(supervisor.start().ok());
  const pid_t first = supervisor.executor_pid();
  ASSERT_GT(first, 0);
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  ASSERT_TRUE(wait_until_dead(first));
  expect_peak_unit_runs(supervisor);
  EXPECT_EQ(supervisor.executor_starts(), 2u);
  EXPECT_NE(supervisor.executor_pid(), first);
}

TEST(SupervisorTest, ProbesAreRefusedWithoutTheTestFlag) {
  Supervisor supervisor(test_options(false));
  const Status probe = supervisor.run_test_probe("socket", 60s);
  EXPECT_EQ(probe.code(), Code::kPermissionDenied);
  EXPECT_THAT(probe.message(), HasSubstr("test probes are disabled"));
  expect_peak_unit_runs(supervisor);
  EXPECT_EQ(supervisor.executor_starts(), 1u);
}

TEST(SupervisorTest, UnknownKernelIsAnErrorAndTheExecutorSurvives) {
  Supervisor supervisor(test_options(false));
  Unit unit = small_unit("peak").unit;
  unit.kernel = "no_such_kernel";
  const auto outcome = supervisor.run(unit);
  EXPECT_EQ(outcome.status().code(), Code::kNotFound) << outcome.status().to_string();
  expect_peak_unit_runs(supervisor);
  EXPECT_EQ(supervisor.executor_starts(), 1u);
}

TEST(SupervisorTest, WrongKernelVersionIsRefused) {
  Supervisor supervisor(test_options(false));
  Unit unit = small_unit("peak").unit;
  unit.version += 1;
  const auto outcome = supervisor.run(unit);
  EXPECT_EQ(outcome.status().code(), Code::kFailedPrecondition) << outcome.status().to_string();
}

TEST(SupervisorTest, OutOfRangeParameterIsRefused) {
  Supervisor supervisor(test_options(false));
  Unit unit = small_unit("peak").unit;
  unit.params["invocations"] = -5;
  const auto outcome = supervisor.run(unit);
  EXPECT_EQ(outcome.status().code(), Code::kInvalidArgument) << outcome.status().to_string();
}

TEST(SupervisorTest, UnexpectedInputIsRefused) {
  Supervisor supervisor(test_options(false));
  Unit unit = small_unit("peak").unit;
  unit.inputs.push_back(Bytes(16, 0xFF));
  const auto outcome = supervisor.run(unit);
  EXPECT_EQ(outcome.status().code(), Code::kInvalidArgument) << outcome.status().to_string();
  expect_peak_unit_runs(supervisor);
}

TEST(SupervisorTest, ExecutorThatCannotOpenItsDeviceIsAnError) {
  SupervisorOptions options = test_options(false);
  options.device = "no device has this name";
  Supervisor supervisor(options);
  const auto outcome = supervisor.run(small_unit("peak").unit);
  EXPECT_FALSE(outcome.ok());
  EXPECT_THAT(outcome.status().message(), HasSubstr("the executor failed to start"));
}

TEST(SupervisorTest, MissingBinaryIsAnError) {
  SupervisorOptions options = test_options(false);
  options.binary = "/nonexistent/p2c2r";
  Supervisor supervisor(options);
  const Status started = supervisor.start();
  EXPECT_FALSE(started.ok());
  EXPECT_THAT(started.message(), HasSubstr("/nonexistent/p2c2r"));
}

}  // namespace
}  // namespace p2c2r::sandbox
