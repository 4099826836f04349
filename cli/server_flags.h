// Where the server is and how to talk to it, for every subcommand that
// calls the server's admin API (submit, status, cancel, hosts, report).
//
// --server/--token/--ca, else $P2C2R_SERVER, $P2C2R_TOKEN and $P2C2R_CA,
// else the config file (--config, default ~/.config/p2c2r/client.json:
// {"server": ..., "token": ..., "ca": ...}).
#pragma once

#include <string>

#include "cli/options.h"
#include "common/http_client.h"

namespace p2c2r::cli {

struct ServerFlags {
  std::string server, token, ca, config;
  void add_to(po::options_description& options);
  // A client for the resolved server, or why there is none (no server given,
  // unreadable config file).
  Result<http::Client> client() const;
};

}  // namespace p2c2r::cli
