// p2c2r executor: the sandboxed unit runner. Started by the peer's
// supervisor (sandbox/supervisor.h) with one end of a socketpair; not meant to
// be run by hand, hence hidden from the command list.
#include "sandbox/executor.h"

#include "cli/options.h"
#include "sandbox/supervisor.h"

namespace p2c2r::cli {

int executor_command(const Args& args) {
  po::options_description options(
      "executor options (internal: 'p2c2r peer' starts this process; it speaks a binary protocol "
      "on --fd, "
      "see sandbox/protocol.h)");
  sandbox::ExecutorOptions executor;
  uint64_t address_space_mb = sandbox::kDefaultAddressSpaceBytes >> 20;
  options.add_options()("fd", po::value(&executor.channel_fd)->required()->value_name("N"),
                        "file descriptor of the supervisor's channel (a socketpair end)")(
      "device", po::value(&executor.device)->value_name("INDEX|NAME"),
      "Vulkan device to open (default: the best usable device)")(
      "address-space-mb", po::value(&address_space_mb)->default_value(address_space_mb),
      "RLIMIT_AS in MiB (0 = unlimited)")(
      "cpu-seconds",
      po::value(&executor.lockdown.cpu_seconds)->default_value(sandbox::kDefaultCpuSeconds),
      "RLIMIT_CPU over the executor's life (0 = unlimited)")(
      "max-open-files", po::value(&executor.lockdown.max_open_files)->default_value(64),
      "RLIMIT_NOFILE")("allow-test-probes", po::bool_switch(&executor.allow_test_probes),
                       "TESTS ONLY: honour probe requests that try forbidden actions (socket, open "
                       "for writing, exec, "
                       "memory, spin) to prove the sandbox stops them");
  po::variables_map vm;
  if (auto code = parse("executor", "--fd N [--device D] [limits]", args, options, vm))
    return *code;
  executor.lockdown.address_space_bytes = address_space_mb << 20;
  return sandbox::run_executor(executor);
}

}  // namespace p2c2r::cli
