// Peer-facing operations: authentication, registration, dispatch, reports,
// outputs, timeouts, and the one place where quorum decisions are applied
// (settle_unit).
#include "server/coordinator.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "server/trusted_runner.h"

namespace p2c2r::server {

using wire::Json;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int http_status_for(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
      return 400;
    case Code::kNotFound:
      return 404;
    case Code::kAlreadyExists:
      return 409;
    case Code::kPermissionDenied:
      return 403;
    case Code::kFailedPrecondition:
      return 409;
    case Code::kUnavailable:
      return 503;
    case Code::kDeadlineExceeded:
      return 408;
    case Code::kResourceExhausted:
      return 413;
    case Code::kOutOfRange:
      return 400;
    case Code::kInternal:
      return 500;
  }
  return 500;
}

Reply error_reply(const Status& status) {
  return {http_status_for(status.code()), "application/json",
          wire::serialize(wire::Error{status.message(), code_name(status.code())})};
}

namespace {
Reply json_reply(int status, std::string body) {
  return {status, "application/json", std::move(body)};
}

// Replies once the mutations are durable; a failed commit becomes a 500.
GroupCommit::Done reply_after_commit(Respond respond, Reply reply) {
  return [respond = std::move(respond), reply = std::move(reply)](const Status& s) mutable {
    respond(s.ok() ? std::move(reply) : error_reply(s.with_context("store")));
  };
}

}  // namespace

Coordinator::Coordinator(CoordinatorOptions options, GroupCommit& commit, BlobStore& blobs)
    : options_(options),
      commit_(commit),
      blobs_(blobs),
      book_(options.reliability),
      rng_(options.seed ? options.seed : (uint64_t{std::random_device{}()} << 32) ^ now_ms()),
      ringer_rng_(0) {
  // Its own stream, derived from the seed without drawing from rng_.
  ringer_rng_ = Rng((options.seed ? options.seed : rng_.next() ^ rng_.next()) ^ 0x72696e676572ULL);
  server_public_hex_ = options_.server_key->public_key().hex();
  if (Status s = validator::check_config(options.reliability); !s.ok())
    throw std::invalid_argument("reliability configuration: " + s.message());
  if (options_.trusted_device)
    trusted_ =
        std::make_unique<TrustedRunner>(*options_.trusted_device, *options_.registry, blobs_);
}

Coordinator::~Coordinator() { stop(); }

void Coordinator::start() {
  timer_ = std::thread([this] { timer_loop(); });
}

void Coordinator::stop() {
  if (trusted_) trusted_->stop();  // before taking mu_: a finishing run takes it to report
  std::deque<Waiter> waiters;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    waiters.swap(waiters_);
  }
  timer_cv_.notify_all();
  for (auto& w : waiters)
    commit_.submit({w.nonce},
                   reply_after_commit(std::move(w.respond), {204, "application/json", ""}));
  if (timer_.joinable()) timer_.join();
}

// Wakes the timer thread only when it would otherwise sleep past `when_ms`
// (a wake-up per dispatch would cost a context switch per request).
void Coordinator::wake_timer_by(int64_t when_ms) {
  if (when_ms < timer_wake_ms_) {
    timer_wake_ms_ = when_ms;
    timer_cv_.notify_one();
  }
}

void Coordinator::timer_loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    int64_t next = now_ms() + 1000;
    if (auto d = deadlines_.next()) next = std::min(next, *d + 1);
    for (const auto& w : waiters_) next = std::min(next, w.until_ms);
    timer_wake_ms_ = next;
    timer_cv_.wait_until(lock,
                         std::chrono::system_clock::time_point(std::chrono::milliseconds(next)));
    if (stopping_) break;
    lock.unlock();
    expire(now_ms());
    lock.lock();
  }
}

