// Fixed-point helpers of the ray tracer; twins of kernels/raytrace/fixed.h.
// Q16.16 in int, products in int64_t, right shifts arithmetic, divisions on
// non-negative operands only.

const int ONE = 65536;

int fmul(int a, int b) { return int((int64_t(a) * int64_t(b)) >> 16); }
ivec3 vscale(ivec3 v, int s) { return ivec3(fmul(v.x, s), fmul(v.y, s), fmul(v.z, s)); }
ivec3 mul3(ivec3 a, ivec3 b) { return ivec3(fmul(a.x, b.x), fmul(a.y, b.y), fmul(a.z, b.z)); }

int64_t dot64(ivec3 a, ivec3 b) {
  return int64_t(a.x) * int64_t(b.x) + int64_t(a.y) * int64_t(b.y) + int64_t(a.z) * int64_t(b.z);
}
int dotq(ivec3 a, ivec3 b) { return int(dot64(a, b) >> 16); }

ivec3 crossq(ivec3 a, ivec3 b) {
  return ivec3(int((int64_t(a.y) * int64_t(b.z) - int64_t(a.z) * int64_t(b.y)) >> 16),
               int((int64_t(a.z) * int64_t(b.x) - int64_t(a.x) * int64_t(b.z)) >> 16),
               int((int64_t(a.x) * int64_t(b.y) - int64_t(a.y) * int64_t(b.x)) >> 16));
}

// Every operand stays below 2^63, so the comparison may be the signed one,
// a single instruction on x86 where the unsigned one takes three.
uint64_t isqrt64(uint64_t v) {
  uint64_t res = 0ul, bit = 1ul << 62;
  for (int i = 0; i < 32; ++i) {
    uint64_t trial = res + bit;
    bool take = int64_t(v) >= int64_t(trial);
    v = take ? v - trial : v;
    res = take ? (res >> 1) + bit : res >> 1;
    bit >>= 2;
  }
  return res;
}

uint isqrt32(uint v) {
  uint res = 0u, bit = 1u << 30;
  for (int i = 0; i < 16; ++i) {
    uint trial = res + bit;
    bool take = v >= trial;
    v = take ? v - trial : v;
    res = take ? (res >> 1) + bit : res >> 1;
    bit >>= 2;
  }
  return res;
}

ivec3 scale_to_unit(ivec3 v, int len) {
  int64_t k = (1l << 46) / int64_t(len);
  return ivec3(int((int64_t(v.x) * k) >> 30), int((int64_t(v.y) * k) >> 30),
               int((int64_t(v.z) * k) >> 30));
}

int length_q(ivec3 v) { return int(isqrt64(uint64_t(dot64(v, v)))); }

ivec3 reflect_dir(ivec3 d, ivec3 n) { return d - vscale(n, dotq(d, n) * 2); }

int inv_component(int d) {
  uint mag = d == 0 ? 1u : (d < 0 ? 0u - uint(d) : uint(d));
  uint inv = min((1u << 31) / mag, 0x7FFFFFFFu);
  return d < 0 ? -int(inv) : int(inv);
}

uint hash32(uint x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

int64_t div_signed(int64_t a, int64_t b) { return a >= 0l ? a / b : -((-a) / b); }
