// Running a decoded nn model over a batch of observations: the CPU reference
// and the device plan, which return the same bytes.
//
// Observations: `batch` records of model.input.elements() int8 values each
// (HWC order), already quantized with the model's input zero point.
// Output: batch x actions int32 logits (little-endian, NPC-major), then batch
// uint32 chosen actions (argmax of the logits, lowest index on ties).
#pragma once

#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "kernels/kernel.h"
#include "kernels/nn/model.h"

namespace p2c2r::kernels::nn {

uint64_t output_size(const Model& model, uint32_t batch);

// The CPU reference on `threads` threads (fixed partition over the batch).
// The model must have passed validate_model and observations must hold
// batch * model.input.elements() bytes.
Bytes infer_reference(const Model& model, ByteView observations, uint32_t batch, unsigned threads);

// The device plan: the model re-laid out for the shaders (channels padded to
// whole 32-bit words, input zero point folded into the biases), one dispatch
// per layer and one argmax dispatch. Same preconditions as infer_reference.
Plan plan_inference(const Model& model, ByteView observations, uint32_t batch, uint32_t local_size);

// The output split back into logits and actions.
struct Decisions {
  std::vector<int32_t> logits;    // batch x actions
  std::vector<uint32_t> actions;  // batch
};
Result<Decisions> decode_output(ByteView output, uint32_t batch, uint32_t actions);

}  // namespace p2c2r::kernels::nn