Result<Coordinator::Auth> Coordinator::authenticate(
    const std::string& method, const std::string& target, const std::string& host,
    const std::string& timestamp, const std::string& nonce, const std::string& signature,
    ByteView body, const std::string* registering_key) {
  if (host.empty() || timestamp.empty() || nonce.empty() || signature.empty())
    return permission_denied(std::string("missing signature headers (") + crypto::kHostHeader +
                             ", " + crypto::kTimestampHeader + ", " + crypto::kNonceHeader + ", " +
                             crypto::kSignatureHeader + ")");
  Auth auth;
  try {
    size_t used = 0;
    auth.host_id = std::stoull(host, &used);
    if (used != host.size()) throw std::invalid_argument(host);
    auth.nonce.timestamp_ms = std::stoll(timestamp, &used);
    if (used != timestamp.size()) throw std::invalid_argument(timestamp);
  } catch (const std::exception&) {
    return permission_denied("malformed host id or timestamp header");
  }
  if (nonce.size() < 16 || nonce.size() > 64)
    return permission_denied("nonce must be 16 to 64 characters");
  auth.nonce.host_id = auth.host_id;
  auth.nonce.nonce = nonce;
  const int64_t now = now_ms();
  if (std::llabs(auth.nonce.timestamp_ms - now) > options_.clock_skew_ms)
    return permission_denied("stale timestamp: request signed at " + timestamp +
                             ", server time is " + std::to_string(now) + " (allowed skew " +
                             std::to_string(options_.clock_skew_ms) + " ms)");
  P2C2R_ASSIGN_OR_RETURN(auto sig, crypto::Signature::from_hex(signature));
  crypto::PublicKey key;
  if (auth.host_id == 0) {
    if (!registering_key) return permission_denied("host id 0 may only register");
    P2C2R_ASSIGN_OR_RETURN(key, crypto::PublicKey::from_hex(*registering_key));
  } else {
    std::lock_guard lock(mu_);
    auto it = hosts_.find(auth.host_id);
    if (it == hosts_.end()) return permission_denied("unknown host " + host + "; register first");
    key = it->second.key;
  }
  const auto text = crypto::request_signing_string(method, target, auth.nonce.timestamp_ms, nonce,
                                                   digest_of(body));
  if (!crypto::verify(key, text, sig)) return permission_denied("bad signature");
  std::lock_guard lock(mu_);
  const std::string k = host + ":" + nonce;
  if (!nonces_.insert(k).second) return permission_denied("replayed nonce " + nonce);
  nonce_order_.push_back({auth.nonce.timestamp_ms, k});
  return auth;
}

void Coordinator::register_host(const wire::RegisterHost& req, const Auth& auth, Respond respond) {
  if (req.name.size() > 256)
    return respond(error_reply(invalid_argument("name: longer than 256 characters")));
  if (req.device.kernels.size() > 1024)
    return respond(error_reply(invalid_argument("device.kernels: too many")));
  std::lock_guard lock(mu_);
  std::vector<Mutation> ops{auth.nonce};
  const int64_t now = now_ms();
  uint64_t id;
  if (auto it = host_by_key_.find(req.public_key); it != host_by_key_.end()) {
    id = it->second;  // re-registration (new benchmark, new driver): same id
  } else {
    id = next_host_++;
    host_by_key_[req.public_key] = id;
    hosts_[id].row.registered_ms = now;
  }
  Host& h = hosts_[id];
  h.row.id = id;
  h.row.public_key = req.public_key;
  h.row.name = req.name;
  h.row.caps_json = wire::serialize(req.device);
  h.row.last_seen_ms = now;
  h.key = crypto::PublicKey::from_hex(req.public_key).value();
  h.caps = req.device;
  // Shapes it reported unfit stay excluded across its re-registrations, as
  // they do across a server restart (rebuilt from the replica rows).
  auto unfit = std::move(h.view.unfit_shapes);
  h.view = scheduler::HostView::from_caps(id, req.device);
  h.view.unfit_shapes = std::move(unfit);
  ops.push_back(h.row);
  commit_.submit(std::move(ops),
                 reply_after_commit(
                     std::move(respond),
                     json_reply(200, wire::serialize(wire::Registered{id, server_public_hex_}))));
  wake_waiters(now);
}

