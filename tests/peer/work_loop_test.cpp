// The work loop against a scripted in-process server (the only way to make a
// server misbehave on purpose) and the real sandboxed executor: bad manifests
// and inputs are refused and reported, good units match the CPU reference,
// results survive a server outage in the journal, and stop() is bounded.
#include "peer/work_loop.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "tests/server/temp_dir.h"
#include "tests/support/slowdown.h"

namespace p2c2r::peer {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

const kernels::Registry& registry() {
  static const kernels::Registry r = kernels::builtin_registry();
  return r;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A server the test scripts: it hands out queued assignments, serves blobs
// (possibly with the wrong bytes), records every report and upload, and can
// be "down" (every call kUnavailable) or answer reports with a fixed error.
class ScriptedLink : public ServerLink {
 public:
  Result<std::optional<wire::Assignment>> request_work(std::chrono::milliseconds wait) override {
    std::unique_lock lock(mutex_);
    ++work_requests_;
    if (garbage_answers_ > 0) {
      --garbage_answers_;
      return invalid_argument("the server's assignment: expected a JSON object, got '<html>'");
    }
    if (down_) {
      ++calls_while_down_;
      return unavailable("scripted outage");
    }
    changed_.wait_for(lock, wait, [&] { return !queue_.empty() || down_; });
    if (down_ || queue_.empty()) return std::optional<wire::Assignment>();
    wire::Assignment a = std::move(queue_.front());
    queue_.pop_front();
    if (go_down_after_next_assignment_) {
      go_down_after_next_assignment_ = false;
      down_ = true;
    }
    return std::optional<wire::Assignment>(std::move(a));
  }
  Result<Bytes> fetch_blob(const Digest& digest) override {
    std::lock_guard lock(mutex_);
    if (down_) return unavailable("scripted outage");
    if (blob_failures_ > 0) {
      --blob_failures_;
      return unavailable("scripted hiccup");
    }
    auto it = blobs_.find(digest.hex());
    if (it == blobs_.end()) return not_found("no blob " + digest.hex());
    return it->second;
  }
  Result<wire::ReportReply> report(const wire::Report& report) override {
    std::lock_guard lock(mutex_);
    ++report_attempts_;
    if (down_) {
      ++calls_while_down_;
      return unavailable("scripted outage");
    }
    if (report_error_) return Status(*report_error_, "scripted report error");
    // Like the server: a replica is reported once.
    for (const auto& r : reports_)
      if (r.replica_id == report.replica_id) return already_exists("already reported");
    reports_.push_back(report);
    if (lose_next_report_reply_) {  // committed, but the answer never arrives
      lose_next_report_reply_ = false;
      return unavailable("scripted: the reply was lost");
    }
    wire::ReportReply reply{report.ok, std::nullopt};
    // Like the server: a report that asks for work gets the next queued unit.
    if (report.want_work && !queue_.empty()) {
      reply.work = std::move(queue_.front());
      queue_.pop_front();
      ++handed_with_reports_;
    }
    return reply;
  }
  Status upload_output(uint64_t replica_id, ByteView output) override {
    std::lock_guard lock(mutex_);
    if (down_) return unavailable("scripted outage");
    ++upload_attempts_;
    if (upload_failures_ > 0) {
      --upload_failures_;
      return Status(upload_failure_, "scripted upload failure");
    }
    uploads_[replica_id] = Bytes(output.begin(), output.end());
    return Status::Ok();
  }

  void assign(wire::Assignment a) {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(a));
    changed_.notify_all();
  }
  void serve_blob(const std::string& digest_hex, Bytes bytes) {
    std::lock_guard lock(mutex_);
    blobs_[digest_hex] = std::move(bytes);
  }
  void set_down(bool down) {
    std::lock_guard lock(mutex_);
    down_ = down;
    changed_.notify_all();
  }
  void go_down_after_next_assignment() {
    std::lock_guard lock(mutex_);
    go_down_after_next_assignment_ = true;
  }
  // The next `n` blob fetches fail as a network error would.
  void fail_blob_fetches(int n) {
    std::lock_guard lock(mutex_);
    blob_failures_ = n;
  }
  // The next report is recorded but its reply is lost.
  void lose_next_report_reply() {
    std::lock_guard lock(mutex_);
    lose_next_report_reply_ = true;
  }
  // The next `n` output uploads fail with `code` (by default as a network
  // error would).
  void fail_uploads(int n, Code code = Code::kUnavailable) {
    std::lock_guard lock(mutex_);
    upload_failures_ = n;
    upload_failure_ = code;
  }
  int upload_attempts() const {
    std::lock_guard lock(mutex_);
    return upload_attempts_;
  }
  // The next `n` work requests get an answer that does not parse.
  void answer_garbage(int n) {
    std::lock_guard lock(mutex_);
    garbage_answers_ = n;
  }
  int work_requests() const {
    std::lock_guard lock(mutex_);
    return work_requests_;
  }
  void answer_reports_with(Code code) {
    std::lock_guard lock(mutex_);
    report_error_ = code;
  }
  std::vector<wire::Report> reports() const {
    std::lock_guard lock(mutex_);
    return reports_;
  }
  std::map<uint64_t, Bytes> uploads() const {
    std::lock_guard lock(mutex_);
    return uploads_;
  }
  int handed_with_reports() const {
    std::lock_guard lock(mutex_);
    return handed_with_reports_;
  }
  int report_attempts() const {
    std::lock_guard lock(mutex_);
    return report_attempts_;
  }
  int calls_while_down() const {
    std::lock_guard lock(mutex_);
    return calls_while_down_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<wire::Assignment> queue_;
  std::map<std::string, Bytes> blobs_;
  std::vector<wire::Report> reports_;
  std::map<uint64_t, Bytes> uploads_;
  std::optional<Code> report_error_;
  bool down_ = false;
  bool go_down_after_next_assignment_ = false;
  int garbage_answers_ = 0;
  int blob_failures_ = 0;
  int upload_failures_ = 0;
  Code upload_failure_ = Code::kUnavailable;
  bool lose_next_report_reply_ = false;
  int upload_attempts_ = 0;
  int work_requests_ = 0;
  int report_attempts_ = 0;
  int calls_while_down_ = 0;
  int handed_with_reports_ = 0;
};

// A unit of a registry kernel with its generated inputs and CPU reference.
struct ReferenceUnit {
  wire::Manifest manifest;
  std::vector<Bytes> inputs;
  Bytes reference;
};

ReferenceUnit reference_unit(const std::string& name, uint64_t seed) {
  const kernels::Kernel* kernel = *registry().find(name);
  ReferenceUnit r;
  r.manifest.unit_id = seed;
  r.manifest.workload_id = 1;
  r.manifest.kernel = name;
  r.manifest.kernel_version = kernel->version();
  r.manifest.params = kernel->small_params();
  r.manifest.seed = seed;
  r.manifest.deadline_ms = now_ms() + 600000;
  const auto params = kernel->resolve_params(seed, r.manifest.params);
  EXPECT_TRUE(params.ok()) << params.status().to_string();
  r.inputs = kernel->generate_inputs(*params).value();
  for (const auto& blob : r.inputs) r.manifest.inputs.push_back(digest_of(blob).hex());
  r.reference = kernel->reference(*params, r.inputs, 1).value();
  return r;
}

class WorkLoopTest : public ::testing::Test {
 protected:
  WorkLoopTest()
      : journal_(Journal::open(dir_.file("journal")).value()),
        cache_(BlobCache::open(dir_.file("cache"), 64 << 20).value()) {
    options_.poll_wait = 200ms;
    options_.backoff_min = 20ms;
    options_.backoff_max = 200ms;
    options_.shutdown_grace = 1s;
    options_.sandbox.binary = P2C2R_BINARY;
    options_.sandbox.stderr_fd = -1;
  }
  ~WorkLoopTest() override {
    if (loop_) loop_->stop();
  }

  void start() {
    loop_ = std::make_unique<WorkLoop>(link_, server_key_.public_key(), registry(), journal_,
                                       cache_, options_);
    loop_->start();
  }

  // Signs `manifest` as the server and queues it as replica `replica_id`.
  wire::Assignment signed_assignment(uint64_t replica_id, const wire::Manifest& manifest) const {
    wire::Assignment a;
    a.replica_id = replica_id;
    a.report_by_ms = now_ms() + 600000;
    a.manifest = manifest;
    a.manifest_signature = server_key_.sign(wire::manifest_signing_bytes(manifest)).hex();
    return a;
  }
  void serve_inputs(const ReferenceUnit& u) {
    for (const auto& blob : u.inputs) link_.serve_blob(digest_of(blob).hex(), blob);
  }

  // Polls until `done` holds, bounded; no sleeps as synchronisation. The
  // bound covers starting an executor and compiling a shader, which take
  // kSlowdown times longer in the sanitizer build.
  bool wait_for(const std::function<bool()>& done, std::chrono::seconds bound = 60s) {
    const auto until = std::chrono::steady_clock::now() + bound * testing::kSlowdown;
    while (!done()) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(10ms);
    }
    return true;
  }
  std::optional<wire::Report> report_of(uint64_t replica_id) const {
    for (const auto& r : link_.reports())
      if (r.replica_id == replica_id) return r;
    return std::nullopt;
  }
  bool reported(uint64_t replica_id) const { return report_of(replica_id).has_value(); }

  // Queues the bad assignment (replica 1) and a good physics unit (replica
  // 2); the bad one must be refused with `reason` and the good one must still
  // run and match the CPU reference.
  void expect_refused_then_good(const wire::Assignment& bad, const std::string& reason) {
    const ReferenceUnit good = reference_unit("physics", 11);
    serve_inputs(good);
    link_.assign(bad);
    link_.assign(signed_assignment(2, good.manifest));
    start();
    // The output is uploaded after the report is answered: wait for both.
    ASSERT_TRUE(wait_for([&] { return reported(1) && reported(2) && link_.uploads().count(2); }))
        << loop_->status().last_error;
    const wire::Report refused = *report_of(1);
    EXPECT_FALSE(refused.ok);
    EXPECT_FALSE(refused.digest.has_value());
    EXPECT_FALSE(refused.unfit);  // a refusal is the manifest's fault, not the host's size
    const auto all = link_.reports();
    EXPECT_EQ(
        std::count_if(all.begin(), all.end(), [](const auto& r) { return r.replica_id == 1; }), 1)
        << "the slot and the journal flusher both sent the refusal";
    EXPECT_NE(refused.error.find("refused"), std::string::npos) << refused.error;
    EXPECT_NE(refused.error.find(reason), std::string::npos) << refused.error;
    const wire::Report ran = *report_of(2);
    ASSERT_TRUE(ran.ok) << ran.error;
    EXPECT_EQ(ran.digest, digest_of(good.reference).hex());
    EXPECT_EQ(link_.uploads()[2], good.reference);
    const PeerStatus s = loop_->status();
    EXPECT_EQ(s.units_refused, 1u);
    EXPECT_EQ(s.units_done, 1u);
    EXPECT_EQ(s.units_failed, 0u);
    EXPECT_NE(s.last_error.find(reason), std::string::npos) << s.last_error;
    EXPECT_TRUE(wait_for([&] { return journal_.entries().empty(); }));
  }

  TempDir dir_;
  crypto::KeyPair server_key_ = crypto::KeyPair::generate();
  ScriptedLink link_;
  Journal journal_;
  BlobCache cache_;
  WorkLoopOptions options_;
  std::unique_ptr<WorkLoop> loop_;
};

TEST_F(WorkLoopTest, EachReportAsksForTheNextUnitAndRunsIt) {
  std::vector<ReferenceUnit> units;
  for (uint64_t i = 1; i <= 3; ++i) {
    units.push_back(reference_unit("peak", i));
    serve_inputs(units.back());
    link_.assign(signed_assignment(i, units.back().manifest));
  }
  start();
  ASSERT_TRUE(wait_for([&] { return reported(1) && reported(2) && reported(3); }))
      << loop_->status().last_error;
  for (uint64_t i = 1; i <= 3; ++i) {
    const wire::Report r = *report_of(i);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.digest, digest_of(units[i - 1].reference).hex());
    EXPECT_TRUE(r.want_work) << i;
  }
  // One slot: the first unit came from a work request, the others with the
  // reports before them.
  EXPECT_EQ(link_.handed_with_reports(), 2);
  EXPECT_EQ(loop_->status().units_done, 3u);
}

