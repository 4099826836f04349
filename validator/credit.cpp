#include "validator/credit.h"

#include <string>

namespace p2c2r::validator {

namespace {

uint64_t& bucket(CreditTotals& t, CreditState s) {
  switch (s) {
    case CreditState::kPending: return t.pending;
    case CreditState::kGranted: return t.granted;
    case CreditState::kRevoked: break;
  }
  return t.revoked;
}

}  // namespace

double cobblestones(uint64_t operations) { return static_cast<double>(operations) / 4.32e11; }

Status CreditLedger::add(CreditEntry e) {
  if (by_result_.count(e.result_id))
    return already_exists("result " + std::to_string(e.result_id) + " already has credit");
  bucket(hosts_[e.host_id], e.state) += e.amount;
  bucket(submitters_[e.submitter_id], e.state) += e.amount;
  if (e.state == CreditState::kPending) pending_by_host_[e.host_id].push_back(e.result_id);
  by_result_.emplace(e.result_id, e);
  return Status::Ok();
}

void CreditLedger::move(CreditEntry& e, CreditState to) {
  bucket(hosts_[e.host_id], e.state) -= e.amount;
  bucket(submitters_[e.submitter_id], e.state) -= e.amount;
  e.state = to;
  bucket(hosts_[e.host_id], to) += e.amount;
  bucket(submitters_[e.submitter_id], to) += e.amount;
}

Status CreditLedger::grant(uint64_t result_id, uint64_t host_id, uint64_t submitter_id,
                           uint64_t amount) {
  return add({result_id, host_id, submitter_id, amount, CreditState::kGranted});
}

Status CreditLedger::add_pending(uint64_t result_id, uint64_t host_id, uint64_t submitter_id,
                                 uint64_t amount) {
  return add({result_id, host_id, submitter_id, amount, CreditState::kPending});
}

std::vector<uint64_t> CreditLedger::settle_pending(uint64_t host_id, CreditState to) {
  std::vector<uint64_t> moved;
  auto it = pending_by_host_.find(host_id);
  if (it == pending_by_host_.end()) return moved;
  for (uint64_t id : it->second) {
    CreditEntry& e = by_result_.at(id);
    if (e.state != CreditState::kPending) continue;  // revoked one by one meanwhile
    moved.push_back(id);
    move(e, to);
  }
  pending_by_host_.erase(it);
  return moved;
}

uint64_t CreditLedger::release_pending(uint64_t host_id) {
  uint64_t released = 0;
  for (uint64_t id : settle_pending(host_id, CreditState::kGranted)) released += by_result_.at(id).amount;
  return released;
}

std::vector<uint64_t> CreditLedger::revoke_pending(uint64_t host_id) {
  return settle_pending(host_id, CreditState::kRevoked);
}

Status CreditLedger::revoke(uint64_t result_id) {
  auto it = by_result_.find(result_id);
  if (it == by_result_.end())
    return not_found("result " + std::to_string(result_id) + " has no credit to revoke");
  if (it->second.state != CreditState::kRevoked) move(it->second, CreditState::kRevoked);
  return Status::Ok();
}

CreditTotals CreditLedger::host(uint64_t host_id) const {
  auto it = hosts_.find(host_id);
  return it == hosts_.end() ? CreditTotals{} : it->second;
}

CreditTotals CreditLedger::submitter(uint64_t submitter_id) const {
  auto it = submitters_.find(submitter_id);
  return it == submitters_.end() ? CreditTotals{} : it->second;
}

std::vector<CreditEntry> CreditLedger::entries() const {
  std::vector<CreditEntry> out;
  out.reserve(by_result_.size());
  for (const auto& [id, e] : by_result_) out.push_back(e);
  return out;
}

Result<CreditLedger> CreditLedger::restore(const std::vector<CreditEntry>& entries) {
  CreditLedger ledger;
  for (const auto& e : entries) P2C2R_RETURN_IF_ERROR(ledger.add(e));
  return ledger;
}

}  // namespace p2c2r::validator
