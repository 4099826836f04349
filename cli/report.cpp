// p2c2r report unit ID | workload ID | hosts | summary [--json]: what the
// validator made of the work (GET /v1/reports/..., docs/protocol.md).
//
// Tables for people, --json (the server's reply as it came) for scripts.
// Where the server is: see cli/server_flags.h. Errors from the server are
// printed as the server wrote them.
#include <algorithm>
#include <cctype>
#include <ctime>
#include <iomanip>
#include <set>
#include <sstream>

#include "cli/options.h"
#include "cli/server_flags.h"
#include "common/http_client.h"
#include "common/wire.h"

namespace p2c2r::cli {
namespace {

using wire::Json;

// Rows of text printed in columns as wide as their widest cell; the last
// column is not padded, so long text (errors) does not push lines wider.
class Table {
 public:
  explicit Table(std::vector<std::string> header = {}) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print(std::ostream& out) const {
    std::vector<size_t> width;
    auto measure = [&](const std::vector<std::string>& row) {
      if (width.size() < row.size()) width.resize(row.size(), 0);
      for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    };
    measure(header_);
    for (const auto& r : rows_) measure(r);
    auto line = [&](const std::vector<std::string>& row) {
      for (size_t i = 0; i < row.size(); ++i) {
        out << row[i];
        if (i + 1 < row.size()) out << std::string(width[i] - row[i].size() + 2, ' ');
      }
      out << "\n";
    };
    if (!header_.empty()) line(header_);
    for (const auto& r : rows_) line(r);
  }

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

std::string str(uint64_t v) { return std::to_string(v); }

// Credit can be tiny (a small unit's cost is a fraction of a credit), so it
// gets significant digits, not a fixed number of decimals.
std::string significant(double v) {
  std::ostringstream out;
  out << std::setprecision(4) << v;
  return out.str();
}

std::string number(double v, int precision) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(precision) << v;
  return out.str();
}

// UTC wall time of a unix-ms timestamp; "-" for none.
std::string time_of(int64_t ms) {
  if (ms <= 0) return "-";
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03d", static_cast<int>(ms % 1000));
  return std::string(text) + millis;
}

// Enough of a digest to tell results apart at a glance (--json has it whole).
std::string short_digest(const std::string& d) { return d.empty() ? "-" : d.substr(0, 16); }

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

void print_unit(const wire::UnitReport& u) {
  std::cout << "unit " << u.id << " (workload " << u.workload_id << ", " << u.stage << " #"
            << u.index << ", kernel " << u.kernel << " v" << u.kernel_version << "): " << u.state
            << "\n";
  if (!u.canonical.empty()) std::cout << "  canonical " << u.canonical << "\n";
  if (!u.reason.empty()) std::cout << "  reason: " << u.reason << "\n";
  Table t(
      {"REPLICA", "HOST", "STATE", "VALIDITY", "DIGEST", "SENT (UTC)", "REPORTED (UTC)", "ERROR"});
  for (const auto& r : u.replicas)
    t.add({str(r.id), str(r.host_id) + " " + r.host_name, r.state, or_dash(r.validity),
           short_digest(r.digest), time_of(r.sent_ms), time_of(r.reported_ms), or_dash(r.error)});
  std::cout << "\n";
  t.print(std::cout);
}

void print_workload(const wire::WorkloadReport& w) {
  const auto& s = w.workload;
  std::cout << "workload " << s.id << (s.name.empty() ? "" : " (" + s.name + ")") << ": " << s.state
            << "\n  kind " << s.kind << ", priority " << s.priority << ", submitter " << s.submitter
            << "\n";
  if (!s.reason.empty()) std::cout << "  reason: " << s.reason << "\n";
  Table t({"UNIT", "INDEX", "STAGE", "KERNEL", "STATE", "REPLICAS", "VALID", "INVALID", "ERRORS",
           "TIMEOUTS", "RUNNING", "DISAGREE", "CANONICAL"});
  for (const auto& u : w.units)
    t.add({str(u.id), str(u.index), u.stage, u.kernel, u.state, str(u.replicas), str(u.valid),
           str(u.invalid), str(u.errors), str(u.timed_out), str(u.in_progress),
           str(u.disagreements), short_digest(u.canonical)});
  std::cout << "\n";
  t.print(std::cout);
}

std::string scalar_text(const Json& v) {
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_string()) return or_dash(v.get<std::string>());
  if (v.is_number_float()) return significant(v.get<double>());
  return v.dump();
}

// Every HostInfo field the table does not already show (reliability, trust,
// quarantine, as the server adds them) becomes a column of its own, so the
// table follows the server without a CLI change.
Status print_hosts(const Json& list) {
  static const std::set<std::string> kShown = {"id",
                                               "name",
                                               "public_key",
                                               "device",
                                               "registered_ms",
                                               "last_seen_ms",
                                               "valid_results",
                                               "invalid_results",
                                               "error_results",
                                               "credit",
                                               "timeout_results",
                                               "consecutive_valid",
                                               "error_rate",
                                               "standing",
                                               "quarantine_reason",
                                               "credit_pending",
                                               "credit_revoked"};
  std::vector<std::string> extra;
  for (const auto& j : list)
    if (j.is_object() && j.contains("host") && j["host"].is_object())
      for (const auto& [key, value] : j["host"].items())
        if (!kShown.count(key) && value.is_primitive() &&
            std::find(extra.begin(), extra.end(), key) == extra.end())
          extra.push_back(key);
  std::vector<std::string> header = {"ID",         "NAME",        "DEVICE",   "STANDING", "VALID",
                                     "INVALID",    "ERRORS",      "TIMEOUTS", "UNFIT",    "RUNNING",
                                     "RINGERS OK", "RINGERS BAD", "IN A ROW", "ERR RATE", "CREDIT",
                                     "PENDING",    "REVOKED"};
  for (const auto& key : extra) {
    std::string h = key;
    for (char& c : h) c = c == '_' ? ' ' : static_cast<char>(std::toupper(c));
    header.push_back(h);
  }
  header.push_back("LAST SEEN (UTC)");
  header.push_back("WHY QUARANTINED");
  Table t(header);
  for (const auto& j : list) {
    auto h = wire::from_json<wire::HostReport>(j);
    if (!h.ok()) return h.status().with_context("server reply");
    std::vector<std::string> row = {str(h->host.id),
                                    h->host.name,
                                    h->host.device.name,
                                    h->host.standing,
                                    str(h->host.valid_results),
                                    str(h->host.invalid_results),
                                    str(h->host.error_results),
                                    str(h->timed_out_results),
                                    str(h->unfit_results),
                                    str(h->in_progress),
                                    str(h->ringers_passed),
                                    str(h->ringers_failed),
                                    str(h->host.consecutive_valid),
                                    significant(h->host.error_rate),
                                    significant(h->host.credit),
                                    significant(h->host.credit_pending),
                                    significant(h->host.credit_revoked)};
    for (const auto& key : extra)
      row.push_back(j["host"].contains(key) ? scalar_text(j["host"][key]) : "-");
    row.push_back(time_of(h->host.last_seen_ms));
    row.push_back(or_dash(h->host.quarantine_reason));
    t.add(std::move(row));
  }
  t.print(std::cout);
  return Status::Ok();
}

void print_summary(const wire::ReportSummary& s) {
  Table t;
  t.add({"hosts", str(s.hosts)});
  t.add({"workloads", str(s.workloads)});
  t.add({"units validated", str(s.units_validated)});
  t.add({"units failed", str(s.units_failed)});
  t.add({"units in progress", str(s.units_in_progress)});
  t.add({"units cancelled", str(s.units_cancelled)});
  t.add({"replicas per validated unit", number(s.replicas_per_validated_unit, 2)});
  t.add({"units with disagreement", str(s.units_with_disagreement)});
  t.add({"replicas sent", str(s.replicas)});
  t.add({"results valid", str(s.valid_results)});
  t.add({"results invalid", str(s.invalid_results)});
  t.add({"errors", str(s.error_results)});
  t.add({"timeouts", str(s.timed_out_results)});
  if (s.spot_checks) t.add({"spot checks", str(*s.spot_checks)});
  if (s.quarantined_hosts) t.add({"quarantined hosts", str(*s.quarantined_hosts)});
  if (s.credit_by_submitter)
    for (const auto& [submitter, credit] : *s.credit_by_submitter)
      t.add({"credit to " + submitter + "'s work", significant(credit)});
  t.print(std::cout);
}

// Parses the server's reply as T and prints it, or says why it could not.
template <typename T, typename Print>
Status show(const std::string& body, Print print) {
  auto v = wire::parse<T>(body);
  if (!v.ok()) return v.status().with_context("server reply");
  print(*v);
  return Status::Ok();
}

bool is_decimal(const std::string& s) {
  return !s.empty() && s.size() <= 19 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

int report_command(const Args& args) {
  static const char* kUsage = "unit ID | workload ID | hosts | summary [--json]";
  ServerFlags server;
  std::string what, id;
  bool json = false;
  po::options_description options("report options");
  server.add_to(options);
  options.add_options()("what", po::value(&what)->required(), "unit, workload, hosts or summary")(
      "id", po::value(&id), "unit or workload id")("json", po::bool_switch(&json),
                                                   "print the server's JSON");
  po::positional_options_description positional;
  positional.add("what", 1).add("id", 1);
  po::variables_map vm;
  if (auto code = parse("report", kUsage, args, options, vm, &positional)) return *code;
  // Wrong words are usage errors (exit 2), like an unknown option.
  auto usage_error = [&](const std::string& message) {
    std::cerr << "p2c2r report: " << message << "\nusage: p2c2r report " << kUsage
              << " (see --help)\n";
    return 2;
  };
  std::string path;
  if (what == "unit" || what == "workload") {
    if (!is_decimal(id))
      return usage_error("'report " + what + "' needs a decimal " + what + " id");
    path = "/v1/reports/" + what + "s/" + id;
  } else if (what == "hosts" || what == "summary") {
    if (!id.empty()) return usage_error("'report " + what + "' takes no id, got '" + id + "'");
    path = "/v1/reports/" + what;
  } else {
    return usage_error("unknown report '" + what + "'");
  }
  auto client = server.client();
  if (!client.ok()) return fail("report", client.status());
  auto body = http::ok_body(client->request("GET", path));
  if (!body.ok()) return fail("report", body.status());
  if (json) {
    std::cout << *body << "\n";
    return 0;
  }
  Status shown;
  if (what == "unit") {
    shown = show<wire::UnitReport>(*body, print_unit);
  } else if (what == "workload") {
    shown = show<wire::WorkloadReport>(*body, print_workload);
  } else if (what == "summary") {
    shown = show<wire::ReportSummary>(*body, print_summary);
  } else {
    const Json list = Json::parse(*body, nullptr, false);
    shown = list.is_array() ? print_hosts(list)
                            : invalid_argument("server reply: expected a list of hosts");
  }
  return shown.ok() ? 0 : fail("report", shown);
}

}  // namespace p2c2r::cli