TEST_F(WorkLoopTest, RefusesManifestWithBadServerSignature) {
  ReferenceUnit u = reference_unit("peak", 3);
  wire::Assignment a = signed_assignment(1, u.manifest);
  a.manifest.seed += 1;  // altered after signing
  expect_refused_then_good(a, "signature");
}

TEST_F(WorkLoopTest, RefusesManifestSignedByAnotherKey) {
  ReferenceUnit u = reference_unit("peak", 3);
  wire::Assignment a = signed_assignment(1, u.manifest);
  a.manifest_signature =
      crypto::KeyPair::generate().sign(wire::manifest_signing_bytes(u.manifest)).hex();
  expect_refused_then_good(a, "signature");
}

TEST_F(WorkLoopTest, RefusesUnknownKernel) {
  ReferenceUnit u = reference_unit("peak", 3);
  u.manifest.kernel = "bitcoin_miner";
  expect_refused_then_good(signed_assignment(1, u.manifest), "unknown kernel 'bitcoin_miner'");
}

TEST_F(WorkLoopTest, RefusesWrongKernelVersion) {
  ReferenceUnit u = reference_unit("peak", 3);
  u.manifest.kernel_version += 1;
  expect_refused_then_good(signed_assignment(1, u.manifest), "this peer has v");
}

