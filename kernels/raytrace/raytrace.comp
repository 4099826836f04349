#version 450
// Ray tracing of one tile: one invocation per pixel, `samples` jittered
// primary rays each followed by up to `max_depth` mirror bounces, hard shadows
// from every point light. Mirrors kernels/raytrace/render.cpp function by
// function; the scene was validated on the CPU (scene.cpp), and every loop is
// bounded by a constant as well, so even a corrupt buffer cannot hang it.
// No shared memory.
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_samplerless_texture_functions : require

layout(local_size_x_id = 0) in;

// The scene as a uniform texel buffer of uvec4 quads: on lavapipe a
// storage-buffer read inside a loop or branch is a loop over the lanes with a
// bounds check per 32-bit word, a texel fetch one vectorised fetch of the
// whole quad (docs/kernels/raytrace.md, "Performance").
layout(set = 0, binding = 0) uniform utextureBuffer scene;
layout(std430, set = 0, binding = 1) writeonly buffer Out { uint pixels[]; } out_buf;

layout(push_constant) uniform Push {
  uint frame_width;
  uint frame_height;
  uint tile_x;
  uint tile_y;
  uint tile_width;
  uint tile_height;
  uint samples;
  uint max_depth;
} pc;

#include "raytrace_math.glsl"

// Quad i of the scene blob (four little-endian words).
ivec4 quad(uint i) { return ivec4(texelFetch(scene, int(i))); }

// Format and limits: kernels/raytrace/scene.h. Offsets and sizes in 16-byte quads.
const uint HEADER_QUADS = 9u, NODE_QUADS = 1u, TRIANGLE_QUADS = 4u, MATERIAL_QUADS = 3u;
const uint SPHERE_QUADS = 2u, PLANE_QUADS = 2u, LIGHT_QUADS = 2u;
const uint MAX_SPHERES = 64u, MAX_PLANES = 8u, MAX_NODES = 131072u, MAX_LIGHTS = 8u;
const uint MAX_LEAF = 8u, STACK_DEPTH = 32u, MAX_SAMPLES = 16u, MAX_DEPTH = 8u;
const int T_MIN = ONE / 1024, WORLD_BOUND = 256 * ONE, T_MAX = WORLD_BOUND, EPSILON = ONE / 256;
const int64_t MIN_LIGHT_DIST2 = 1l << 24;
const int KIND_NONE = 0, KIND_SPHERE = 1, KIND_PLANE = 2, KIND_TRIANGLE = 3;

uint n_spheres, n_planes, n_nodes, n_lights;
uint off_materials, off_spheres, off_planes, off_triangles, off_nodes, off_lights;
ivec3 cam_eye, cam_forward, cam_right, cam_up, sky_top, sky_horizon, ambient;

ivec3 vec_at(uint i) { return quad(i).xyz; }

void read_header() {
  uvec4 counts0 = uvec4(quad(0)), counts1 = uvec4(quad(1));
  uint nm = counts0.z, ns = counts0.w, np = counts1.x, nt = counts1.y, nn = counts1.z;
  n_spheres = min(ns, MAX_SPHERES);
  n_planes = min(np, MAX_PLANES);
  n_nodes = min(nn, MAX_NODES);
  n_lights = min(counts1.w, MAX_LIGHTS);
  off_nodes = HEADER_QUADS;
  off_triangles = off_nodes + nn * NODE_QUADS;
  off_materials = off_triangles + nt * TRIANGLE_QUADS;
  off_spheres = off_materials + nm * MATERIAL_QUADS;
  off_planes = off_spheres + ns * SPHERE_QUADS;
  off_lights = off_planes + np * PLANE_QUADS;
  cam_eye = vec_at(2u);
  cam_forward = vec_at(3u);
  cam_right = vec_at(4u);
  cam_up = vec_at(5u);
  sky_top = vec_at(6u);
  sky_horizon = vec_at(7u);
  ambient = vec_at(8u);
}

struct Ray {
  ivec3 o, d;
  ivec3 inv;
};

Ray make_ray(ivec3 o, ivec3 d) {
  return Ray(o, d, ivec3(inv_component(d.x), inv_component(d.y), inv_component(d.z)));
}

bool hit_sphere(uint i, Ray ray, int tmax, out int t_out) {
  t_out = 0;
  ivec4 sphere = quad(off_spheres + i * SPHERE_QUADS);
  int radius = sphere.w;
  ivec3 oc = ray.o - sphere.xyz;
  int b = dotq(oc, ray.d);
  int64_t c = dot64(oc, oc) - int64_t(radius) * int64_t(radius);
  if (c > 0l && b > 0) return false;
  int64_t disc = int64_t(b) * int64_t(b) - c;
  if (disc < 0l) return false;
  int sq = int(isqrt64(uint64_t(disc)));
  int t = -b - sq;
  if (t <= T_MIN) t = -b + sq;
  if (t <= T_MIN || t >= tmax) return false;
  t_out = t;
  return true;
}

