// Comparators: when two reported results of a work unit count as the same
// answer. Pure policy; no I/O.
//
// Our kernels are integer-only, so the default is bitwise: two results agree
// exactly when their BLAKE2b digests are equal, and only digests need to
// travel. A kernel that cannot be bitwise may declare a tolerance comparator,
// which compares the full outputs; the server must then hand the outputs to
// the quorum (ReplicaView::output). Equal digests always agree, whatever the
// comparator; a tolerance comparator without both outputs says "different",
// so a missing upload can never make a wrong result look right.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "common/bytes.h"
#include "common/digest.h"
#include "common/result.h"

namespace p2c2r::validator {

class ResultComparator {
 public:
  virtual ~ResultComparator() = default;
  // True when equivalent() looks at full outputs, not only digests.
  virtual bool needs_outputs() const = 0;
  // Whether two results are the same answer. Must be symmetric; need not be
  // transitive (quorum groups compare against each group's first member).
  virtual bool equivalent(const Digest& a, ByteView a_output, const Digest& b,
                          ByteView b_output) const = 0;
};

// Digest equality: the default for every kernel.
class BitwiseComparator final : public ResultComparator {
 public:
  bool needs_outputs() const override { return false; }
  bool equivalent(const Digest& a, ByteView, const Digest& b, ByteView) const override {
    return a == b;
  }
};

// Base for kernels that declare a tolerance: equal digests agree; otherwise
// both outputs must be present and within_tolerance() must say so.
class ToleranceComparator : public ResultComparator {
 public:
  bool needs_outputs() const final { return true; }
  bool equivalent(const Digest& a, ByteView a_output, const Digest& b,
                  ByteView b_output) const final;

 protected:
  // Called only with two non-empty outputs whose digests differ.
  virtual bool within_tolerance(ByteView a, ByteView b) const = 0;
};

// The shared bitwise comparator.
const ResultComparator& bitwise_comparator();

// Kernel name -> comparator; kernels not registered compare bitwise.
class ComparatorRegistry {
 public:
  // Fails (already exists) for a kernel registered twice, (invalid argument)
  // for an empty name or a null comparator.
  Status add(const std::string& kernel, std::shared_ptr<const ResultComparator> comparator);
  const ResultComparator& for_kernel(const std::string& kernel) const;

 private:
  std::map<std::string, std::shared_ptr<const ResultComparator>> by_kernel_;
};

}  // namespace p2c2r::validator