TEST_F(WorkLoopTest, RefusesInputBlobWhoseDigestDoesNotMatch) {
  ReferenceUnit u = reference_unit("raytrace", 5);
  ASSERT_FALSE(u.inputs.empty());
  Bytes lie = u.inputs[0];
  lie[lie.size() / 2] ^= 0x01;
  link_.serve_blob(u.manifest.inputs[0], lie);
  expect_refused_then_good(signed_assignment(1, u.manifest), "does not match its digest");
}

TEST_F(WorkLoopTest, UnitOverADeviceLimitIsReportedUnfitAndTheNextOneRuns) {
  // At workgroup size 16, 2,000,000 invocations need 125,000 workgroups: over
  // lavapipe's (and Vulkan's minimum) 65,535, so the device cannot run it.
  options_.local_size = 16;
  options_.sandbox.device = "llvmpipe";  // its limit is known; a GPU's may be higher
  ReferenceUnit big = reference_unit("peak", 3);
  big.manifest.params = {{"invocations", 2000000}, {"iterations", 1}};
  const ReferenceUnit small = reference_unit("peak", 4);
  link_.assign(signed_assignment(1, big.manifest));
  link_.assign(signed_assignment(2, small.manifest));
  start();
  ASSERT_TRUE(wait_for([&] { return reported(1) && reported(2) && link_.uploads().count(2); }))
      << loop_->status().last_error;
  const wire::Report unfit = *report_of(1);
  EXPECT_FALSE(unfit.ok);
  EXPECT_TRUE(unfit.unfit);
  EXPECT_NE(unfit.error.find("workgroups"), std::string::npos) << unfit.error;
  const wire::Report ran = *report_of(2);
  ASSERT_TRUE(ran.ok) << ran.error;
  EXPECT_FALSE(ran.unfit);
  EXPECT_EQ(ran.digest, digest_of(small.reference).hex());
  EXPECT_EQ(loop_->status().units_failed, 1u);
}

