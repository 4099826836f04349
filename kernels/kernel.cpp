#include "kernels/kernel.h"

#include <fstream>
#include <stdexcept>

namespace p2c2r::kernels {

int64_t Params::get(const std::string& name) const {
  auto it = values.find(name);
  if (it == values.end()) throw std::out_of_range("kernel parameter '" + name + "' not resolved");
  return it->second;
}

Bytes push_words(std::initializer_list<uint32_t> words) {
  Bytes out;
  for (uint32_t w : words) append_le(out, w);
  return out;
}

Result<Params> Kernel::resolve_params(uint64_t seed,
                                      const std::map<std::string, int64_t>& given) const {
  Params params;
  params.seed = seed;
  const auto specs = param_specs();
  for (const auto& [key, value] : given) {
    bool known = false;
    for (const auto& spec : specs) known = known || spec.name == key;
    if (!known) {
      std::string names;
      for (const auto& spec : specs) names += (names.empty() ? "" : ", ") + spec.name;
      return invalid_argument("kernel " + name() + " has no parameter '" + key +
                              "' (it takes: " + (names.empty() ? "none" : names) + ")");
    }
  }
  for (const auto& spec : specs) {
    auto it = given.find(spec.name);
    const int64_t value = it == given.end() ? spec.default_value : it->second;
    if (value < spec.min || value > spec.max) {
      return invalid_argument("kernel " + name() + ": parameter '" + spec.name + "' is " +
                              std::to_string(value) + ", must be in [" + std::to_string(spec.min) +
                              ", " + std::to_string(spec.max) + "]");
    }
    params.values[spec.name] = value;
  }
  P2C2R_RETURN_IF_ERROR(check_params(params).with_context("kernel " + name()));
  return params;
}

Result<std::string> Kernel::write_output(const Params&, ByteView output,
                                         const std::string& path) const {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(output.data()),
            static_cast<std::streamsize>(output.size()));
  if (!out) return unavailable("cannot write " + path);
  return std::string("raw bytes");
}

Status expect_input_sizes(const std::vector<std::string>& names, std::span<const Bytes> inputs,
                          const std::vector<uint64_t>& expected_sizes) {
  if (inputs.size() != expected_sizes.size()) {
    return invalid_argument("expected " + std::to_string(expected_sizes.size()) +
                            " input blob(s), got " + std::to_string(inputs.size()));
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].size() != expected_sizes[i]) {
      return invalid_argument("input '" + (i < names.size() ? names[i] : std::to_string(i)) +
                              "' is " + std::to_string(inputs[i].size()) + " bytes, expected " +
                              std::to_string(expected_sizes[i]));
    }
  }
  return Status::Ok();
}

}  // namespace p2c2r::kernels
