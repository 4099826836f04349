#version 450
// Video stage 1: RGBA8 -> YCbCr 4:2:0 (JFIF, full range, integer). One
// invocation per 2x2 quad; workgroup row y is the frame. Mirrors
// convert_quad() in encoder.cpp.
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Frames { uint rgba[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Planes { uint planes[]; };

layout(push_constant) uniform Push {
  uint width;
  uint height;
  uint frames;
} pc;

int cb_part(uint px) {
  int r = int(px & 255u), g = int((px >> 8) & 255u), b = int((px >> 16) & 255u);
  return -11059 * r - 21709 * g + 32768 * b;
}
int cr_part(uint px) {
  int r = int(px & 255u), g = int((px >> 8) & 255u), b = int((px >> 16) & 255u);
  return 32768 * r - 27439 * g - 5329 * b;
}
uint chroma_of_sum(int s) { return uint(clamp((s + (128 << 18) + (1 << 17)) >> 18, 0, 255)); }

void main() {
  uint cw = pc.width / 2u, ch = pc.height / 2u;
  uint quad = gl_GlobalInvocationID.x, f = gl_WorkGroupID.y;
  if (quad >= cw * ch || f >= pc.frames) return;
  uint qx = quad % cw, qy = quad / cw;
  uint luma = pc.width * pc.height;
  uint src = f * luma, dst = f * (luma + luma / 2u);
  int cb = 0, cr = 0;
  for (uint k = 0u; k < 4u; ++k) {
    uint x = 2u * qx + (k & 1u), y = 2u * qy + (k >> 1);
    uint px = rgba[src + y * pc.width + x];
    int r = int(px & 255u), g = int((px >> 8) & 255u), b = int((px >> 16) & 255u);
    planes[dst + y * pc.width + x] = uint((19595 * r + 38470 * g + 7471 * b + 32768) >> 16);
    cb += cb_part(px);
    cr += cr_part(px);
  }
  planes[dst + luma + qy * cw + qx] = chroma_of_sum(cb);
  planes[dst + luma + luma / 4u + qy * cw + qx] = chroma_of_sum(cr);
}