TEST_F(WorkLoopTest, NetworkHiccupWhileFetchingInputsIsRetriedNotHeldAgainstTheUnit) {
  const ReferenceUnit u = reference_unit("raytrace", 6);
  serve_inputs(u);
  link_.fail_blob_fetches(2);
  link_.assign(signed_assignment(1, u.manifest));
  start();
  ASSERT_TRUE(wait_for([&] { return reported(1); })) << loop_->status().last_error;
  const wire::Report r = *report_of(1);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.digest, digest_of(u.reference).hex());
  EXPECT_EQ(loop_->status().units_refused, 0u);
}

TEST_F(WorkLoopTest, RefusesOutOfRangeParams) {
  ReferenceUnit u = reference_unit("peak", 3);
  u.manifest.params["iterations"] = int64_t{1} << 40;
  expect_refused_then_good(signed_assignment(1, u.manifest), "iterations");
}

TEST_F(WorkLoopTest, ServerOutageKeepsResultJournaledUntilDelivered) {
  const ReferenceUnit u = reference_unit("peak", 9);
  link_.go_down_after_next_assignment();
  link_.assign(signed_assignment(7, u.manifest));
  start();
  // The unit finishes while the server is down: the result is journaled and
  // every slot backs off rather than spinning.
  ASSERT_TRUE(wait_for([&] {
    const PeerStatus s = loop_->status();
    return s.units_done == 1 && s.running.empty() && s.state.rfind("backing off", 0) == 0;
  })) << loop_->status().state;
  const auto journaled = journal_.entries();
  ASSERT_EQ(journaled.size(), 1u);
  EXPECT_EQ(journaled[0].replica_id, 7u);
  EXPECT_EQ(journaled[0].digest, digest_of(u.reference));
  EXPECT_EQ(journaled[0].output, u.reference);
  EXPECT_TRUE(link_.reports().empty());
  EXPECT_NE(loop_->status().last_error.find("scripted outage"), std::string::npos);
  ASSERT_TRUE(wait_for([&] { return loop_->status().reports_pending == 1; }));

  link_.set_down(false);
  ASSERT_TRUE(wait_for([&] { return journal_.entries().empty(); }));
  const auto reports = link_.reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].ok);
  EXPECT_EQ(reports[0].digest, digest_of(u.reference).hex());
  EXPECT_EQ(link_.uploads()[7], u.reference);
  EXPECT_TRUE(wait_for([&] { return loop_->status().reports_pending == 0; }));
}

