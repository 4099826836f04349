// The kernel contract.
//
// A kernel is a deterministic computation that a peer runs on its Vulkan
// device: one or more GLSL compute shaders (compiled to SPIR-V at build time
// and embedded), a CPU reference implementation that produces the same bytes,
// a seeded input generator and a cost model. Everything a work unit needs is
// (kernel name, version, parameters, input blobs); the output is one byte
// string whose BLAKE2b digest the validator compares across peers.
//
// Determinism rules (see docs/kernels.md): integer / fixed-point arithmetic
// only, no atomics whose order shows in the output, reductions in a fixed
// order, shared memory zeroed before use, every loop bounded. The workgroup
// size is specialization constant 0 (`layout(local_size_x_id = 0) in;`), so
// the same kernel can run with several workgroup sizes and must give the same
// bytes with each.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"

namespace p2c2r::kernels {

// The interface a shader declares and the runtime checks against the module's
// reflection (SPIRV-Cross) before it reaches the driver: buffers at descriptor
// set 0, bindings 0..binding_count-1, each a storage buffer or, where bit b of
// texel_bindings is set, a read-only uniform texel buffer of `uvec4` texels
// (GLSL `uniform utextureBuffer`, format R32G32B32A32_UINT, read with
// texelFetch). A plan buffer can be bound either way. Texel fetches cost less
// than storage-buffer loads inside loops on some drivers (llvmpipe gathers
// them without a per-lane bounds-check loop); out-of-range texels read as 0
// under robustBufferAccess, like storage buffers. A push-constant block of
// exactly push_constant_size bytes (0 = none); a 1-D workgroup whose x size is
// specialization constant 0.
struct ShaderInterface {
  uint32_t binding_count = 0;
  uint32_t push_constant_size = 0;
  uint32_t texel_bindings = 0;  // bit b set: binding b is a uniform texel buffer
};

struct Shader {
  std::string name;
  std::span<const uint32_t> spirv;
  ShaderInterface interface;
};

// One declared numeric parameter with its inclusive range and default.
struct ParamSpec {
  std::string name;
  int64_t min = 0;
  int64_t max = 0;
  int64_t default_value = 0;
  std::string help;
};

// Parameter values of one unit. Always complete and in range once produced by
// Kernel::resolve_params.
struct Params {
  uint64_t seed = 0;
  std::map<std::string, int64_t> values;

  int64_t get(const std::string& name) const;  // throws std::out_of_range on an unknown name
  uint32_t u32(const std::string& name) const { return static_cast<uint32_t>(get(name)); }
};

// A device buffer of a plan: its size and its initial contents (empty = zero).
struct PlanBuffer {
  uint64_t size = 0;
  Bytes init;
};

// One dispatch: which shader, which plan buffers at bindings 0..n-1, the
// push-constant bytes and the number of workgroups. Dispatches run in order
// with a full memory barrier between consecutive ones.
struct Dispatch {
  uint32_t shader = 0;
  std::vector<uint32_t> buffers;
  Bytes push;
  std::array<uint32_t, 3> groups{1, 1, 1};
};

// Everything the runtime needs to run a unit: buffers, dispatches, and which
// buffers (in order, concatenated) form the output.
struct Plan {
  std::vector<PlanBuffer> buffers;
  std::vector<Dispatch> dispatches;
  std::vector<uint32_t> outputs;
};

// Helper: packs push constants from a list of 32-bit words.
Bytes push_words(std::initializer_list<uint32_t> words);

// Workgroup count for `items` invocations at `local_size` per group.
inline uint32_t groups_for(uint64_t items, uint32_t local_size) {
  return static_cast<uint32_t>((items + local_size - 1) / local_size);
}

class Kernel {
 public:
  virtual ~Kernel() = default;

