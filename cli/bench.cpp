// p2c2r bench <name>: dispatches to the benchmarks in bench/.
#include "bench/bench.h"

#include <cstring>
#include <iostream>

#include "cli/commands.h"

namespace p2c2r::cli {

int bench_command(const Args& args) {
  const auto& all = bench::benchmarks();
  auto usage = [&](std::ostream& out) {
    out << "usage: p2c2r bench <benchmark> [options]\n\nbenchmarks:\n";
    for (const auto& b : all)
      out << "  " << b.name << std::string(12 - std::strlen(b.name), ' ') << b.summary << "\n";
    out << "\n'p2c2r bench <benchmark> --help' describes its options.\n";
  };
  if (args.empty()) {
    usage(std::cerr);
    return 2;
  }
  if (args[0] == "--help" || args[0] == "-h") {
    usage(std::cout);
    return 0;
  }
  for (const auto& b : all) {
    if (args[0] == b.name) return b.run(Args(args.begin() + 1, args.end()));
  }
  std::cerr << "p2c2r bench: unknown benchmark '" << args[0] << "'\n";
  usage(std::cerr);
  return 2;
}

}  // namespace p2c2r::cli