TEST_F(WorkLoopTest, FailedUploadAfterAnAcceptedReportRetriesOnlyTheUpload) {
  const ReferenceUnit u = reference_unit("peak", 9);
  link_.fail_uploads(2);
  link_.assign(signed_assignment(11, u.manifest));
  start();
  ASSERT_TRUE(wait_for([&] { return link_.uploads().count(11) != 0; }))
      << loop_->status().last_error;
  EXPECT_EQ(link_.uploads()[11], u.reference);
  EXPECT_EQ(link_.upload_attempts(), 3);
  // One report: a second would be refused by a real server as a duplicate,
  // and the output would never be asked for again.
  ASSERT_EQ(link_.reports().size(), 1u);
  EXPECT_EQ(link_.reports()[0].digest, digest_of(u.reference).hex());
  EXPECT_TRUE(wait_for([&] { return journal_.entries().empty(); }));
}

TEST_F(WorkLoopTest, UploadOverTheServersBodyLimitIsNotRetried) {
  const ReferenceUnit u = reference_unit("peak", 12);
  link_.fail_uploads(1000, Code::kResourceExhausted);  // HTTP 413, every time
  link_.assign(signed_assignment(14, u.manifest));
  start();
  ASSERT_TRUE(wait_for([&] { return reported(14) && journal_.entries().empty(); }))
      << loop_->status().last_error;
  EXPECT_EQ(link_.upload_attempts(), 1);
  EXPECT_TRUE(link_.uploads().empty());
  EXPECT_EQ(loop_->status().reports_pending, 0u);
}

TEST_F(WorkLoopTest, LostReportReplyStillGetsTheOutputUploaded) {
  const ReferenceUnit u = reference_unit("peak", 11);
  link_.lose_next_report_reply();
  link_.assign(signed_assignment(13, u.manifest));
  start();
  // The retried report is refused as a duplicate; the output goes up anyway.
  ASSERT_TRUE(wait_for([&] { return link_.uploads().count(13) != 0; }))
      << loop_->status().last_error;
  EXPECT_EQ(link_.uploads()[13], u.reference);
  EXPECT_EQ(link_.reports().size(), 1u);
  EXPECT_GE(link_.report_attempts(), 2);
  EXPECT_TRUE(wait_for([&] { return journal_.entries().empty(); }));
}

TEST_F(WorkLoopTest, UploadStillDueAfterARestartIsSentWithoutAReport) {
  const ReferenceUnit u = reference_unit("peak", 10);
  JournalEntry e;
  e.replica_id = 12;
  e.kernel = "peak";
  e.output = u.reference;
  e.digest = digest_of(u.reference);
  e.awaiting_upload = true;
  ASSERT_TRUE(journal_.put(e).ok());
  start();
  ASSERT_TRUE(wait_for([&] { return journal_.entries().empty(); }));
  EXPECT_EQ(link_.uploads()[12], u.reference);
  EXPECT_TRUE(link_.reports().empty());
}

TEST_F(WorkLoopTest, ServerAnsweringGarbageIsBackedOffAndWorkResumes) {
  const ReferenceUnit u = reference_unit("physics", 6);
  serve_inputs(u);
  link_.answer_garbage(3);
  link_.assign(signed_assignment(4, u.manifest));
  start();
  ASSERT_TRUE(wait_for([&] { return reported(4); })) << loop_->status().last_error;
  EXPECT_GE(link_.work_requests(), 4);
  EXPECT_EQ(report_of(4)->digest, digest_of(u.reference).hex());
  EXPECT_NE(loop_->status().last_error.find("expected a JSON object"), std::string::npos)
      << loop_->status().last_error;
  EXPECT_EQ(loop_->status().units_done, 1u);
}

TEST_F(WorkLoopTest, JournaledResultFromAnEarlierRunIsSentAtStart) {
  const ReferenceUnit u = reference_unit("peak", 4);
  JournalEntry e;
  e.replica_id = 42;
  e.kernel = "peak";
  e.output = u.reference;
  e.digest = digest_of(u.reference);
  ASSERT_TRUE(journal_.put(e).ok());
  start();
  ASSERT_TRUE(wait_for([&] { return journal_.entries().empty(); }));
  ASSERT_EQ(link_.reports().size(), 1u);
  EXPECT_EQ(link_.reports()[0].digest, e.digest->hex());
  EXPECT_EQ(link_.uploads()[42], u.reference);
}