  virtual std::string name() const = 0;
  // Changes whenever the output for the same parameters and inputs could change.
  virtual uint32_t version() const = 0;
  // "raytrace", "physics", "nn", "video", or "peak".
  virtual std::string family() const = 0;
  virtual std::string description() const = 0;
  virtual std::vector<Shader> shaders() const = 0;
  virtual std::vector<ParamSpec> param_specs() const = 0;
  // Names of the input blobs, in order (e.g. {"scene"}).
  virtual std::vector<std::string> input_names() const = 0;
  // The input blobs that these parameters call for, in order. Most kernels
  // take the fixed list above; one whose input count follows its parameters
  // (video fed a game frame as T ray-traced tiles) overrides this. The
  // runtime checks a unit's blob count against it before check_inputs.
  virtual std::vector<std::string> input_names_for(const Params&) const { return input_names(); }

  // Fills in defaults and checks ranges and cross-parameter rules.
  Result<Params> resolve_params(uint64_t seed, const std::map<std::string, int64_t>& given) const;

  // Deterministic inputs from params.seed.
  virtual Result<std::vector<Bytes>> generate_inputs(const Params& params) const = 0;
  // Checks that supplied inputs are well formed for these params, so that
  // nothing reads out of bounds later.
  virtual Status check_inputs(const Params& params, const std::vector<Bytes>& inputs) const = 0;
  // The CPU reference, on `threads` threads (1 = single core); same bytes as the device.
  virtual Result<Bytes> reference(const Params& params, const std::vector<Bytes>& inputs,
                                  unsigned threads) const = 0;
  // The device plan for a given workgroup size.
  virtual Result<Plan> plan(const Params& params, const std::vector<Bytes>& inputs,
                            uint32_t local_size) const = 0;
  // Turns what the plan's output buffers held (read back, concatenated) into
  // the unit's output, on the CPU, before it is digested, stored or sent: a
  // kernel whose device layout is padded for determinism (video writes each
  // slice into a worst-case region) packs it here. Must be deterministic and
  // refuse a malformed device output with an error, never read out of
  // bounds; reference() returns the finished bytes directly, so device and
  // reference outputs stay byte-identical. The default keeps the bytes.
  virtual Result<Bytes> finish_output(const Params& params, Bytes device_output) const {
    (void)params;
    return device_output;
  }

  // Cost model: integer operations per unit (credit and scheduling use it).
  virtual uint64_t cost(const Params& params) const = 0;
  // The family's figure of merit: how many work items (rays, body-steps,
  // MACs, pixels) one unit does, and their unit name for throughput tables.
  virtual double work_items(const Params& params) const = 0;
  virtual std::string work_unit_name() const = 0;

  // Parameters for a quick run (tests, smoke checks): small but exercising
  // every code path of the kernel.
  virtual std::map<std::string, int64_t> small_params() const = 0;

  // Writes a unit's output in a form a person can look at (PNG, CSV, a
  // table); the default writes the raw bytes. Returns the format written.
  virtual Result<std::string> write_output(const Params& params, ByteView output,
                                           const std::string& path) const;

  // An output that continues earlier units' outputs (a video unit continuing
  // a stream, docs/kernels/video.md) can be shown only after them: how many
  // earlier outputs of the same stage it continues, and write_output given
  // them, oldest first. By default a unit continues nothing.
  virtual uint32_t continued_outputs(const Params&) const { return 0; }
  virtual Result<std::string> write_continued_output(const Params& params,
                                                     const std::vector<Bytes>& earlier,
                                                     ByteView output,
                                                     const std::string& path) const {
    (void)earlier;
    return write_output(params, output, path);
  }

 protected:
  // Extra cross-parameter checks, after every value is in range.
  virtual Status check_params(const Params&) const { return Status::Ok(); }
};

// Checks sizes of inputs against expected byte counts, with a message naming the input.
Status expect_input_sizes(const std::vector<std::string>& names, std::span<const Bytes> inputs,
                          const std::vector<uint64_t>& expected_sizes);

}  // namespace p2c2r::kernels
