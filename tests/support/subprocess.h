// Test support: run a command line and capture its exit code and output.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace p2c2r::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout (stderr too when the command adds 2>&1)
};

// Runs `command` through /bin/sh and returns its exit code and stdout.
inline CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    result.out.append(buffer.data(), n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// The p2c2r binary under test, with a private pipeline cache.
inline std::string p2c2r_command() { return std::string(P2C2R_BINARY); }

}  // namespace p2c2r::testing
