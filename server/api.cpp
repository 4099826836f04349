#include "server/api.h"

namespace p2c2r::server {
namespace {

// A decimal id of at most 19 digits (fits int64), or nullopt.
std::optional<uint64_t> parse_id(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

Reply method_not_allowed(const std::string& method, const std::string& path) {
  Reply r = error_reply(invalid_argument("method " + method + " is not allowed on " + path));
  r.status = 405;
  return r;
}

// GET /v1/reports/{units/ID, workloads/ID, hosts, summary}; the caller checked the admin token.
Reply report_route(Coordinator& c, const std::string& method, const std::string& path) {
  const std::string_view rest =
      std::string_view(path).substr(std::string_view("/v1/reports/").size());
  std::function<Reply()> report;
  if (rest == "hosts") {
    report = [&c] { return c.hosts_report(); };
  } else if (rest == "summary") {
    report = [&c] { return c.summary_report(); };
  } else if (starts_with(rest, "units/")) {
    if (auto id = parse_id(rest.substr(6))) report = [&c, id = *id] { return c.unit_report(id); };
  } else if (starts_with(rest, "workloads/")) {
    if (auto id = parse_id(rest.substr(10)))
      report = [&c, id = *id] { return c.workload_report(id); };
  }
  if (!report)
    return error_reply(not_found("no such route: " + path +
                                 " (reports: units/{id}, workloads/{id}, hosts, summary)"));
  if (method != "GET") return method_not_allowed(method, path);
  return report();
}

}  // namespace

bool Api::is_admin(const Request& r) const {
  static constexpr std::string_view kBearer = "Bearer ";
  if (!starts_with(r.authorization, kBearer)) return false;
  return crypto::constant_time_equal(std::string_view(r.authorization).substr(kBearer.size()),
                                     admin_token_);
}

Result<Coordinator::Auth> Api::authenticate(const Request& r, const std::string* registering_key) {
  return coordinator_.authenticate(r.method, r.target, r.host, r.timestamp, r.nonce, r.signature,
                                   bytes_of(r.body), registering_key);
}

void Api::handle(const Request& r, Respond respond) {
  const std::string path = r.target.substr(0, r.target.find('?'));
  if (path == "/healthz") {
    if (r.method != "GET") return respond(method_not_allowed(r.method, path));
    return respond({200, "application/json", R"({"status":"ok"})"});
  }
  if (path == "/metrics") {
    if (r.method != "GET") return respond(method_not_allowed(r.method, path));
    return respond({200, "text/plain; version=0.0.4", coordinator_.metrics_text()});
  }
  if (path == "/v1/hosts" && r.method == "POST") {
    // Registration is signed by the key being registered (host id 0); parse first to learn the key.
    auto req = wire::parse<wire::RegisterHost>(r.body);
    if (!req.ok()) return respond(error_reply(req.status()));
    auto auth = authenticate(r, &req->public_key);
    if (!auth.ok()) return respond(error_reply(auth.status()));
    if (auth->host_id != 0)
      return respond(error_reply(invalid_argument("registration must be signed with host id 0 (" +
                                                  std::string(crypto::kHostHeader) + ": 0)")));
    return coordinator_.register_host(*req, *auth, std::move(respond));
  }
  if (path == "/v1/work") {
    if (r.method != "POST") return respond(method_not_allowed(r.method, path));
    auto auth = authenticate(r);
    if (!auth.ok()) return respond(error_reply(auth.status()));
    auto req = wire::parse<wire::WorkRequest>(r.body.empty() ? std::string("{}") : r.body);
    if (!req.ok()) return respond(error_reply(req.status()));
    return coordinator_.request_work(*auth, *req, std::move(respond));
  }
  if (path == "/v1/reports") {
    if (r.method != "POST") return respond(method_not_allowed(r.method, path));
    auto auth = authenticate(r);
    if (!auth.ok()) return respond(error_reply(auth.status()));
    auto rep = wire::parse<wire::Report>(r.body);
    if (!rep.ok()) return respond(error_reply(rep.status()));
    return coordinator_.report(*auth, *rep, std::move(respond));
  }
  if (starts_with(path, "/v1/replicas/")) {
    const std::string_view rest = std::string_view(path).substr(13);
    const size_t slash = rest.find('/');
    const auto id = parse_id(rest.substr(0, slash));
    if (!id || slash == std::string_view::npos || rest.substr(slash) != "/output")
      return respond(error_reply(
          not_found("no such route: " + path + " (expected /v1/replicas/{id}/output)")));
    if (r.method != "PUT") return respond(method_not_allowed(r.method, path));
    auto auth = authenticate(r);
    if (!auth.ok()) return respond(error_reply(auth.status()));
    return coordinator_.upload_output(*auth, *id, bytes_of(r.body), std::move(respond));
  }
  if (starts_with(path, "/v1/blobs/")) {
    if (r.method != "GET") return respond(method_not_allowed(r.method, path));
    const std::string digest = path.substr(10);
    if (is_admin(r)) return coordinator_.fetch_blob(0, digest, nullptr, std::move(respond));
    auto auth = authenticate(r);
    if (!auth.ok()) return respond(error_reply(auth.status()));
    return coordinator_.fetch_blob(auth->host_id, digest, &auth->nonce, std::move(respond));
  }
  if (starts_with(path, "/v1/hosts/")) {
    // One host's own record: the host itself (signed) or the admin.
    const std::string_view rest = std::string_view(path).substr(10);
    const size_t slash = rest.find('/');
    const auto id = parse_id(rest.substr(0, slash));
    if (!id)
      return respond(error_reply(not_found("no such route: " + path + " (host ids are decimal)")));
    if (slash != std::string_view::npos) {
      // An operator's release of a quarantined host.
      if (rest.substr(slash) != "/clear")
        return respond(
            error_reply(not_found("no such route: " + path + " (expected /v1/hosts/{id}/clear)")));
      if (r.method != "POST") return respond(method_not_allowed(r.method, path));
      if (!is_admin(r))
        return respond(error_reply(
            permission_denied("this route needs the admin token (Authorization: Bearer <token>)")));
      return coordinator_.clear_host(*id, std::move(respond));
    }
    if (r.method != "GET") return respond(method_not_allowed(r.method, path));
    if (!is_admin(r)) {
      auto auth = authenticate(r);
      if (!auth.ok()) return respond(error_reply(auth.status()));
      if (auth->host_id != *id)
        return respond(error_reply(permission_denied("a host may read only its own record")));
    }
    return respond(coordinator_.host_info(*id));
  }
  if (path == "/v1/hosts" || starts_with(path, "/v1/workloads") ||
      starts_with(path, "/v1/reports/"))
    return admin_route(r, path, std::move(respond));
  return respond(error_reply(not_found("no such route: " + r.method + " " + path)));
}

void Api::admin_route(const Request& r, const std::string& path, Respond respond) {
  if (!is_admin(r))
    return respond(error_reply(
        permission_denied("this route needs the admin token (Authorization: Bearer <token>)")));
  if (path == "/v1/hosts") {
    if (r.method != "GET") return respond(method_not_allowed(r.method, path));
    return respond(coordinator_.list_hosts());
  }
  if (starts_with(path, "/v1/reports/")) return respond(report_route(coordinator_, r.method, path));
  if (path == "/v1/workloads") {
    if (r.method == "GET") return respond(coordinator_.list_workloads());
    if (r.method != "POST") return respond(method_not_allowed(r.method, path));
    auto spec = wire::parse<wire::WorkloadSpec>(r.body);
    if (!spec.ok()) return respond(error_reply(spec.status()));
    return coordinator_.submit(*spec, std::move(respond));
  }
  const std::string_view rest =
      std::string_view(path).substr(std::string_view("/v1/workloads/").size());
  if (!starts_with(path, "/v1/workloads/"))
    return respond(error_reply(not_found("no such route: " + path)));
  const size_t slash = rest.find('/');
  const auto id = parse_id(rest.substr(0, slash));
  if (!id)
    return respond(
        error_reply(not_found("no such route: " + path + " (workload ids are decimal)")));
  if (slash == std::string_view::npos) {
    if (r.method != "GET") return respond(method_not_allowed(r.method, path));
    return respond(coordinator_.workload_status(*id));
  }
  if (rest.substr(slash) != "/cancel")
    return respond(error_reply(not_found("no such route: " + path)));
  if (r.method != "POST") return respond(method_not_allowed(r.method, path));
  return coordinator_.cancel(*id, std::move(respond));
}

}  // namespace p2c2r::server
