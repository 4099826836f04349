#include "peer/work_loop.h"

#include <signal.h>

#include <random>

namespace p2c2r::peer {

using namespace std::chrono_literals;

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int minutes_since_local_midnight() {
  const std::time_t t = std::time(nullptr);
  std::tm local{};
  localtime_r(&t, &local);
  return local.tm_hour * 60 + local.tm_min;
}

// CPU busy fraction of the whole machine over the last sample interval, from /proc/stat.
double cpu_busy_fraction() {
  static std::mutex m;
  static uint64_t last_idle = 0, last_total = 0;
  std::lock_guard lock(m);
  FILE* f = std::fopen("/proc/stat", "r");
  if (!f) return 0;
  unsigned long long v[8] = {};
  const int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                            &v[3], &v[4], &v[5], &v[6], &v[7]);
  std::fclose(f);
  if (n < 4) return 0;
  uint64_t total = 0;
  for (auto x : v) total += x;
  const uint64_t idle = v[3] + v[4];
  const double busy =
      total > last_total ? 1.0 - double(idle - last_idle) / double(total - last_total) : 0;
  last_idle = idle;
  last_total = total;
  return busy;
}

// A server answer that no retry can change.
bool refused_for_good(Code code) {
  return code == Code::kAlreadyExists || code == Code::kInvalidArgument ||
         code == Code::kNotFound || code == Code::kPermissionDenied ||
         code == Code::kFailedPrecondition;
}

}  // namespace

WorkLoop::WorkLoop(ServerLink& link, crypto::PublicKey server_key,
                   const kernels::Registry& registry, Journal& journal, BlobCache& cache,
                   WorkLoopOptions options)
    : link_(link),
      server_key_(server_key),
      registry_(registry),
      journal_(journal),
      cache_(cache),
      options_(std::move(options)) {
  status_.state = "starting";
  for (unsigned i = 0; i < std::max(1u, options_.slots); ++i) {
    supervisors_.push_back(std::make_unique<sandbox::Supervisor>(options_.sandbox));
  }
}

WorkLoop::~WorkLoop() { stop(); }

void WorkLoop::start() {
  threads_.emplace_back([this] { flusher_main(); });
  for (size_t i = 0; i < supervisors_.size(); ++i)
    threads_.emplace_back([this, i] { slot_main(i); });
}

void WorkLoop::stop() {
  if (threads_.empty()) return;
  set_state("stopping");
  stopping_ = true;
  wake_.notify_all();
  // Units still running after the grace period are abandoned: killing the
  // executor makes Supervisor::run return, and the slot journals an error.
  // The kill is repeated while a slot is still busy: an executor that was
  // still being spawned at the first kill would otherwise run its unit to the
  // end. A slot stuck elsewhere (a network call) is waited for no more than
  // a second grace period before the join.
  const auto deadline = std::chrono::steady_clock::now() + options_.shutdown_grace;
  for (;;) {
    bool busy;
    {
      std::lock_guard lock(mutex_);
      busy = !status_.running.empty();
    }
    const auto now = std::chrono::steady_clock::now();
    if (!busy || now >= deadline + options_.shutdown_grace) break;
    if (now >= deadline) {
      for (auto& s : supervisors_) {
        if (const pid_t pid = s->executor_pid(); pid > 0) ::kill(pid, SIGKILL);
      }
    }
    std::this_thread::sleep_for(20ms);
  }
  for (auto& t : threads_) t.join();
  threads_.clear();
  flush_journal();  // one last try; what cannot be sent stays journaled
  set_state("stopped");
}

PeerStatus WorkLoop::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

void WorkLoop::set_state(const std::string& state) {
  std::lock_guard lock(mutex_);
  status_.state = state;
}

bool WorkLoop::pause(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, d, [this] { return stopping_.load(); });
  return !stopping_;
}

