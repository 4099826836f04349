// Credit: what each host has earned and each submitter has consumed. Pure:
// a ledger value the server persists (entries() out, restore() in); no I/O.
//
// Promises:
//   - Credit is measured in the kernel's cost model, integer operations per
//     unit (Kernel::cost), so totals are exact; cobblestones() converts to
//     BOINC's unit for display.
//   - Only valid results earn credit. A result checked valid (by a quorum,
//     the server or a ringer) is granted at once. A trusted host's unverified
//     single-replica result is pending until that host next passes a check
//     (release_pending); a host caught lying loses all its pending credit
//     (revoke_pending), and any single result found wrong later loses its
//     credit, granted or pending (revoke).
//   - Each result is credited at most once: a second credit for the same
//     result id is refused (duplicate reports pay nothing).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "common/result.h"

namespace p2c2r::validator {

// BOINC's cobblestone: 1/200 of a day of a 1 GFLOPS machine, 4.32e11 operations.
double cobblestones(uint64_t operations);

enum class CreditState { kPending, kGranted, kRevoked };

struct CreditEntry {
  uint64_t result_id = 0;
  uint64_t host_id = 0;
  uint64_t submitter_id = 0;
  uint64_t amount = 0;  // operations, from Kernel::cost
  CreditState state = CreditState::kPending;
};

struct CreditTotals {
  uint64_t granted = 0;
  uint64_t pending = 0;
  uint64_t revoked = 0;
};

class CreditLedger {
 public:
  // A checked valid result: granted now.
  Status grant(uint64_t result_id, uint64_t host_id, uint64_t submitter_id, uint64_t amount);
  // An unverified single-replica result: pending until release_pending.
  Status add_pending(uint64_t result_id, uint64_t host_id, uint64_t submitter_id, uint64_t amount);
  // The host passed a check: its pending credit becomes granted. Returns the amount.
  uint64_t release_pending(uint64_t host_id);
  // The host was caught lying: its pending credit is revoked. Returns the result ids.
  std::vector<uint64_t> revoke_pending(uint64_t host_id);
  // One result turned out wrong: its credit, pending or granted, is revoked.
  // Not found for a result never credited.
  Status revoke(uint64_t result_id);

  CreditTotals host(uint64_t host_id) const;
  // What a submitter's work has paid out (granted) and may still pay (pending).
  CreditTotals submitter(uint64_t submitter_id) const;

  std::vector<CreditEntry> entries() const;
  // Rebuilds a ledger from persisted entries; refuses duplicated result ids.
  static Result<CreditLedger> restore(const std::vector<CreditEntry>& entries);

 private:
  Status add(CreditEntry entry);
  void move(CreditEntry& entry, CreditState to);
  std::vector<uint64_t> settle_pending(uint64_t host_id, CreditState to);

  std::map<uint64_t, CreditEntry> by_result_;
  std::map<uint64_t, CreditTotals> hosts_, submitters_;
  std::map<uint64_t, std::vector<uint64_t>> pending_by_host_;  // result ids, possibly settled
};

}  // namespace p2c2r::validator