// hit_sphere's verdict without its square root (shadow rays need no
// distance, and closest-hit rays use it to pick the few spheres worth one): with sq = floor(sqrt(disc)) and an integer K > 0,
// sq < K exactly when disc < K^2, so every comparison of t = -b -+ sq with
// T_MIN and tmax becomes one of disc with a square.
bool sq_below(int64_t disc, int64_t k) { return k > 0l && disc < k * k; }

bool sphere_hit_test(uint i, Ray ray, int tmax) {
  ivec4 sphere = quad(off_spheres + i * SPHERE_QUADS);
  int radius = sphere.w;
  ivec3 oc = ray.o - sphere.xyz;
  int b = dotq(oc, ray.d);
  int64_t c = dot64(oc, oc) - int64_t(radius) * int64_t(radius);
  if (c > 0l && b > 0) return false;
  int64_t disc = int64_t(b) * int64_t(b) - c;
  if (disc < 0l) return false;
  int64_t nb = -int64_t(b);
  // near root nb - sq > T_MIN, else the far root nb + sq; each must lie in (T_MIN, tmax)
  if (sq_below(disc, nb - int64_t(T_MIN))) return !sq_below(disc, nb - int64_t(tmax) + 1l);
  return !sq_below(disc, int64_t(T_MIN) - nb + 1l) && sq_below(disc, int64_t(tmax) - nb);
}

bool inside_world(ivec3 p) {
  return all(greaterThanEqual(p, ivec3(-WORLD_BOUND))) && all(lessThanEqual(p, ivec3(WORLD_BOUND)));
}

bool hit_plane(uint i, Ray ray, int tmax, out int t_out) {
  t_out = 0;
  ivec4 plane = quad(off_planes + i * PLANE_QUADS);
  ivec3 normal = plane.xyz;
  int denom = dotq(normal, ray.d);
  int num = plane.w - dotq(normal, ray.o);
  if (denom == 0 || num == 0 || (num > 0) != (denom > 0)) return false;
  int64_t an = num < 0 ? -int64_t(num) : int64_t(num);
  int64_t ad = denom < 0 ? -int64_t(denom) : int64_t(denom);
  if ((an << 16) <= int64_t(T_MIN) * ad || (an << 16) >= int64_t(tmax) * ad) return false;
  int t = int((an << 16) / ad);
  if (!inside_world(ray.o + vscale(ray.d, t))) return false;
  t_out = t;
  return true;
}

bool hit_triangle(uint i, Ray ray, int tmax, out int t_out) {
  t_out = 0;
  uint base = off_triangles + i * TRIANGLE_QUADS;
  ivec4 a = quad(base), b = quad(base + 1u);
  int v2z = quad(base + 2u).x;
  ivec3 v0 = a.xyz;
  ivec3 e1 = ivec3(a.w, b.x, b.y) - v0, e2 = ivec3(b.z, b.w, v2z) - v0;
  ivec3 p = crossq(ray.d, e2);
  int64_t det = dot64(e1, p) >> 16;
  if (det == 0l) return false;
  ivec3 tv = ray.o - v0;
  int64_t u = dot64(tv, p) >> 16;
  int64_t qx = (int64_t(tv.y) * int64_t(e1.z) - int64_t(tv.z) * int64_t(e1.y)) >> 16;
  int64_t qy = (int64_t(tv.z) * int64_t(e1.x) - int64_t(tv.x) * int64_t(e1.z)) >> 16;
  int64_t qz = (int64_t(tv.x) * int64_t(e1.y) - int64_t(tv.y) * int64_t(e1.x)) >> 16;
  int64_t v = (int64_t(ray.d.x) * qx + int64_t(ray.d.y) * qy + int64_t(ray.d.z) * qz) >> 16;
  int64_t tn = (int64_t(e2.x) * qx + int64_t(e2.y) * qy + int64_t(e2.z) * qz) >> 16;
  if (det < 0l) {
    det = -det;
    u = -u;
    v = -v;
    tn = -tn;
  }
  if (u < 0l || v < 0l || u + v > det || tn <= 0l) return false;
  if ((tn << 16) <= int64_t(T_MIN) * det || (tn << 16) >= int64_t(tmax) * det) return false;
  t_out = int((tn << 16) / det);
  return true;
}