std::string Coordinator::assign(Host& h, const scheduler::ReadyUnit& picked, int64_t now,
                                std::vector<Mutation>& ops) {
  Unit& u = units_.at(picked.unit_id);
  sign_manifest(u);
  const bool first = std::none_of(u.replicas.begin(), u.replicas.end(), [&](uint64_t id) {
    const ReplicaRow& o = replicas_.at(id);
    return (o.state == "in_progress" || o.state == "reported") && o.validity != "revoked";
  });
  ReplicaRow r = sent_replica(u.row.id, h.row.id, now, u.row.delay_bound_ms);
  replicas_[r.id] = r;
  u.replicas.push_back(r.id);
  h.active.insert(r.id);
  deadlines_.add(r.id, r.report_by_ms);
  metrics_.dispatched(static_cast<double>(now - u.row.ready_ms));
  ops.push_back(r);
  if (first && !u.full_quorum) decide_replication(u, h);
  if (!ready_.contains(u.row.id)) set_unit_state(u, "running", ops);
  wake_timer_by(r.report_by_ms + 1);
  return assignment_body(r, u.manifest_json, u.manifest_signature);
}

std::string Coordinator::assignment_body(const ReplicaRow& r, const std::string& manifest_json,
                                         const std::string& signature) {
  std::string body;
  body.reserve(manifest_json.size() + 256);
  body += "{\"replica_id\":" + std::to_string(r.id) +
          ",\"report_by_ms\":" + std::to_string(r.report_by_ms) + ",\"manifest\":" + manifest_json +
          ",\"manifest_signature\":\"" + signature + "\"}";
  return body;
}

void Coordinator::request_work(const Auth& auth, const wire::WorkRequest& req, Respond respond) {
  std::lock_guard lock(mu_);
  const int64_t now = now_ms();
  Host& h = hosts_.at(auth.host_id);
  h.row.last_seen_ms = now;
  std::vector<Mutation> ops{auth.nonce};
  Dispatch d = dispatch(h, now, ops);
  if (d.refused) return respond(std::move(*d.refused));
  if (d.body) {
    commit_.submit(std::move(ops),
                   reply_after_commit(std::move(respond), json_reply(200, std::move(*d.body))));
    return;
  }
  const uint32_t wait = std::min(req.wait_ms, options_.max_wait_ms);
  if (wait == 0 || stopping_) {
    commit_.submit(std::move(ops),
                   reply_after_commit(std::move(respond), {204, "application/json", ""}));
    return;
  }
  waiters_.push_back({auth.host_id, now + wait, std::move(respond), auth.nonce});
  wake_timer_by(now + wait);
}

void Coordinator::wake_waiters(int64_t now) {
  if (waiters_.empty() || ready_.size() == 0) return;
  for (auto it = waiters_.begin(); it != waiters_.end() && ready_.size() > 0;) {
    Host& h = hosts_.at(it->host_id);
    std::vector<Mutation> ops{it->nonce};
    Dispatch d = dispatch(h, now, ops);
    if (d.refused) {
      commit_.submit({it->nonce},
                     reply_after_commit(std::move(it->respond), std::move(*d.refused)));
    } else if (d.body) {
      commit_.submit(std::move(ops), reply_after_commit(std::move(it->respond),
                                                        json_reply(200, std::move(*d.body))));
    } else {
      ++it;
      continue;
    }
    it = waiters_.erase(it);
  }
}

