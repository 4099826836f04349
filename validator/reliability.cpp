#include "validator/reliability.h"

#include <algorithm>

namespace p2c2r::validator {

namespace {

bool is_probability(double p) { return p >= 0.0 && p <= 1.0; }  // false for NaN

}  // namespace

Status check_config(const ReliabilityConfig& c) {
  if (c.trust_after_consecutive_valid < 1)
    return invalid_argument("trust_after_consecutive_valid must be at least 1");
  if (!(c.error_rate_alpha > 0.0 && c.error_rate_alpha <= 1.0))
    return invalid_argument("error_rate_alpha must be in (0, 1]");
  const std::pair<const char*, double> probabilities[] = {
      {"initial_error_rate", c.initial_error_rate},
      {"quarantine_error_rate", c.quarantine_error_rate},
      {"spot_check_floor", c.spot_check_floor},
      {"server_check_fraction", c.server_check_fraction},
      {"ringer_fraction", c.ringer_fraction}};
  for (const auto& [name, p] : probabilities) {
    if (!is_probability(p)) return invalid_argument(std::string(name) + " must be in [0, 1]");
  }
  if (c.initial_error_rate > c.quarantine_error_rate)
    return invalid_argument("initial_error_rate must not exceed quarantine_error_rate");
  if (c.probation_valid_results < 1)
    return invalid_argument("probation_valid_results must be at least 1");
  return Status::Ok();
}

const char* standing_name(Standing standing) {
  switch (standing) {
    case Standing::kUntrusted: return "untrusted";
    case Standing::kTrusted: return "trusted";
    case Standing::kProbation: return "probation";
    case Standing::kQuarantined: return "quarantined";
  }
  return "unknown";
}

HostReliability new_host_reliability(const ReliabilityConfig& config) {
  HostReliability r;
  r.error_rate = config.initial_error_rate;
  return r;
}

HostReliability record_verdict(const ReliabilityConfig& config, HostReliability r,
                               Verdict verdict, bool checked) {
  switch (verdict) {
    case Verdict::kValid: ++r.valid; break;
    case Verdict::kInvalid: ++r.invalid; break;
    case Verdict::kError: ++r.errors; break;
    case Verdict::kTimedOut: ++r.timeouts; break;
  }
  const bool bad = verdict != Verdict::kValid;
  r.error_rate = (1.0 - config.error_rate_alpha) * r.error_rate + (bad ? config.error_rate_alpha : 0.0);
  r.consecutive_valid = bad ? 0 : r.consecutive_valid + 1;

  if (r.quarantined) {
    if (!bad) {
      if (checked && ++r.probation_valid >= config.probation_valid_results &&
          standing_of(config, r) == Standing::kProbation) {
        r.quarantined = false;
        r.probation_valid = 0;
        r.error_rate = config.initial_error_rate;
        r.consecutive_valid = 0;  // released, not trusted: trust is earned on real work
      }
    } else {
      // Any bad result fails the probation: it starts again, and counts as
      // another quarantine towards max_probations.
      r.probation_valid = 0;
      ++r.quarantines;
    }
    return r;
  }
  if (r.results() >= config.quarantine_min_results && r.error_rate > config.quarantine_error_rate) {
    r.quarantined = true;
    ++r.quarantines;
    r.probation_valid = 0;
  }
  return r;
}

HostReliability clear_quarantine(const ReliabilityConfig& config, HostReliability r) {
  r.quarantined = false;
  r.probation_valid = 0;
  r.error_rate = config.initial_error_rate;
  r.consecutive_valid = 0;
  return r;
}

Standing standing_of(const ReliabilityConfig& config, const HostReliability& r) {
  if (r.quarantined) {
    return config.probation_enabled && r.quarantines <= config.max_probations
               ? Standing::kProbation
               : Standing::kQuarantined;
  }
  return r.consecutive_valid >= config.trust_after_consecutive_valid ? Standing::kTrusted
                                                                     : Standing::kUntrusted;
}

double spot_check_probability(const ReliabilityConfig& config, const HostReliability& r,
                              double error_rate) {
  if (standing_of(config, r) != Standing::kTrusted) return 1.0;
  const double n = static_cast<double>(r.consecutive_valid);
  return std::min(1.0, config.spot_check_floor + 1.0 / n + std::max(0.0, error_rate));
}

double uniform01(Rng& rng) { return static_cast<double>(rng.next() >> 11) * 0x1.0p-53; }

void ReliabilityBook::record(uint64_t host_id, const std::string& family_name, Verdict verdict,
                             bool checked) {
  hosts_[host_id] = record_verdict(config_, host(host_id), verdict, checked);
  families_[{host_id, family_name}] =
      record_verdict(config_, family(host_id, family_name), verdict, checked);
}

HostReliability ReliabilityBook::host(uint64_t host_id) const {
  auto it = hosts_.find(host_id);
  return it == hosts_.end() ? new_host_reliability(config_) : it->second;
}

HostReliability ReliabilityBook::family(uint64_t host_id, const std::string& family_name) const {
  auto it = families_.find({host_id, family_name});
  return it == families_.end() ? new_host_reliability(config_) : it->second;
}

HostStanding ReliabilityBook::standing(uint64_t host_id, const std::string& family_name) const {
  const HostReliability overall = host(host_id);
  const HostReliability fam = family(host_id, family_name);
  const Standing a = standing_of(config_, overall);
  const Standing b = standing_of(config_, fam);
  HostStanding s;
  // Quarantine beats probation beats everything else.
  if (a == Standing::kQuarantined || b == Standing::kQuarantined) s.standing = Standing::kQuarantined;
  else if (a == Standing::kProbation || b == Standing::kProbation) s.standing = Standing::kProbation;
  else s.standing = b;
  s.spot_check_probability = s.standing == Standing::kTrusted
                                 ? spot_check_probability(config_, fam,
                                                          std::max(overall.error_rate, fam.error_rate))
                                 : 1.0;
  return s;
}

void ReliabilityBook::clear_quarantine(uint64_t host_id) {
  hosts_[host_id] = validator::clear_quarantine(config_, host(host_id));
  for (auto& [key, record] : families_) {
    if (key.first == host_id) record = validator::clear_quarantine(config_, record);
  }
}

}  // namespace p2c2r::validator