// A BVH node: its box (int16 corners in units of 1/256, made Q16.16 here)
// and its packed work, first * 16 + count (see pack below).
struct Node {
  ivec3 lo, hi;
  uint work;
};

Node node_at(uint i) {
  ivec4 w = quad(off_nodes + i * NODE_QUADS);
  ivec3 lo = ivec3(bitfieldExtract(w.x, 0, 16), bitfieldExtract(w.x, 16, 16), bitfieldExtract(w.y, 0, 16));
  ivec3 hi = ivec3(bitfieldExtract(w.y, 16, 16), bitfieldExtract(w.z, 0, 16), bitfieldExtract(w.z, 16, 16));
  uint work = uint(w.w);
  return Node(lo << 8, hi << 8, (work & ~15u) | min(work & 15u, MAX_LEAF));
}

// Slab test; on a hit, tnear is the entry distance (>= 0).
bool hit_box(Node node, Ray ray, int tmax, out int tnear) {
  tnear = 0;
  i64vec3 inv = i64vec3(ray.inv);
  i64vec3 t0 = (i64vec3(node.lo - ray.o) * inv) >> 15;
  i64vec3 t1 = (i64vec3(node.hi - ray.o) * inv) >> 15;
  i64vec3 tmin3 = min(t0, t1), tmax3 = max(t0, t1);
  int64_t tn = max(max(tmin3.x, tmin3.y), tmin3.z);
  int64_t tf = min(min(tmax3.x, tmax3.y), tmax3.z);
  if (tn > tf || tf < 0l || tn >= int64_t(tmax)) return false;
  tnear = int(max(tn, 0l));
  return true;
}

// The box around every sphere, padded by SPHERE_PAD (render.cpp's
// sphere_bounds): where no lane's ray meets it, the sphere loops run no
// iteration at all.
const int SPHERE_PAD = ONE / 64;
Node sphere_box;

void bound_spheres() {
  ivec3 lo = ivec3(WORLD_BOUND), hi = ivec3(-WORLD_BOUND);
  for (uint i = 0u; i < n_spheres; ++i) {
    ivec4 s = quad(off_spheres + i * SPHERE_QUADS);
    lo = min(lo, s.xyz - s.w);
    hi = max(hi, s.xyz + s.w);
  }
  sphere_box = Node(lo - SPHERE_PAD, hi + SPHERE_PAD, 0u);
}

bool near_spheres(Ray ray, int tmax) {
  int tnear;
  return n_spheres > 0u && hit_box(sphere_box, ray, tmax, tnear);
}

struct Hit {
  int t;
  int kind;
  uint index;
};

// A node as traversal work: `first` and `count` (0 = internal node whose
// children are first and first + 1; else the leaf's untested triangles
// [first, first + count)), packed as first * 16 + count, as the format
// stores it.

// Closest triangle hit, or (any_hit) any hit before hit.t. The same visit
// order as the reference (render.cpp), but every iteration does one unit of
// work, a single triangle test or one internal node's two box tests: lanes
// run in lockstep through the loop and execute every branch of its body, so a
// body holding a whole leaf's eight triangle tests would cost them on every
// internal node too.
bool trace_bvh(Ray ray, inout Hit hit, bool any_hit) {
  if (n_nodes == 0u) return false;
  int tnear;
  Node root = node_at(0u);
  if (!hit_box(root, ray, hit.t, tnear)) return false;
  uint stack_work[STACK_DEPTH];
  int stack_t[STACK_DEPTH];
  uint sp = 0u, work = root.work;
  // Each node is visited at most once in the validated tree, a leaf for at
  // most MAX_LEAF iterations.
  for (uint iter = 0u; iter < n_nodes * MAX_LEAF; ++iter) {
    uint first = work >> 4, count = work & 15u;
    bool descend = false;
    if (count > 0u) {
      int t;
      if (hit_triangle(first, ray, hit.t, t)) {
        hit = Hit(t, KIND_TRIANGLE, first);
        if (any_hit) return true;
      }
      work = ((first + 1u) << 4) | (count - 1u);
      descend = count > 1u;
    } else {
      Node l = node_at(first), r = node_at(first + 1u);
      int tl, tr;
      bool hl = hit_box(l, ray, hit.t, tl);
      bool hr = hit_box(r, ray, hit.t, tr);
      uint wl = l.work, wr = r.work;
      if (hl && hr) {
        bool left_first = tl <= tr;
        if (sp < STACK_DEPTH) {
          stack_work[sp] = left_first ? wr : wl;
          stack_t[sp] = left_first ? tr : tl;
          ++sp;
        }
        work = left_first ? wl : wr;
        descend = true;
      } else if (hl || hr) {
        work = hl ? wl : wr;
        descend = true;
      }
    }
    while (!descend && sp > 0u) {
      --sp;
      if (stack_t[sp] < hit.t) {
        work = stack_work[sp];
        descend = true;
      }
    }
    if (!descend) break;
  }
  return hit.kind == KIND_TRIANGLE;
}

