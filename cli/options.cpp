#include "cli/options.h"

#include <cstdlib>

namespace p2c2r::cli {

void DeviceFlags::add_to(po::options_description& options) {
  options.add_options()(
      "device", po::value(&device)->value_name("INDEX|NAME"),
      "Vulkan device to use: an index from 'p2c2r devices' or part of a device name "
      "(default: the best usable device, discrete GPU first)")(
      "validation", po::bool_switch(&validation),
      "enable the Vulkan validation layers (package vulkan-validationlayers)")(
      "pipeline-cache",
      po::value(&pipeline_cache)->default_value(default_cache_dir())->value_name("DIR"),
      "directory for the on-disk pipeline cache (empty to disable)");
}

std::optional<int> parse(const std::string& command, const std::string& usage, const Args& args,
                         po::options_description& options, po::variables_map& vm,
                         const po::positional_options_description* positional) {
  options.add_options()("help,h", "show this help");
  try {
    po::command_line_parser parser(args);
    parser.options(options);
    if (positional) parser.positional(*positional);
    po::store(parser.run(), vm);
    if (vm.count("help")) {
      std::cout << "usage: p2c2r " << command << " " << usage << "\n\n" << options << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "p2c2r " << command << ": " << e.what() << "\n"
              << "usage: p2c2r " << command << " " << usage << " (see --help)\n";
    return 2;
  }
  return std::nullopt;
}

int fail(const std::string& command, const Status& status) {
  std::cerr << "p2c2r " << command << ": " << status.message() << "\n";
  return 1;
}

std::string default_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/p2c2r";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/p2c2r";
  return "";
}

}  // namespace p2c2r::cli
