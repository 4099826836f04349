// p2c2r: one binary, one subcommand per job.
#include <cstring>
#include <exception>
#include <iostream>

#include "cli/commands.h"

namespace {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const p2c2r::cli::Args&);
  bool hidden = false;  // internal commands, started by p2c2r itself
};

const Command kCommands[] = {
    {"devices", "list Vulkan devices and whether P2C2R can use them", p2c2r::cli::devices_command},
    {"kernels", "list the registered compute kernels", p2c2r::cli::kernels_command},
    {"run", "run one unit of a kernel and check it against the CPU reference", p2c2r::cli::run_command},
    {"server", "run the work-unit server (HTTPS API, SQLite store)", p2c2r::cli::server_command},
    {"submit", "submit a workload to a server (--wait shows progress)", p2c2r::cli::submit_command},
    {"status", "show one workload, or all of them", p2c2r::cli::status_command},
    {"cancel", "cancel a workload", p2c2r::cli::cancel_command},
    {"hosts", "list the hosts registered with a server (--clear ID releases a quarantined one)", p2c2r::cli::hosts_command},
    {"report", "what the validator made of a unit, a workload, the hosts, or everything", p2c2r::cli::report_command},
    {"fetch", "download a workload's validated outputs (raw, and as PNG/CSV/tables)", p2c2r::cli::fetch_command},
    {"bench", "measure kernels, the server and the validator (see 'p2c2r bench --help')", p2c2r::cli::bench_command},
    {"peer", "the volunteer service: join a server, benchmark, run work sandboxed ('peer status' shows it)",
     p2c2r::cli::peer_command},
    {"executor", "internal: the sandboxed process that runs work units for 'p2c2r peer'",
     p2c2r::cli::executor_command, true},
};

void usage(std::ostream& out) {
  out << "usage: p2c2r <command> [options]\n\ncommands:\n";
  for (const auto& c : kCommands) {
    if (!c.hidden) out << "  " << c.name << std::string(12 - std::strlen(c.name), ' ') << c.summary << "\n";
  }
  out << "\n'p2c2r <command> --help' describes a command's options.\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(std::cerr);
    return 2;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    usage(std::cout);
    return 0;
  }
  for (const auto& c : kCommands) {
    if (name != c.name) continue;
    try {
      return c.run(p2c2r::cli::Args(argv + 2, argv + argc));
    } catch (const std::exception& e) {
      std::cerr << "p2c2r " << name << ": " << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << "p2c2r: unknown command '" << name << "'\n";
  usage(std::cerr);
  return 2;
}