Hit trace_closest(Ray ray) {
  Hit hit = Hit(T_MAX, KIND_NONE, 0u);
  int t;
  // The square root is the dear part of a sphere test. A sphere that fails
  // with tmax = T_MAX fails with any smaller tmax and leaves the hit alone, so
  // only the candidates that pass get the full test, in the same ascending
  // order as the reference; the candidate loop runs as many rounds as the
  // lane with the most candidates (usually one or two, not every sphere).
  uint cand_lo = 0u, cand_hi = 0u;
  bool near = near_spheres(ray, T_MAX);
  for (uint i = 0u; near && i < n_spheres; ++i) {
    if (sphere_hit_test(i, ray, T_MAX)) {
      if (i < 32u) cand_lo |= 1u << i; else cand_hi |= 1u << (i - 32u);
    }
  }
  for (uint k = 0u; k < MAX_SPHERES && (cand_lo | cand_hi) != 0u; ++k) {
    uint i;
    if (cand_lo != 0u) {
      i = uint(findLSB(cand_lo));
      cand_lo &= cand_lo - 1u;
    } else {
      i = 32u + uint(findLSB(cand_hi));
      cand_hi &= cand_hi - 1u;
    }
    if (hit_sphere(i, ray, hit.t, t)) hit = Hit(t, KIND_SPHERE, i);
  }
  for (uint i = 0u; i < n_planes; ++i) {
    if (hit_plane(i, ray, hit.t, t)) hit = Hit(t, KIND_PLANE, i);
  }
  trace_bvh(ray, hit, false);
  return hit;
}

bool occluded(Ray ray, int tmax) {
  int t;
  bool near = near_spheres(ray, tmax);
  for (uint i = 0u; near && i < n_spheres; ++i) {
    if (sphere_hit_test(i, ray, tmax)) return true;
  }
  for (uint i = 0u; i < n_planes; ++i) {
    if (hit_plane(i, ray, tmax, t)) return true;
  }
  Hit hit = Hit(tmax, KIND_NONE, 0u);
  return trace_bvh(ray, hit, true);
}

ivec3 sky(ivec3 d) {
  ivec3 horizon = sky_horizon;
  int f = clamp(d.y, 0, ONE);
  return horizon + vscale(sky_top - horizon, f);
}

ivec3 shade_local(uint m, ivec3 albedo, ivec3 origin, ivec3 n, ivec3 r) {
  uint mb = off_materials + m * MATERIAL_QUADS;
  int specular = quad(mb).w, shininess_log2 = quad(mb + 1u).w;
  ivec3 local = mul3(ambient, albedo);
  for (uint i = 0u; i < n_lights; ++i) {
    uint lb = off_lights + i * LIGHT_QUADS;
    ivec3 l = vec_at(lb) - origin;
    int64_t dist2 = dot64(l, l);
    if (dist2 < MIN_LIGHT_DIST2) continue;
    int dist = int(isqrt64(uint64_t(dist2)));
    ivec3 ld = scale_to_unit(l, dist);
    int ndotl = dotq(n, ld);
    if (ndotl <= 0 || occluded(make_ray(origin, ld), dist)) continue;
    ivec3 intensity = vec_at(lb + 1u);
    local += vscale(mul3(albedo, intensity), ndotl);
    int spec = dotq(r, ld);
    if (specular > 0 && spec > 0) {
      for (int k = 0; k < min(shininess_log2, 7); ++k) spec = fmul(spec, spec);
      local += vscale(intensity, fmul(specular, spec));
    }
  }
  return local;
}