void Coordinator::report(const Auth& auth, const wire::Report& rep, Respond respond) {
  std::optional<Digest> digest;
  if (rep.ok) {
    auto d = Digest::from_hex(*rep.digest);
    if (!d.ok()) return respond(error_reply(d.status().with_context("digest")));
    digest = *d;
  }
  if (rep.error.size() > 4096)
    return respond(error_reply(invalid_argument("error: longer than 4096 characters")));
  std::lock_guard lock(mu_);
  auto it = replicas_.find(rep.replica_id);
  if (it == replicas_.end() || it->second.host_id != auth.host_id)
    return respond(
        error_reply(permission_denied("replica " + std::to_string(rep.replica_id) +
                                      " was not sent to host " + std::to_string(auth.host_id))));
  ReplicaRow& r = it->second;
  if (r.state == "reported" || r.state == "error" || r.state == "unfit")
    return respond(
        error_reply(already_exists("replica " + std::to_string(r.id) + " was already reported")));
  if (r.state != "in_progress")
    return respond(
        error_reply(failed_precondition("replica " + std::to_string(r.id) + " is " + r.state +
                                        "; its report is no longer accepted")));
  const int64_t now = now_ms();
  std::vector<Mutation> ops{auth.nonce};
  Unit& u = units_.at(r.unit_id);
  Host& h = hosts_.at(auth.host_id);
  h.row.last_seen_ms = now;
  r.reported_ms = now;
  if (rep.ok) {
    r.digest = digest->hex();
  } else if (rep.unfit) {
    // Too big for this host's device or sandbox: no verdict, no error count.
    // The unit goes to another host (never twice to this one), and so do
    // later units of the same shape; a ringer stays unjudged and the host
    // gets another.
    r.error = rep.error;
    h.view.unfit_shapes.insert(u.shape);
  } else {
    r.error = rep.error;
    ++h.row.error_results;
    ops.push_back(h.row);
    record(h.row.id, u, validator::Verdict::kError, true);
  }
  end_replica(r.id, rep.ok ? "reported" : rep.unfit ? "unfit" : "error", ops);
  metrics_.result_reported(now);
  if (r.ringer())
    judge_ringer(r, u, now, ops);  // against the known answer; the unit itself is settled
  else
    settle_unit(u, now, ops);
  // Asked for exactly as for a real unit (a ringer must look like one).
  const bool want = rep.ok && !stored_blobs_.count(r.digest);
  // The next unit in the same commit and reply (the assignment JSON as
  // assign() builds it, spliced in rather than parsed and re-serialized). A
  // refused host gets none here; its next POST /v1/work says why.
  std::optional<std::string> next;
  if (rep.want_work) next = dispatch(h, now, ops).body;
  std::string body = next ? std::string("{\"want_output\":") + (want ? "true" : "false") +
                                ",\"work\":" + *next + "}"
                          : wire::serialize(wire::ReportReply{want, std::nullopt});
  commit_.submit(std::move(ops),
                 reply_after_commit(std::move(respond), json_reply(200, std::move(body))));
  wake_waiters(now);
}

void Coordinator::end_replica(uint64_t replica_id, const std::string& state,
                              std::vector<Mutation>& ops) {
  ReplicaRow& r = replicas_.at(replica_id);
  r.state = state;
  deadlines_.remove(replica_id);
  if (auto h = hosts_.find(r.host_id); h != hosts_.end()) h->second.active.erase(replica_id);
  const Unit& u = units_.at(r.unit_id);
  // A ringer never counted towards its submitter's fair share.
  if (!r.ringer()) ready_.replica_ended(workloads_.at(u.row.workload_id).row.submitter);
  ops.push_back(r);
}

void Coordinator::output_available(Unit& u, int64_t now, std::vector<Mutation>& ops) {
  for (uint64_t dep_id : u.dependants) {
    Unit& d = units_.at(dep_id);
    if (d.deps_pending > 0 && --d.deps_pending == 0 && d.row.state == "waiting")
      make_ready(d, now, ops);
  }
}

