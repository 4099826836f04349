#include "cli/server_flags.h"

#include <cstdlib>
#include <fstream>

#include "common/wire.h"

namespace p2c2r::cli {

void ServerFlags::add_to(po::options_description& o) {
  o.add_options()("server", po::value(&server),
                  "server URL (else $P2C2R_SERVER, else the config file)")(
      "token", po::value(&token), "admin token (else $P2C2R_TOKEN, else the config file)")(
      "ca", po::value(&ca),
      "CA or the server's own certificate, PEM (else $P2C2R_CA, else the config file)")(
      "config", po::value(&config), "client config JSON (default ~/.config/p2c2r/client.json)");
}

Result<http::Client> ServerFlags::client() const {
  std::string s = server, t = token, c = ca;
  auto env = [](const char* name, std::string& v) {
    if (const char* e = std::getenv(name); v.empty() && e && *e) v = e;
  };
  env("P2C2R_SERVER", s);
  env("P2C2R_TOKEN", t);
  env("P2C2R_CA", c);
  std::string path = config;
  if (path.empty())
    if (const char* home = std::getenv("HOME"); home && *home)
      path = std::string(home) + "/.config/p2c2r/client.json";
  if ((s.empty() || t.empty() || c.empty()) && !path.empty()) {
    std::ifstream in(path);
    if (!in && !config.empty()) return not_found("cannot read config file " + path);
    if (in) {
      wire::Json j = wire::Json::parse(in, nullptr, false);
      if (j.is_discarded() || !j.is_object()) return invalid_argument(path + ": not a JSON object");
      for (auto [key, value] : {std::pair{"server", &s}, {"token", &t}, {"ca", &c}})
        if (value->empty() && j.contains(key) && j[key].is_string())
          *value = j[key].get<std::string>();
    }
  }
  if (s.empty())
    return invalid_argument("no server given: use --server URL, $P2C2R_SERVER or a config file");
  return http::Client::create({.base_url = s, .ca_file = c, .bearer_token = t});
}

}  // namespace p2c2r::cli