std::chrono::milliseconds WorkLoop::next_backoff(std::chrono::milliseconds& current) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  current = std::clamp(current * 2, options_.backoff_min, options_.backoff_max);
  // Full jitter: peers that lost the server at the same moment do not return in step.
  std::uniform_int_distribution<int64_t> jitter(current.count() / 2, current.count());
  return std::chrono::milliseconds(jitter(rng));
}

bool WorkLoop::may_work(std::string* why) const {
  if (stopping_) {
    if (why) *why = "stopping";
    return false;
  }
  return may_take_work(options_.availability, minutes_since_local_midnight(), cpu_busy_fraction(),
                       why);
}

void WorkLoop::slot_main(size_t slot) {
  std::chrono::milliseconds backoff = options_.backoff_min / 2;
  // Handed out with the previous report. Run even when stopping: process()
  // then reports it as not started, so the server reissues it at once.
  std::optional<wire::Assignment> next;
  while (!stopping_ || next) {
    if (next) {
      const wire::Assignment a = std::move(*next);
      next = process(slot, a);
      continue;
    }
    std::string why;
    if (!may_work(&why)) {
      if (stopping_) break;
      set_state("idle: " + why);
      pause(5s);
      continue;
    }
    // A long poll cannot be interrupted, so it never outlasts the shutdown
    // grace: stop() is not held up by an idle slot waiting for work.
    auto assignment = link_.request_work(std::min(options_.poll_wait, options_.shutdown_grace));
    if (!assignment.ok()) {
      {
        std::lock_guard lock(mutex_);
        status_.state = "backing off: " + assignment.status().message();
        status_.last_error = assignment.status().message();
      }
      pause(next_backoff(backoff));
      continue;
    }
    backoff = options_.backoff_min / 2;
    if (!*assignment) {
      set_state("waiting for work");
      continue;
    }
    next = process(slot, **assignment);
  }
}

void WorkLoop::flusher_main() {
  std::chrono::milliseconds backoff = options_.backoff_min / 2;
  while (!stopping_) {
    const size_t pending = flush_journal();
    pause(pending == 0 ? 2000ms : next_backoff(backoff));
    if (pending == 0) backoff = options_.backoff_min / 2;
  }
}

Status WorkLoop::check_manifest(const wire::Assignment& a, const kernels::Kernel** kernel) const {
  auto signature = crypto::Signature::from_hex(a.manifest_signature);
  if (!signature.ok() ||
      !crypto::verify(server_key_, wire::manifest_signing_bytes(a.manifest), *signature)) {
    return permission_denied(
        "the manifest's signature does not verify against the pinned server key");
  }
  auto k = registry_.find(a.manifest.kernel);
  if (!k.ok()) return k.status();
  if ((*k)->version() != a.manifest.kernel_version) {
    return failed_precondition("kernel " + a.manifest.kernel + " v" +
                               std::to_string(a.manifest.kernel_version) +
                               " requested; this peer has v" + std::to_string((*k)->version()));
  }
  // Out-of-range parameters are refused here, before an executor is started
  // for a unit that could never run.
  auto params = (*k)->resolve_params(a.manifest.seed, a.manifest.params);
  if (!params.ok()) return params.status();
  *kernel = *k;
  return Status::Ok();
}

Result<std::vector<Bytes>> WorkLoop::fetch_inputs(const wire::Manifest& m) {
  std::vector<Bytes> inputs;
  for (const auto& hex : m.inputs) {
    P2C2R_ASSIGN_OR_RETURN(Digest digest, Digest::from_hex(hex));
    {
      std::lock_guard lock(mutex_);
      auto cached = cache_.get(digest);
      if (cached.ok()) {
        inputs.push_back(std::move(*cached));
        continue;
      }
    }
    // A network hiccup is not the unit's fault: retry with backoff (a few
    // times, while not stopping) before giving the unit back as an error.
    auto fetched = link_.fetch_blob(digest);
    auto backoff = options_.backoff_min;
    for (int attempt = 0; attempt < 4 && !fetched.ok() &&
                          (fetched.status().code() == Code::kUnavailable ||
                           fetched.status().code() == Code::kDeadlineExceeded);
         ++attempt) {
      if (!pause(next_backoff(backoff))) break;
      fetched = link_.fetch_blob(digest);
    }
    if (!fetched.ok()) return fetched.status();
    Bytes blob = std::move(fetched.value());
    if (digest_of(blob) != digest) {
      return invalid_argument("input blob " + hex + " from the server does not match its digest");
    }
    {
      std::lock_guard lock(mutex_);
      (void)cache_.put(digest, blob);  // a full or failing cache only costs a refetch
    }
    inputs.push_back(std::move(blob));
  }
  return inputs;
}

