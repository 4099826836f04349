// The p2c2r subcommands. Each takes the arguments after its name and returns
// the process exit code: 0 success, 1 a failure the message explains, 2 a
// usage error.
#pragma once

#include <string>
#include <vector>

namespace p2c2r::cli {

using Args = std::vector<std::string>;

int devices_command(const Args& args);
int kernels_command(const Args& args);
int run_command(const Args& args);
int bench_command(const Args& args);
int executor_command(const Args& args);
int server_command(const Args& args);
int submit_command(const Args& args);
int status_command(const Args& args);
int cancel_command(const Args& args);
int hosts_command(const Args& args);
int report_command(const Args& args);
int fetch_command(const Args& args);
int peer_command(const Args& args);

}  // namespace p2c2r::cli
