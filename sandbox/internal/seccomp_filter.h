// The executor's seccomp-bpf allowlist (libseccomp). Internal to sandbox/.
#pragma once

#include <string>

#include "common/result.h"

namespace p2c2r::sandbox::internal {

// Loads the filter on every thread of the process (TSYNC). Returns a one-line
// description for Protections::seccomp.
Result<std::string> load_seccomp_filter();

}  // namespace p2c2r::sandbox::internal
