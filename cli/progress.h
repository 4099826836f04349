// A one-line progress bar on stderr for long commands (bench host, submit
// --wait). It redraws in place on a terminal and prints nothing otherwise,
// so logs and pipes stay clean.
#pragma once

#include <cstdio>
#include <string>

namespace p2c2r::cli {

class ProgressBar {
 public:
  // Draws only when stderr is a terminal, unless `force` is set.
  explicit ProgressBar(bool force = false);
  ~ProgressBar();

  // fraction in [0, 1]; label is a short description of the current step.
  void update(double fraction, const std::string& label);
  // Clears the bar's line.
  void finish();

 private:
  bool enabled_ = false;
  bool drawn_ = false;
};

}  // namespace p2c2r::cli
