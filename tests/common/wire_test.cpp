#include "common/wire.h"

#include <gtest/gtest.h>

namespace p2c2r::wire {
namespace {

std::string error_of(const Status& s) { return s.message(); }

TEST(WireTest, WorkloadSpecRoundTrips) {
  auto spec = parse<WorkloadSpec>(
      R"({"kind":"raw","name":"n","priority":"interactive","deadline_ms":50,
          "replication":{"min_quorum":1,"target_nresults":1},
          "raw":{"kernel":"peak","params":{"iterations":4},"seed":3,"units":5}})");
  ASSERT_TRUE(spec.ok()) << spec.status().to_string();
  EXPECT_EQ(spec->raw->units, 5u);
  EXPECT_EQ(spec->raw->params.at("iterations"), 4);
  EXPECT_EQ(*spec->replication.min_quorum, 1u);
  auto again = parse<WorkloadSpec>(serialize(*spec));
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ(serialize(*again), serialize(*spec));
}

TEST(WireTest, UnknownFieldIsNamedWithItsPath) {
  auto s = parse<WorkloadSpec>(R"({"kind":"raw","raw":{"kernel":"peak","bogus":1}})");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(error_of(s.status()), "raw.bogus: unknown field");
}

TEST(WireTest, WrongTypeIsNamedWithItsPath) {
  auto s = parse<WorkloadSpec>(R"({"kind":"raw","raw":{"kernel":"peak","units":"4"}})");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(error_of(s.status()), "raw.units: expected an unsigned integer, got string");
  auto n = parse<WorkloadSpec>(R"({"kind":"raw","raw":{"kernel":"peak","units":-1}})");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(error_of(n.status()), "raw.units: expected an unsigned integer, got integer");
  auto p = parse<WorkloadSpec>(R"({"kind":"raw","raw":{"kernel":"peak","params":{"x":1.5}}})");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(error_of(p.status()), "raw.params.x: expected an integer, got number");
}

TEST(WireTest, MissingRequiredFieldAndUnknownKind) {
  EXPECT_EQ(error_of(parse<WorkloadSpec>(R"({"raw":{}})").status()),
            "kind: required field is missing");
  EXPECT_NE(error_of(parse<WorkloadSpec>(R"({"kind":"mine"})").status())
                .find("unknown workload kind 'mine'"),
            std::string::npos);
  EXPECT_EQ(error_of(parse<WorkloadSpec>(R"({"kind":"raw"})").status()),
            "raw: required for kind 'raw'");
  EXPECT_NE(
      error_of(
          parse<WorkloadSpec>(R"({"kind":"game","game":{"frames":1},"priority":"now"})").status())
          .find("priority"),
      std::string::npos);
}

TEST(WireTest, MalformedJsonAndNonObjectBody) {
  EXPECT_EQ(error_of(parse<WorkRequest>("{").status()), "body: malformed JSON");
  EXPECT_EQ(error_of(parse<WorkRequest>("[]").status()), "body: expected an object, got array");
}

TEST(WireTest, ReportNeedsDigestWhenOkAndErrorWhenNot) {
  EXPECT_EQ(error_of(parse<Report>(R"({"replica_id":1,"ok":true})").status()),
            "digest: required when ok is true");
  EXPECT_EQ(error_of(parse<Report>(R"({"replica_id":1,"ok":false})").status()),
            "error: required when ok is false");
  auto r = parse<Report>(R"({"replica_id":1,"ok":false,"error":"device lost"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->error, "device lost");
}

TEST(WireTest, ReportCanAskForWorkAndTheReplyCarryIt) {
  Report r{7, true, std::string(64, 'a'), "", 0.5};
  EXPECT_FALSE(parse<Report>(serialize(r))->want_work);
  r.want_work = true;
  EXPECT_TRUE(parse<Report>(serialize(r))->want_work);
  EXPECT_EQ(
      error_of(parse<Report>(R"({"replica_id":1,"ok":false,"error":"x","want_work":1})").status()),
      "want_work: expected true or false, got unsigned integer");

  ReportReply reply{true, std::nullopt};
  EXPECT_EQ(serialize(reply).find("work\""), std::string::npos);
  reply.work = Assignment{9, 1234, Manifest{}, "ab"};
  reply.work->manifest.kernel = "peak";
  auto back = parse<ReportReply>(serialize(reply));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  ASSERT_TRUE(back->work);
  EXPECT_EQ(back->work->replica_id, 9u);
  EXPECT_EQ(back->work->manifest.kernel, "peak");
  EXPECT_EQ(
      error_of(parse<ReportReply>(R"({"want_output":false,"work":{"replica_id":1}})").status()),
      "work.report_by_ms: required field is missing");
}

TEST(WireTest, ManifestSigningBytesAreDeterministic) {
  Manifest m;
  m.unit_id = 3;
  m.kernel = "peak";
  m.params = {{"b", 2}, {"a", 1}};
  m.inputs = {"00"};
  const auto text = manifest_signing_bytes(m);
  auto back = from_json<Manifest>(Json::parse(text.substr(text.find('\n') + 1)));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(manifest_signing_bytes(*back), text);
  EXPECT_LT(text.find("\"a\""), text.find("\"b\""));
}

TEST(WireTest, HostRegistrationParses) {
  auto r = parse<RegisterHost>(
      R"({"public_key":"ab","name":"h","device":{"name":"llvmpipe","memory_bytes":1024,
          "features":["int64"],"kernels":[{"kernel":"peak","version":1,"seconds_per_unit":0.5}]}})");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->device.kernels.at(0).seconds_per_unit, 0.5);
  auto bad = parse<RegisterHost>(
      R"({"public_key":"ab","name":"h","device":{"name":"x","memory_bytes":1,"kernels":[{"kernel":1}]}})");
  EXPECT_EQ(error_of(bad.status()),
            "device.kernels[0].kernel: expected a string, got unsigned integer");
}

TEST(WireTest, HostInfoCarriesReliabilityAndCreditStrictly) {
  HostInfo h;
  h.id = 3;
  h.name = "h";
  h.standing = "quarantined";
  h.quarantine_reason = "error rate 0.41 above 0.30";
  h.timeout_results = 2;
  h.consecutive_valid = 0;
  h.error_rate = 0.41;
  h.credit_pending = 1.5;
  h.credit_revoked = 2.5;
  auto back = parse<HostInfo>(serialize(h));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->standing, "quarantined");
  EXPECT_EQ(back->quarantine_reason, h.quarantine_reason);
  EXPECT_EQ(back->timeout_results, 2u);
  EXPECT_EQ(back->credit_revoked, 2.5);
  Json j = to_json(h);
  j["extra"] = 1;
  EXPECT_FALSE(parse<HostInfo>(j.dump()).ok());
  j.erase("extra");
  j.erase("standing");
  auto missing = parse<HostInfo>(j.dump());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("standing"), std::string::npos);
}

}  // namespace
}  // namespace p2c2r::wire
