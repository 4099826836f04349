// Shared by the nn shaders: int8 lanes of a packed word and gemmlowp
// requantization, the same integer steps as requantize() in model.cpp.
#extension GL_ARB_gpu_shader_int64 : require
#extension GL_EXT_control_flow_attributes : require

// Output channels per invocation: every activation word read is used OT
// times. On lavapipe every buffer load is a per-lane loop, so the shaders
// compute register tiles (OT outputs x several NPCs or pixels) to load less.
const uint OT = 8u;

int lane8(uint word, int lane) { return bitfieldExtract(int(word), lane * 8, 8); }

// Four int8 products of two packed words, summed.
int dot4(uint xw, uint ww) {
  return lane8(xw, 0) * lane8(ww, 0) + lane8(xw, 1) * lane8(ww, 1) +
         lane8(xw, 2) * lane8(ww, 2) + lane8(xw, 3) * lane8(ww, 3);
}

int requantize(int acc, int multiplier, int shift) {
  int left = max(shift, 0), right = max(-shift, 0);
  int64_t shifted = clamp(int64_t(acc) << left, int64_t(-2147483648l), int64_t(2147483647l));
  int64_t ab = shifted * int64_t(multiplier);
  int64_t t = ab + (ab >= 0l ? (1l << 30) : 1l - (1l << 30));
  int64_t high = t >= 0l ? (t >> 31) : -((-t) >> 31);
  int64_t mask = (1l << right) - 1l;
  int64_t remainder = high & mask;
  int64_t threshold = (mask >> 1) + (high < 0l ? 1l : 0l);
  return int((high >> right) + (remainder > threshold ? 1l : 0l));
}

// The int8 activation, as an unsigned byte ready to pack.
uint requantize_to_byte(int acc, int multiplier, int shift, int zero_point, int act_min) {
  int v = clamp(requantize(acc, multiplier, shift), -256, 256) + zero_point;
  return uint(clamp(v, act_min, 127)) & 0xffu;
}
