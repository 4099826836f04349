// The executor process spoken to directly over its channel, as a broken or
// hostile supervisor would: malformed frames get an error frame and a clean
// exit, never a crash. Also the hidden CLI entry.
#include "sandbox/executor.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/protocol.h"
#include "tests/support/subprocess.h"

namespace p2c2r::sandbox {
namespace {

using ::testing::HasSubstr;

// `p2c2r executor` on one end of a socketpair, reaped on scope exit.
class RawExecutor {
 public:
  RawExecutor() {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 7);
    char* argv[] = {const_cast<char*>(P2C2R_BINARY), const_cast<char*>("executor"),
                    const_cast<char*>("--fd"), const_cast<char*>("7"), nullptr};
    char* envp[] = {const_cast<char*>("MESA_SHADER_CACHE_DISABLE=true"),
                    const_cast<char*>("ASAN_OPTIONS=detect_leaks=0"), nullptr};
    EXPECT_EQ(posix_spawn(&pid_, P2C2R_BINARY, &actions, nullptr, argv, envp), 0);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    channel_ = fds[0];
  }
  ~RawExecutor() {
    if (channel_ >= 0) ::close(channel_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  int channel() const { return channel_; }
  Result<Frame> read() {
    return read_frame(channel_, {}, std::chrono::steady_clock::now() + std::chrono::seconds(60));
  }
  // Waits for the executor to exit; its exit code, or 128 + signal.
  int wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int channel_ = -1;
};

TEST(ExecutorTest, SaysHelloAndExitsCleanlyWhenTheChannelCloses) {
  RawExecutor executor;
  auto hello = executor.read();
  ASSERT_TRUE(hello.ok()) << hello.status().to_string();
  EXPECT_EQ(hello->header["type"], "hello");
  EXPECT_TRUE(hello->header["protections"].is_object());
  ::shutdown(executor.channel(), SHUT_WR);
  EXPECT_EQ(executor.wait(), 0);
}

TEST(ExecutorTest, MalformedFrameGetsAnErrorAndTheExecutorExits) {
  RawExecutor executor;
  ASSERT_TRUE(executor.read().ok());
  Bytes garbage(64, 0xEE);
  ASSERT_EQ(::write(executor.channel(), garbage.data(), garbage.size()), 64);
  auto reply = executor.read();
  ASSERT_TRUE(reply.ok()) << reply.status().to_string();
  EXPECT_EQ(reply->header["status"], "error");
  EXPECT_THAT(reply->header["message"].get<std::string>(), HasSubstr("magic"));
  EXPECT_EQ(executor.wait(), 1);
}

TEST(ExecutorTest, UnitWithWrongFieldTypesIsAnErrorAndTheExecutorGoesOn) {
  RawExecutor executor;
  ASSERT_TRUE(executor.read().ok());
  for (const nlohmann::json& header :
       {nlohmann::json{{"type", "unit"}, {"id", 1}, {"kernel", 5}},
        nlohmann::json{{"type", "unit"}, {"id", 2}, {"kernel", "peak"}, {"version", -1}},
        nlohmann::json{{"type", "unit"},
                       {"id", 3},
                       {"kernel", "peak"},
                       {"version", 1},
                       {"seed", 1},
                       {"local_size", 64},
                       {"timeout_ms", 1000},
                       {"params", {{"invocations", "many"}}}},
        nlohmann::json{{"type", "launch_missiles"}, {"id", 4}}}) {
    ASSERT_TRUE(write_frame(executor.channel(), Frame{header, {}}).ok());
    auto reply = executor.read();
    ASSERT_TRUE(reply.ok()) << reply.status().to_string();
    EXPECT_EQ(reply->header["status"], "error") << header.dump();
    EXPECT_EQ(reply->header["id"], header["id"]);
  }
}

TEST(ExecutorTest, CommandIsHiddenFromUsageButHasTruthfulHelp) {
  const auto usage = testing::run_command(std::string(P2C2R_BINARY) + " --help");
  EXPECT_EQ(usage.exit_code, 0);
  EXPECT_THAT(usage.out, ::testing::Not(HasSubstr("executor")));
  const auto help = testing::run_command(std::string(P2C2R_BINARY) + " executor --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("internal"));
  EXPECT_THAT(help.out, HasSubstr("--allow-test-probes"));
  EXPECT_THAT(help.out, HasSubstr("TESTS ONLY"));
  const auto missing_fd = testing::run_command(std::string(P2C2R_BINARY) + " executor 2>&1");
  EXPECT_EQ(missing_fd.exit_code, 2);
}

}  // namespace
}  // namespace p2c2r::sandbox
