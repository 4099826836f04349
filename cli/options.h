// Option groups and helpers several subcommands share.
#pragma once

#include <boost/program_options.hpp>
#include <iostream>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "common/result.h"
#include "runtime/device.h"

namespace p2c2r::cli {

namespace po = boost::program_options;

// --device, --validation, --pipeline-cache.
struct DeviceFlags {
  std::string device;
  bool validation = false;
  std::string pipeline_cache;
  void add_to(po::options_description& options);
  runtime::InstanceOptions instance_options() const { return {.validation = validation}; }
  runtime::DeviceOptions device_options() const { return {.pipeline_cache_dir = pipeline_cache}; }
};

// Parses `args` with `options` (and `positional`); handles --help. Returns an
// exit code to stop with, or nullopt to go on.
std::optional<int> parse(const std::string& command, const std::string& usage, const Args& args,
                         po::options_description& options, po::variables_map& vm,
                         const po::positional_options_description* positional = nullptr);

// Prints "p2c2r <command>: <message>" to stderr and returns 1.
int fail(const std::string& command, const Status& status);

// The default cache directory ($XDG_CACHE_HOME/p2c2r or ~/.cache/p2c2r).
std::string default_cache_dir();

}  // namespace p2c2r::cli