void Coordinator::upload_output(const Auth& auth, uint64_t replica_id, ByteView body,
                                Respond respond) {
  std::string expected;
  {
    std::lock_guard lock(mu_);
    auto it = replicas_.find(replica_id);
    if (it == replicas_.end() || it->second.host_id != auth.host_id)
      return respond(
          error_reply(permission_denied("replica " + std::to_string(replica_id) +
                                        " was not sent to host " + std::to_string(auth.host_id))));
    if (it->second.state != "reported")
      return respond(
          error_reply(failed_precondition("report replica " + std::to_string(replica_id) +
                                          "'s digest before uploading its output")));
    expected = it->second.digest;
  }
  const Digest got = digest_of(body);
  if (got.hex() != expected)
    return respond(error_reply(invalid_argument(
        "output digest " + got.hex() + " does not match the reported digest " + expected)));
  {
    std::lock_guard lock(mu_);
    if (stored_blobs_.count(expected)) {
      std::vector<Mutation> ops{auth.nonce};
      commit_.submit(std::move(ops), reply_after_commit(std::move(respond),
                                                        json_reply(200, R"({"stored":false})")));
      return;
    }
  }
  // Written outside the lock; concurrent uploads of one digest write the same bytes.
  if (Status s = blobs_.put(got, body); !s.ok()) return respond(error_reply(s));
  std::lock_guard lock(mu_);
  const int64_t now = now_ms();
  std::vector<Mutation> ops{auth.nonce};
  blob_stored(expected, body.size(), now, ops);
  commit_.submit(std::move(ops),
                 reply_after_commit(std::move(respond), json_reply(200, R"({"stored":true})")));
  wake_waiters(now);
}

void Coordinator::fetch_blob(uint64_t host_id, const std::string& hex, const NonceRow* nonce,
                             Respond respond) {
  auto d = Digest::from_hex(hex);
  if (!d.ok()) return respond(error_reply(d.status()));
  {
    std::lock_guard lock(mu_);
    if (!stored_blobs_.count(hex))
      return respond(error_reply(not_found("blob " + hex + " is not stored")));
    if (host_id != 0) {
      bool allowed = false;
      for (uint64_t rid : hosts_.at(host_id).active) {
        const Unit& u = units_.at(replicas_.at(rid).unit_id);
        const auto in = inputs_of(u);
        allowed = std::find(in.begin(), in.end(), hex) != in.end();
        if (allowed) break;
      }
      if (!allowed)
        return respond(error_reply(
            permission_denied("blob " + hex + " is not an input of any replica sent to host " +
                              std::to_string(host_id))));
    }
    if (nonce) commit_.submit({*nonce}, nullptr);
  }
  auto data = blobs_.get(hex);
  if (!data.ok()) return respond(error_reply(data.status()));
  respond({200, "application/octet-stream", std::string(data->begin(), data->end())});
}

void Coordinator::expire(int64_t now) {
  std::lock_guard lock(mu_);
  std::vector<Mutation> ops;
  for (uint64_t id : deadlines_.pop_expired(now)) {
    auto it = replicas_.find(id);
    if (it == replicas_.end() || it->second.state != "in_progress") continue;
    deadlines_.add(id, 0);  // end_replica removes it again
    end_replica(id, "timed_out", ops);
    record(it->second.host_id, units_.at(it->second.unit_id), validator::Verdict::kTimedOut, true);
    if (!it->second.ringer()) settle_unit(units_.at(it->second.unit_id), now, ops);
  }
  recover_overdue_outputs(now);
  while (!waiters_.empty()) {
    auto it =
        std::min_element(waiters_.begin(), waiters_.end(),
                         [](const Waiter& a, const Waiter& b) { return a.until_ms < b.until_ms; });
    if (it->until_ms > now) break;
    commit_.submit({it->nonce},
                   reply_after_commit(std::move(it->respond), {204, "application/json", ""}));
    waiters_.erase(it);
  }
  // Nonces older than the skew window are refused as stale; forget them.
  const int64_t horizon = now - options_.clock_skew_ms - 1000;
  bool pruned = false;
  while (!nonce_order_.empty() && nonce_order_.front().first < horizon) {
    nonces_.erase(nonce_order_.front().second);
    nonce_order_.pop_front();
    pruned = true;
  }
  if (pruned) ops.push_back(PruneNonces{horizon});
  if (!ops.empty()) commit_.submit(std::move(ops), nullptr);
  wake_waiters(now);
}

}  // namespace p2c2r::server
