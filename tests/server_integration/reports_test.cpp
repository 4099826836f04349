// GET /v1/reports/... and `p2c2r report` against a real `p2c2r server`:
// hosts a and b agree on a unit, host c disagrees, and every report says so.
#include <gtest/gtest.h>

#include <map>

#include "common/wire.h"
#include "tests/server/temp_dir.h"
#include "tests/server_integration/api_helpers.h"
#include "tests/server_integration/server_process.h"
#include "tests/support/subprocess.h"

namespace p2c2r {
namespace {

using testing::expect_error;
using testing::Peer;
using testing::ServerProcess;
using testing::submit;
using testing::TempDir;
using wire::Json;

const std::string kGood = "the good output";
const std::string kBad = "a wrong output";

std::string hex_of(const std::string& output) { return digest_of(bytes_of(output)).hex(); }

class ReportsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(dir_.file("data"));
    admin_ = std::make_unique<http::Client>(server_->admin_client());
    a_ = std::make_unique<Peer>(*server_, "host-a");
    b_ = std::make_unique<Peer>(*server_, "host-b");
    c_ = std::make_unique<Peer>(*server_, "host-c");
  }

  // Workload 1: a and c are sent the unit first and disagree; the third
  // replica goes to b, who agrees with a. Workload 2: a's replica fails.
  void run_disagreement() {
    workload_ = submit(*admin_, 1).id;
    auto ra = a_->work(), rc = c_->work();
    ASSERT_TRUE(ra && rc);
    EXPECT_FALSE(b_->work()) << "quorum 2 sends two replicas first";
    ASSERT_EQ(a_->report(ra->replica_id, kGood).status, 200);
    ASSERT_EQ(c_->report(rc->replica_id, kBad).status, 200);
    auto rb = b_->work();
    ASSERT_TRUE(rb) << "the disagreement asks for a third replica";
    ASSERT_EQ(rb->manifest.unit_id, ra->manifest.unit_id);
    ASSERT_EQ(b_->report(rb->replica_id, kGood).status, 200);
    ASSERT_EQ(a_->upload(ra->replica_id, kGood).status, 200);  // the workload is then done
    unit_ = ra->manifest.unit_id;
    bad_replica_ = rc->replica_id;
    failing_workload_ = submit(*admin_, 1).id;
    auto failing = a_->work();
    ASSERT_TRUE(failing);
    failing_unit_ = failing->manifest.unit_id;
    auto r = a_->call(
        "POST", "/v1/reports",
        wire::serialize(wire::Report{failing->replica_id, false, std::nullopt, "device lost", 0}));
    ASSERT_EQ(r.status, 200) << r.body;
  }

  std::string get(const std::string& path) {
    auto body = http::ok_body(admin_->request("GET", path));
    EXPECT_TRUE(body.ok()) << path << ": " << body.status().to_string();
    return body.ok() ? *body : "";
  }

