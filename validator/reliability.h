// Host reliability: what the validator has learned about each host, per host
// and per kernel family, and the standing that follows from it (untrusted,
// trusted, on probation, quarantined). Pure policy: the caller passes every
// verdict in and persists the records; no clocks, no I/O.
//
// Promises (thresholds in ReliabilityConfig, justified in docs/validator.md):
//   - A host is trusted for a family after `trust_after_consecutive_valid`
//     valid results in a row there (BOINC's 10), and not quarantined.
//   - Any invalid result, error or timeout ends the run of valid results, so
//     trust is lost at once.
//   - error_rate is an exponentially decayed rate of bad results (invalid,
//     error, timeout): e <- (1 - alpha) e + alpha [bad]. Above
//     `quarantine_error_rate` (after `quarantine_min_results` results) the
//     record is quarantined: no work, except checked units (ringers) while
//     on probation; `probation_valid_results` checked valid results in a row
//     release it; any bad result fails the probation. After `max_probations` quarantines, or with probation
//     disabled, only an operator (clear_quarantine) releases it.
//   - A trusted host's single-replica unit is spot-checked with probability
//       p = min(1, spot_check_floor + 1/n + e)
//     n = consecutive valid results, e = error_rate (the worse of the host's
//     and the family's). p >= 1/n, BOINC's adaptive-replication rate, plus a
//     floor that never decays, plus the host's recent error rate.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "common/result.h"
#include "common/rng.h"

namespace p2c2r::validator {

struct ReliabilityConfig {
  uint32_t trust_after_consecutive_valid = 10;
  double error_rate_alpha = 0.1;    // weight of the newest result in error_rate
  double initial_error_rate = 0.1;  // a new host is not presumed perfect
  double quarantine_error_rate = 0.3;
  uint32_t quarantine_min_results = 5;
  bool probation_enabled = true;
  uint32_t probation_valid_results = 10;
  uint32_t max_probations = 3;
  double spot_check_floor = 0.03;
  double server_check_fraction = 0.1;  // of spot checks, the share run by the server itself
  double ringer_fraction = 0.01;       // of dispatches to hosts in good standing
  uint32_t max_recheck_results = 1000; // per caught host; older ones are invalidated outright
};

// Every probability in [0, 1], alpha in (0, 1], counts >= 1 where a zero
// would make no sense; otherwise an invalid argument naming the field.
Status check_config(const ReliabilityConfig& config);

enum class Verdict { kValid, kInvalid, kError, kTimedOut };

struct HostReliability {
  uint64_t valid = 0, invalid = 0, errors = 0, timeouts = 0;
  uint64_t consecutive_valid = 0;
  double error_rate = 0.1;  // use new_host_reliability() for the configured start
  bool quarantined = false;
  uint32_t quarantines = 0;      // times this record entered quarantine
  uint32_t probation_valid = 0;  // checked valid results in a row while quarantined

  uint64_t results() const { return valid + invalid + errors + timeouts; }
};

enum class Standing {
  kUntrusted,    // every unit replicated to min_quorum
  kTrusted,      // may get single-replica units, spot-checked
  kProbation,    // quarantined; only checked units (ringers) until released
  kQuarantined,  // no work until an operator clears it
};

const char* standing_name(Standing standing);

HostReliability new_host_reliability(const ReliabilityConfig& config);

// Folds one verdict in. `checked` says the verdict was reached by a check
// (quorum, the server's re-execution, a ringer) rather than by accepting a
// trusted host's single replica on its word; only checked results count
// towards probation.
HostReliability record_verdict(const ReliabilityConfig& config, HostReliability record,
                               Verdict verdict, bool checked);

// An operator's decision: out of quarantine, error rate back to its start,
// trust to be earned again.
HostReliability clear_quarantine(const ReliabilityConfig& config, HostReliability record);

Standing standing_of(const ReliabilityConfig& config, const HostReliability& record);

// p above for a trusted record with `error_rate` the one to use; 1 otherwise.
double spot_check_probability(const ReliabilityConfig& config, const HostReliability& record,
                              double error_rate);

// A uniform draw in [0, 1) with 53 random bits.
double uniform01(Rng& rng);

// What the scheduler needs to know about a host for a unit of one family.
struct HostStanding {
  Standing standing = Standing::kUntrusted;
  double spot_check_probability = 1.0;
};

// The records of every host, overall and per kernel family. A host's
// standing for a family is the worse of its overall and its family standing;
// trust comes from the family record alone (a host trusted for ray tracing
// has proved nothing about physics).
class ReliabilityBook {
 public:
  explicit ReliabilityBook(ReliabilityConfig config) : config_(config) {}

  const ReliabilityConfig& config() const { return config_; }
  void record(uint64_t host, const std::string& family, Verdict verdict, bool checked);
  // A fresh record for a host or family never seen.
  HostReliability host(uint64_t host) const;
  HostReliability family(uint64_t host, const std::string& family) const;
  HostStanding standing(uint64_t host, const std::string& family) const;
  // Clears the host's overall record and every family record.
  void clear_quarantine(uint64_t host);
  // Restores persisted records.
  void load_host(uint64_t host, const HostReliability& record) { hosts_[host] = record; }
  void load_family(uint64_t host, const std::string& family, const HostReliability& record) {
    families_[{host, family}] = record;
  }
  const std::map<uint64_t, HostReliability>& hosts() const { return hosts_; }
  const std::map<std::pair<uint64_t, std::string>, HostReliability>& families() const {
    return families_;
  }

 private:
  ReliabilityConfig config_;
  std::map<uint64_t, HostReliability> hosts_;
  std::map<std::pair<uint64_t, std::string>, HostReliability> families_;
};

}  // namespace p2c2r::validator
