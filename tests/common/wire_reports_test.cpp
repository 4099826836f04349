// The report messages (GET /v1/reports/...): round trips and strict parsing.
#include <gtest/gtest.h>

#include "common/wire.h"

namespace p2c2r::wire {
namespace {

UnitReport sample_unit() {
  UnitReport u;
  u.id = 7;
  u.workload_id = 2;
  u.index = 3;
  u.stage = "raw";
  u.kernel = "peak";
  u.kernel_version = 1;
  u.state = "valid";
  u.canonical = std::string(64, 'a');
  u.replicas.push_back({11, 1, "a", "reported", "valid", std::string(64, 'a'), "", 100, 900, 150});
  u.replicas.push_back({12, 3, "c", "error", "", "", "device lost", 100, 900, 160});
  return u;
}

TEST(WireReportsTest, UnitReportRoundTripsWithEveryReplica) {
  const UnitReport u = sample_unit();
  auto back = parse<UnitReport>(serialize(u));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  ASSERT_EQ(back->replicas.size(), 2u);
  EXPECT_EQ(back->replicas[1].error, "device lost");
  EXPECT_EQ(back->replicas[0].reported_ms, 150);
  EXPECT_EQ(serialize(*back), serialize(u));
}

TEST(WireReportsTest, UnknownFieldInAReplicaIsNamedWithItsPath) {
  Json j = to_json(sample_unit());
  j["replicas"][1]["colour"] = "red";
  auto r = from_json<UnitReport>(j);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "replicas[1].colour: unknown field");
}

TEST(WireReportsTest, WorkloadReportRoundTripsAndRefusesAWrongType) {
  WorkloadReport w;
  w.workload.id = 2;
  w.workload.state = "done";
  w.units.push_back({7, 0, "raw", "peak", "valid", std::string(64, 'b'), 3, 2, 1, 0, 0, 0, 1});
  auto back = parse<WorkloadReport>(serialize(w));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->units.at(0).disagreements, 1u);
  EXPECT_EQ(serialize(*back), serialize(w));
  Json j = to_json(w);
  j["units"][0]["invalid"] = "one";
  EXPECT_EQ(from_json<WorkloadReport>(j).status().message(),
            "units[0].invalid: expected an unsigned integer, got string");
}

TEST(WireReportsTest, HostReportCarriesTheHostInfo) {
  HostReport h;
  h.host.id = 4;
  h.host.name = "gpu box";
  h.host.invalid_results = 2;
  h.timed_out_results = 5;
  auto back = parse<HostReport>(serialize(h));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->host.name, "gpu box");
  EXPECT_EQ(back->host.invalid_results, 2u);
  EXPECT_EQ(back->timed_out_results, 5u);
  Json j = to_json(h);
  j["host"].erase("credit");
  EXPECT_EQ(from_json<HostReport>(j).status().message(), "host.credit: required field is missing");
}

TEST(WireReportsTest, HostReportRingerCountsAreOptionalForOlderServers) {
  HostReport h;
  h.ringers_passed = 7;
  h.ringers_failed = 2;
  h.unfit_results = 3;
  auto back = parse<HostReport>(serialize(h));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->ringers_passed, 7u);
  EXPECT_EQ(back->ringers_failed, 2u);
  EXPECT_EQ(back->unfit_results, 3u);
  Json j = to_json(h);
  j.erase("ringers_passed");
  j.erase("ringers_failed");
  j.erase("unfit_results");
  auto old = from_json<HostReport>(j);
  ASSERT_TRUE(old.ok()) << old.status().to_string();
  EXPECT_EQ(old->ringers_passed, 0u);
  EXPECT_EQ(old->unfit_results, 0u);
}

TEST(WireReportsTest, SummaryOmitsCountsTheServerDoesNotKeep) {
  ReportSummary s;
  s.units_validated = 10;
  s.replicas_per_validated_unit = 2.5;
  const Json j = to_json(s);
  EXPECT_FALSE(j.contains("spot_checks"));
  EXPECT_FALSE(j.contains("quarantined_hosts"));
  auto back = from_json<ReportSummary>(j);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_FALSE(back->spot_checks);
  EXPECT_EQ(back->replicas_per_validated_unit, 2.5);
  s.spot_checks = 3;
  s.quarantined_hosts = 1;
  auto counted = parse<ReportSummary>(serialize(s));
  ASSERT_TRUE(counted.ok()) << counted.status().to_string();
  EXPECT_EQ(*counted->spot_checks, 3u);
  EXPECT_EQ(*counted->quarantined_hosts, 1u);
}

}  // namespace
}  // namespace p2c2r::wire