  // `p2c2r <args>` with this server in the environment (and no config file).
  testing::CommandResult cli(const std::string& args, bool with_token = true) {
    const std::string env = "P2C2R_SERVER=" + server_->url() +
                            (with_token ? " P2C2R_TOKEN=" + server_->token() : "") +
                            " P2C2R_CA=" + server_->cert() + " HOME=" + dir_.path() + " ";
    return testing::run_command(env + testing::p2c2r_command() + " " + args + " 2>&1");
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<http::Client> admin_;
  std::unique_ptr<Peer> a_, b_, c_;
  uint64_t workload_ = 0, failing_workload_ = 0, unit_ = 0, failing_unit_ = 0, bad_replica_ = 0;
};

TEST_F(ReportsTest, UnitReportShowsEveryReplicaAndWhoDisagreed) {
  run_disagreement();
  auto u = wire::parse<wire::UnitReport>(get("/v1/reports/units/" + std::to_string(unit_)));
  ASSERT_TRUE(u.ok()) << u.status().to_string();
  EXPECT_EQ(u->state, "valid");
  EXPECT_EQ(u->workload_id, workload_);
  EXPECT_EQ(u->kernel, "peak");
  EXPECT_EQ(u->canonical, hex_of(kGood));
  ASSERT_EQ(u->replicas.size(), 3u);
  for (const auto& r : u->replicas) {
    EXPECT_EQ(r.state, "reported");
    EXPECT_GT(r.sent_ms, 0);
    EXPECT_GE(r.reported_ms, r.sent_ms);
    const bool bad = r.id == bad_replica_;
    EXPECT_EQ(r.validity, bad ? "invalid" : "valid") << r.host_name;
    EXPECT_EQ(r.digest, hex_of(bad ? kBad : kGood));
    if (bad) {
      EXPECT_EQ(r.host_id, c_->id);
      EXPECT_EQ(r.host_name, "host-c");
    }
  }
}

TEST_F(ReportsTest, UnitReportCarriesThePeersErrorText) {
  run_disagreement();
  auto u = wire::parse<wire::UnitReport>(get("/v1/reports/units/" + std::to_string(failing_unit_)));
  ASSERT_TRUE(u.ok()) << u.status().to_string();
  EXPECT_EQ(u->canonical, "");
  ASSERT_EQ(u->replicas.size(), 1u);
  EXPECT_EQ(u->replicas[0].state, "error");
  EXPECT_EQ(u->replicas[0].error, "device lost");
  EXPECT_EQ(u->replicas[0].host_id, a_->id);
  EXPECT_EQ(u->replicas[0].validity, "");
}

TEST_F(ReportsTest, DisagreementShowsBeforeTheUnitIsValidated) {
  const uint64_t workload = submit(*admin_, 1).id;
  auto ra = a_->work(), rc = c_->work();
  ASSERT_TRUE(ra && rc);
  ASSERT_EQ(a_->report(ra->replica_id, kGood).status, 200);
  ASSERT_EQ(c_->report(rc->replica_id, kBad).status, 200);
  auto w =
      wire::parse<wire::WorkloadReport>(get("/v1/reports/workloads/" + std::to_string(workload)));
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  const auto& line = w->units.at(0);
  EXPECT_EQ(line.state, "ready");
  EXPECT_EQ(line.canonical, "");
  EXPECT_EQ(line.replicas, 2u);
  EXPECT_EQ(line.valid + line.invalid, 0u) << "nothing is judged without a quorum";
  EXPECT_EQ(line.disagreements, 1u);
  auto s = wire::parse<wire::ReportSummary>(get("/v1/reports/summary"));
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ(s->units_with_disagreement, 0u) << "no result is invalid yet";
  EXPECT_EQ(s->replicas_per_validated_unit, 0.0);
}

TEST_F(ReportsTest, WorkloadReportCountsReplicasAndDisagreementsPerUnit) {
  run_disagreement();
  auto w =
      wire::parse<wire::WorkloadReport>(get("/v1/reports/workloads/" + std::to_string(workload_)));
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  EXPECT_EQ(w->workload.state, "done");
  ASSERT_EQ(w->units.size(), 1u);
  const auto& line = w->units[0];
  EXPECT_EQ(line.id, unit_);
  EXPECT_EQ(line.state, "valid");
  EXPECT_EQ(line.replicas, 3u);
  EXPECT_EQ(line.valid, 2u);
  EXPECT_EQ(line.invalid, 1u);
  EXPECT_EQ(line.disagreements, 1u);
  EXPECT_EQ(line.canonical, hex_of(kGood));
  auto failing = wire::parse<wire::WorkloadReport>(
      get("/v1/reports/workloads/" + std::to_string(failing_workload_)));
  ASSERT_TRUE(failing.ok()) << failing.status().to_string();
  EXPECT_EQ(failing->units.at(0).errors, 1u);
  EXPECT_EQ(failing->units.at(0).disagreements, 0u);
}

TEST_F(ReportsTest, HostsReportShowsResultsAndCreditPerHost) {
  run_disagreement();
  auto list = Json::parse(get("/v1/reports/hosts"));
  ASSERT_EQ(list.size(), 3u);
  std::map<std::string, wire::HostReport> by_name;
  for (const auto& j : list) {
    auto h = wire::from_json<wire::HostReport>(j);
    ASSERT_TRUE(h.ok()) << h.status().to_string();
    by_name[h->host.name] = *h;
  }
  EXPECT_EQ(by_name["host-a"].host.valid_results, 1u);
  EXPECT_EQ(by_name["host-a"].host.error_results, 1u);
  EXPECT_EQ(by_name["host-b"].host.valid_results, 1u);
  EXPECT_EQ(by_name["host-c"].host.invalid_results, 1u);
  EXPECT_EQ(by_name["host-c"].host.valid_results, 0u);
  EXPECT_GT(by_name["host-a"].host.credit, 0);
  EXPECT_EQ(by_name["host-c"].host.credit, 0);
  for (const auto& [name, h] : by_name) EXPECT_EQ(h.in_progress, 0u) << name;
}

TEST_F(ReportsTest, SummaryCountsValidationAcrossTheServer) {
  run_disagreement();
  auto s = wire::parse<wire::ReportSummary>(get("/v1/reports/summary"));
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ(s->hosts, 3u);
  EXPECT_EQ(s->workloads, 2u);
  EXPECT_EQ(s->units_validated, 1u);
  EXPECT_EQ(s->units_in_progress, 1u);
  EXPECT_EQ(s->units_failed, 0u);
  EXPECT_EQ(s->replicas_per_validated_unit, 3.0);
  EXPECT_EQ(s->units_with_disagreement, 1u);
  EXPECT_EQ(s->replicas, 4u);
  EXPECT_EQ(s->valid_results, 2u);
  EXPECT_EQ(s->invalid_results, 1u);
  EXPECT_EQ(s->error_results, 1u);
  EXPECT_EQ(s->timed_out_results, 0u);
  // Two valid results of the admin's unit were paid for; the liar's was not.
  ASSERT_TRUE(s->credit_by_submitter.has_value());
  ASSERT_EQ(s->credit_by_submitter->count("admin"), 1u);
  EXPECT_GT(s->credit_by_submitter->at("admin"), 0.0);
  EXPECT_EQ(s->quarantined_hosts, std::optional<uint64_t>(0));
}

TEST_F(ReportsTest, UnknownIdsAre404AndReportsNeedTheAdminToken) {
  run_disagreement();
  expect_error(*admin_->request("GET", "/v1/reports/units/999"), 404, "unit 999 does not exist");
  expect_error(*admin_->request("GET", "/v1/reports/workloads/999"), 404,
               "workload 999 does not exist");
  expect_error(*admin_->request("GET", "/v1/reports/units/x1"), 404, "no such route");
  expect_error(*admin_->request("GET", "/v1/reports/everything"), 404, "no such route");
  expect_error(*admin_->request("POST", "/v1/reports/summary"), 405, "not allowed");
  auto anonymous = server_->client();
  for (const char* path : {"/v1/reports/summary", "/v1/reports/hosts", "/v1/reports/units/1",
                           "/v1/reports/workloads/1"})
    expect_error(*anonymous.request("GET", path), 403, "admin token");
  // A peer's signature is not the admin token either.
  expect_error(a_->call("GET", "/v1/reports/summary", ""), 403, "admin token");
}

TEST_F(ReportsTest, TimedOutReplicaIsCountedForItsHost) {
  submit(*admin_, 1, /*deadline_ms=*/300);
  auto ra = a_->work(), rb = b_->work();
  ASSERT_TRUE(ra && rb);
  // c long-polls; the reissue after the 300 ms delay bound wakes it. a's
  // replica, sent first, is due first: the reissue means it has timed out.
  ASSERT_TRUE(c_->work(/*wait_ms=*/20000));
  // b also holds a unit of a workload with a long deadline: in progress for sure.
  submit(*admin_, 1);
  ASSERT_TRUE(b_->work());
  // b's and c's replicas of the 300 ms unit may time out at any moment, the
  // report's own time included: each is counted once, in progress or timed
  // out. The hosts are read first and the summary after: counts only grow.
  auto list = Json::parse(get("/v1/reports/hosts"));
  std::map<uint64_t, wire::HostReport> by_id;
  uint64_t timed_out = 0;
  for (const auto& j : list) {
    auto h = wire::from_json<wire::HostReport>(j);
    ASSERT_TRUE(h.ok()) << h.status().to_string();
    timed_out += h->timed_out_results;
    by_id[h->host.id] = *h;
  }
  auto s = wire::parse<wire::ReportSummary>(get("/v1/reports/summary"));
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  const auto& a = by_id[a_->id];
  const auto& b = by_id[b_->id];
  const auto& c = by_id[c_->id];
  EXPECT_EQ(a.timed_out_results, 1u);
  EXPECT_EQ(a.in_progress, 0u);
  EXPECT_GE(b.in_progress, 1u);
  EXPECT_EQ(b.in_progress + b.timed_out_results, 2u);
  EXPECT_EQ(c.in_progress + c.timed_out_results, 1u);
  EXPECT_LE(timed_out, s->timed_out_results);
}

TEST_F(ReportsTest, CliPrintsTablesAndJson) {
  run_disagreement();
  const std::string unit = std::to_string(unit_);
  auto table = cli("report unit " + unit);
  ASSERT_EQ(table.exit_code, 0) << table.out;
  EXPECT_NE(table.out.find("unit " + unit + " (workload"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("canonical " + hex_of(kGood)), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("VALIDITY"), std::string::npos) << table.out;
  // c's line names the host, its short digest and the verdict.
  const auto c_line = table.out.find(std::to_string(c_->id) + " host-c");
  ASSERT_NE(c_line, std::string::npos) << table.out;
  const std::string line = table.out.substr(c_line, table.out.find('\n', c_line) - c_line);
  EXPECT_NE(line.find("invalid"), std::string::npos) << line;
  EXPECT_NE(line.find(hex_of(kBad).substr(0, 16)), std::string::npos) << line;

  auto json = cli("report unit " + unit + " --json");
  ASSERT_EQ(json.exit_code, 0) << json.out;
  auto parsed = wire::parse<wire::UnitReport>(json.out);
  ASSERT_TRUE(parsed.ok()) << parsed.status().to_string() << ": " << json.out;
  EXPECT_EQ(parsed->replicas.size(), 3u);

  auto workload = cli("report workload " + std::to_string(workload_));
  EXPECT_EQ(workload.exit_code, 0) << workload.out;
  EXPECT_NE(workload.out.find("DISAGREE"), std::string::npos) << workload.out;
  EXPECT_NE(workload.out.find(": done"), std::string::npos) << workload.out;
  auto workload_json = cli("report workload " + std::to_string(workload_) + " --json");
  EXPECT_TRUE(wire::parse<wire::WorkloadReport>(workload_json.out).ok()) << workload_json.out;

  auto hosts = cli("report hosts");
  EXPECT_EQ(hosts.exit_code, 0) << hosts.out;
  for (const char* word : {"TIMEOUTS", "CREDIT", "host-a", "host-b", "host-c"})
    EXPECT_NE(hosts.out.find(word), std::string::npos) << word << "\n" << hosts.out;
  auto hosts_json = cli("report hosts --json");
  EXPECT_EQ(Json::parse(hosts_json.out, nullptr, false).size(), 3u) << hosts_json.out;

  auto summary = cli("report summary");
  EXPECT_EQ(summary.exit_code, 0) << summary.out;
  EXPECT_NE(summary.out.find("replicas per validated unit  3.00"), std::string::npos)
      << summary.out;
  EXPECT_NE(summary.out.find("units with disagreement      1"), std::string::npos) << summary.out;
  auto summary_json = cli("report summary --json");
  auto s = wire::parse<wire::ReportSummary>(summary_json.out);
  ASSERT_TRUE(s.ok()) << summary_json.out;
  EXPECT_EQ(s->units_validated, 1u);
}

TEST_F(ReportsTest, CliShowsTheServersErrorsAndRefusesBadArguments) {
  auto missing = cli("report unit 999");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("p2c2r report: unit 999 does not exist"), std::string::npos)
      << missing.out;
  auto no_token = cli("report summary", /*with_token=*/false);
  EXPECT_EQ(no_token.exit_code, 1);
  EXPECT_NE(no_token.out.find("needs the admin token"), std::string::npos) << no_token.out;
  auto no_id = cli("report workload");
  EXPECT_EQ(no_id.exit_code, 2);
  EXPECT_NE(no_id.out.find("needs a decimal workload id"), std::string::npos) << no_id.out;
  auto unknown = cli("report everything");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.out.find("unknown report 'everything'"), std::string::npos) << unknown.out;
}

}  // namespace
}  // namespace p2c2r