TEST_F(WorkLoopTest, ReportAnsweredAlreadyExistsCountsAsAcknowledgedAfterTheUpload) {
  const ReferenceUnit u = reference_unit("peak", 8);
  link_.answer_reports_with(Code::kAlreadyExists);
  link_.assign(signed_assignment(3, u.manifest));
  start();
  ASSERT_TRUE(wait_for([&] {
    const PeerStatus s = loop_->status();
    return s.units_done == 1 && s.running.empty();
  }));
  EXPECT_GE(link_.report_attempts(), 1);
  EXPECT_TRUE(journal_.entries().empty());
  EXPECT_EQ(loop_->status().reports_pending, 0u);
  // The earlier report's reply may have asked for the output: it goes up.
  EXPECT_EQ(link_.uploads()[3], u.reference);
}

TEST_F(WorkLoopTest, RunningUnitIsJournaledAsKilledAndNotReportedUntilItEnds) {
  ReferenceUnit u = reference_unit("peak", 2);
  u.manifest.params = {{"invocations", 2000000}, {"iterations", 1 << 16}};
  link_.assign(signed_assignment(5, u.manifest));
  start();
  ASSERT_TRUE(wait_for([&] { return !journal_.entries().empty(); }));
  // What a peer killed now would find at its next start.
  const auto journaled = journal_.entries();
  ASSERT_EQ(journaled.size(), 1u);
  EXPECT_EQ(journaled[0].replica_id, 5u);
  EXPECT_FALSE(journaled[0].ok);
  EXPECT_NE(journaled[0].error.find("killed"), std::string::npos) << journaled[0].error;
  // While the unit runs, its marker is not sent.
  EXPECT_EQ(loop_->flush_journal(), 0u);
  EXPECT_FALSE(reported(5));
  loop_->stop();
  const auto r = report_of(5);
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(r->error.find("shut down"), std::string::npos) << r->error;
  EXPECT_EQ(link_.reports().size(), 1u);
}

TEST_F(WorkLoopTest, MarkerOfAUnitKilledInAnEarlierRunIsReportedAsAnErrorAtStart) {
  JournalEntry marker;
  marker.replica_id = 8;
  marker.kernel = "peak";
  marker.ok = false;
  marker.error = "the peer was killed or crashed while running this unit";
  ASSERT_TRUE(journal_.put(marker).ok());
  start();
  ASSERT_TRUE(wait_for([&] { return journal_.entries().empty(); }));
  const auto r = report_of(8);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->ok);
  EXPECT_NE(r->error.find("killed"), std::string::npos) << r->error;
  EXPECT_TRUE(link_.uploads().empty());
}

TEST_F(WorkLoopTest, StopIsNotHeldUpByALongPollForWork) {
  options_.poll_wait = std::chrono::minutes(10);  // a server that holds the poll this long
  start();
  ASSERT_TRUE(wait_for([&] { return link_.work_requests() >= 1; }));
  const auto begin = std::chrono::steady_clock::now();
  loop_->stop();
  // Loose bound: the grace (1 s), far below the ten-minute poll.
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 30s);
  EXPECT_EQ(loop_->status().state, "stopped");
}

TEST_F(WorkLoopTest, StopAbandonsARunningUnitWithinTheGracePeriod) {
  // A unit that would run for many minutes on a CPU Vulkan device.
  ReferenceUnit u = reference_unit("peak", 2);
  u.manifest.params = {{"invocations", 2000000}, {"iterations", 1 << 16}};
  link_.assign(signed_assignment(5, u.manifest));
  start();
  ASSERT_TRUE(wait_for([&] { return !loop_->status().running.empty(); }));
  const auto begin = std::chrono::steady_clock::now();
  loop_->stop();
  const auto took = std::chrono::steady_clock::now() - begin;
  // Loose bound: the grace (1 s) plus killing and reporting, far below the unit's run time.
  EXPECT_LT(took, 30s);
  const auto r = report_of(5);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->ok);
  EXPECT_NE(r->error.find("shut down"), std::string::npos) << r->error;
  EXPECT_EQ(loop_->status().state, "stopped");
  EXPECT_TRUE(journal_.entries().empty());
}

}  // namespace
}  // namespace p2c2r::peer