std::optional<wire::Assignment> WorkLoop::process(size_t slot, const wire::Assignment& a) {
  const std::string label = "replica " + std::to_string(a.replica_id) + ": " + a.manifest.kernel;
  {
    std::lock_guard lock(mutex_);
    status_.state = "working";
    status_.running.push_back(label);
  }
  JournalEntry entry;
  entry.replica_id = a.replica_id;
  entry.kernel = a.manifest.kernel;
  const kernels::Kernel* kernel = nullptr;
  Status refused = check_manifest(a, &kernel);
  Result<std::vector<Bytes>> inputs =
      refused.ok() ? fetch_inputs(a.manifest) : Result<std::vector<Bytes>>(refused);
  if (!inputs.ok()) {
    entry.ok = false;
    entry.error = "refused: " + inputs.status().message();
    std::lock_guard lock(mutex_);
    ++status_.units_refused;
  } else {
    {
      std::lock_guard lock(mutex_);
      in_flight_.insert(a.replica_id);  // before the marker exists, so no flush sends it
    }
    JournalEntry marker = entry;
    marker.ok = false;
    marker.error = "the peer was killed or crashed while running this unit";
    if (const Status s = journal_.put(marker); !s.ok()) {
      std::lock_guard lock(mutex_);
      status_.last_error = "journal: " + s.message();
    }
    sandbox::Unit unit;
    unit.kernel = a.manifest.kernel;
    unit.version = a.manifest.kernel_version;
    unit.seed = a.manifest.seed;
    unit.params = a.manifest.params;
    unit.inputs = std::move(*inputs);
    unit.local_size = options_.local_size;
    const auto left = std::chrono::milliseconds(a.report_by_ms - now_ms());
    unit.deadline = std::clamp(left, std::chrono::milliseconds(1000), options_.max_unit_time);
    const auto start = std::chrono::steady_clock::now();
    // A unit assigned as the peer stops is not started: it could not finish
    // within the grace period, and the error report gets it reissued at once.
    auto outcome = stopping_ ? Result<sandbox::UnitOutcome>(unavailable("stopping"))
                             : supervisors_[slot]->run(unit);
    entry.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (outcome.ok()) {
      entry.output = std::move(outcome->output);
      if (options_.corrupt_outputs && !entry.output.empty())
        entry.output[entry.output.size() / 2] ^= 0x5a;
      entry.digest = digest_of(entry.output);
    } else {
      entry.ok = false;
      entry.error =
          stopping_ ? "the peer shut down before the unit finished" : outcome.status().message();
      // Past a fixed limit of this device (buffer range, texel count,
      // workgroups): this host can never run the unit, which says nothing of
      // its honesty (docs/protocol.md, "unfit"). Memory exhaustion and the
      // sandbox's caps can be passing or caused by earlier units: errors.
      entry.unfit = !stopping_ && outcome.status().code() == Code::kOutOfRange;
    }
    std::lock_guard lock(mutex_);
    status_.sandbox = supervisors_[slot]->protections().to_json().dump();
    ++(entry.ok ? status_.units_done : status_.units_failed);
  }
  if (!entry.ok) {
    std::lock_guard lock(mutex_);
    status_.last_error = label + ": " + entry.error;
  }
  // The report asks for the next unit only if this slot may take one.
  std::optional<wire::Assignment> next;
  finish(std::move(entry), may_work(nullptr) ? &next : nullptr);
  std::lock_guard lock(mutex_);
  std::erase(status_.running, label);
  return next;
}