ivec3 trace_path(ivec3 o, ivec3 d) {
  ivec3 color = ivec3(0);
  int throughput = ONE;
  uint max_depth = min(pc.max_depth, MAX_DEPTH);
  for (uint bounce = 0u; bounce <= max_depth; ++bounce) {
    Ray ray = make_ray(o, d);
    Hit hit = trace_closest(ray);
    if (hit.kind == KIND_NONE) {
      color += vscale(sky(d), throughput);
      break;
    }
    ivec3 p = o + vscale(d, hit.t);
    ivec3 n;
    uint m;
    if (hit.kind == KIND_SPHERE) {
      uint base = off_spheres + hit.index * SPHERE_QUADS;
      ivec3 v = p - quad(base).xyz;
      n = scale_to_unit(v, max(length_q(v), 1));
      m = uint(quad(base + 1u).x);
    } else if (hit.kind == KIND_PLANE) {
      uint base = off_planes + hit.index * PLANE_QUADS;
      n = vec_at(base);
      m = uint(quad(base + 1u).x);
    } else {
      uint base = off_triangles + hit.index * TRIANGLE_QUADS;
      ivec4 c = quad(base + 2u);
      n = c.yzw;
      m = uint(quad(base + 3u).x);
    }
    if (dot64(n, d) > 0l) n = -n;
    uint mb = off_materials + m * MATERIAL_QUADS;
    ivec3 albedo = vec_at(mb);
    ivec4 extra = quad(mb + 2u);
    int reflectivity = extra.x, checker_shift = extra.y;
    if (checker_shift > 0) {
      ivec3 c = p + vscale(n, 1 << (checker_shift - 1));
      if ((((c.x >> checker_shift) + (c.y >> checker_shift) + (c.z >> checker_shift)) & 1) != 0) {
        albedo = vec_at(mb + 1u);
      }
    }
    ivec3 r = reflect_dir(d, n);
    ivec3 origin = p + vscale(n, EPSILON);
    ivec3 local = shade_local(m, albedo, origin, n, r);
    color += vscale(local, fmul(throughput, ONE - reflectivity));
    if (reflectivity == 0 || bounce == max_depth) break;
    throughput = fmul(throughput, reflectivity);
    o = origin;
    d = r;
  }
  return color;
}

uint render_pixel(uint px, uint py) {
  ivec3 eye = cam_eye, forward = cam_forward, right = cam_right, up = cam_up;
  uvec3 sum = uvec3(0u);
  uint samples = min(pc.samples, MAX_SAMPLES);
  int64_t w = int64_t(pc.frame_width), hgt = int64_t(pc.frame_height);
  for (uint sample_index = 0u; sample_index < samples; ++sample_index) {
    uint h = hash32(px + hash32(py + hash32(sample_index)));
    int64_t jx = samples == 1u ? 0x8000l : int64_t(h & 0xFFFFu);
    int64_t jy = samples == 1u ? 0x8000l : int64_t(h >> 16);
    int sx = int(div_signed(2l * ((int64_t(px) << 16) + jx) - (w << 16), hgt));
    int sy = int(div_signed((hgt << 16) - 2l * ((int64_t(py) << 16) + jy), hgt));
    ivec3 d = forward + vscale(right, sx) + vscale(up, sy);
    int len = length_q(d);
    ivec3 c = len == 0 ? sky_horizon : trace_path(eye, scale_to_unit(d, len));
    sum += uvec3(clamp(c, ivec3(0), ivec3(ONE)));
  }
  uint rgba = 0xFF000000u;
  for (int ch = 0; ch < 3; ++ch) {
    uint mean = sum[ch] / max(samples, 1u);
    rgba |= ((isqrt32(mean * 65025u) + 128u) >> 8) << (8 * ch);
  }
  return rgba;
}

// Invocation id's pixel in the tile: eight consecutive ids cover a 4x2
// block (lavapipe's eight lanes then trace rays closer together than along
// one row, so their BVH walks and branches differ less); the columns right
// of the last whole block and the last row of an odd height follow row by
// row. A bijection onto the tile, so every pixel is written once.
uvec2 pixel_of(uint id, uint w, uint h) {
  uint w4 = w & ~3u, h2 = h & ~1u;
  if (id < w4 * h2) {
    uint block = id >> 3, within = id & 7u, blocks_per_row = w4 >> 2;
    return uvec2((block % blocks_per_row) * 4u + (within & 3u), (block / blocks_per_row) * 2u + (within >> 2));
  }
  uint r = id - w4 * h2, strip = w - w4;
  if (r < strip * h2) return uvec2(w4 + r % strip, r / strip);
  r -= strip * h2;
  return uvec2(r % w, h2 + r / w);
}

void main() {
  // Before any branch: llvmpipe reads an address that is the same for every
  // lane with one load only outside control flow (inside, lane by lane).
  read_header();
  bound_spheres();
  uint id = gl_GlobalInvocationID.x;
  if (id >= pc.tile_width * pc.tile_height) return;
  uvec2 xy = pixel_of(id, pc.tile_width, pc.tile_height);
  out_buf.pixels[xy.y * pc.tile_width + xy.x] = render_pixel(pc.tile_x + xy.x, pc.tile_y + xy.y);
}