void WorkLoop::finish(JournalEntry entry, std::optional<wire::Assignment>* next) {
  // Held from the put on: the flusher must not send this entry (a refused
  // unit is not in flight) while this slot is about to send it too.
  std::lock_guard flush(flush_mutex_);
  const Status journaled = journal_.put(entry);
  if (!journaled.ok()) {
    // Without the journal the only copy is in memory: try to deliver now.
    std::lock_guard lock(mutex_);
    status_.last_error = "journal: " + journaled.message();
  }
  {
    std::lock_guard lock(mutex_);
    in_flight_.erase(entry.replica_id);  // the journal now holds the result, not the marker
  }
  // Removed once delivered even if the put failed: what is left is then the
  // stale marker, which must not be sent after the real result.
  if (deliver(entry, next).ok()) (void)journal_.remove(entry.replica_id);
}

Status WorkLoop::deliver(const JournalEntry& entry, std::optional<wire::Assignment>* next) {
  if (entry.awaiting_upload) return upload(entry);
  wire::Report report;
  report.replica_id = entry.replica_id;
  report.ok = entry.ok;
  if (entry.digest) report.digest = entry.digest->hex();
  report.error = entry.error;
  report.unfit = entry.unfit;
  report.seconds = entry.seconds;
  report.want_work = next != nullptr;
  auto reply = link_.report(report);
  if (!reply.ok()) {
    const Code code = reply.status().code();
    // Already reported, but the reply (and whether it asked for the output)
    // was lost to a timeout or a crash: upload anyway; the server ignores an
    // output it already holds, and refuses one for a replica not reported.
    if (code == Code::kAlreadyExists && entry.ok && !entry.output.empty())
      return upload_or_keep(entry);
    // A report the server will never take (its replica was reassigned).
    return refused_for_good(code) ? Status::Ok() : reply.status();
  }
  // Taken before the upload: the server assigned it, whatever happens next.
  if (next) *next = std::move(reply->work);
  if (!reply->want_output || !entry.ok) return Status::Ok();
  return upload_or_keep(entry);
}

Status WorkLoop::upload_or_keep(const JournalEntry& entry) {
  const Status uploaded = upload(entry);
  if (!uploaded.ok()) {
    // The report stands; from now on only the upload is retried.
    JournalEntry retry = entry;
    retry.awaiting_upload = true;
    if (const Status s = journal_.put(retry); !s.ok()) {
      std::lock_guard lock(mutex_);
      status_.last_error = "journal: " + s.message();
    }
  }
  return uploaded;
}

Status WorkLoop::upload(const JournalEntry& entry) {
  const Status s = link_.upload_output(entry.replica_id, entry.output);
  // Refused for good (the replica was reassigned, the output is not what was
  // reported, or it is over the server's body limit): retrying cannot help.
  if (s.ok() || refused_for_good(s.code()) || s.code() == Code::kResourceExhausted)
    return Status::Ok();
  return s;
}

size_t WorkLoop::flush_journal() {
  std::lock_guard flush(flush_mutex_);
  std::vector<std::string> problems;
  size_t pending = 0;
  for (const auto& entry : journal_.entries(&problems)) {
    {
      std::lock_guard lock(mutex_);
      if (in_flight_.count(entry.replica_id)) continue;
    }
    const Status s = deliver(entry);
    if (s.ok()) {
      (void)journal_.remove(entry.replica_id);
    } else {
      ++pending;
      std::lock_guard lock(mutex_);
      status_.last_error =
          "reporting replica " + std::to_string(entry.replica_id) + ": " + s.message();
    }
  }
  std::lock_guard lock(mutex_);
  if (!problems.empty()) status_.last_error = "journal: " + problems.front();
  status_.reports_pending = pending;
  return pending;
}

}  // namespace p2c2r::peer
