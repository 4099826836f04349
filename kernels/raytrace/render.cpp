// Mirrors raytrace.comp function by function; a change to one is a change to
// both (and to the kernel's version).
#include "kernels/raytrace/render.h"

#include <algorithm>

#include "kernels/image.h"

namespace p2c2r::kernels::raytrace {
namespace {

constexpr int32_t kTMin = kOne / 1024;
constexpr int32_t kTMax = kWorldBound;
constexpr int32_t kEpsilon = kOne / 256;
constexpr int64_t kMinLightDist2 = int64_t{1} << 24;  // (1/16 unit)^2 in Q32.32

enum Kind { kNone = 0, kSphere = 1, kPlane = 2, kTriangle = 3 };

struct Ray {
  Vec3 o, d;
  int32_t inv[3];
};

Ray make_ray(Vec3 o, Vec3 d) {
  return {o, d, {inv_component(d.x), inv_component(d.y), inv_component(d.z)}};
}

struct Hit {
  int32_t t = kTMax;
  int kind = kNone;
  uint32_t index = 0;
};

bool hit_sphere(const Sphere& s, const Ray& ray, int32_t tmax, int32_t& t_out) {
  const Vec3 oc = ray.o - s.center;
  const int32_t b = dotq(oc, ray.d);
  const int64_t c = dot64(oc, oc) - int64_t{s.radius} * s.radius;
  if (c > 0 && b > 0) return false;
  const int64_t disc = int64_t{b} * b - c;
  if (disc < 0) return false;
  const int32_t sq = static_cast<int32_t>(isqrt64(uint64_t(disc)));
  int32_t t = -b - sq;
  if (t <= kTMin) t = -b + sq;
  if (t <= kTMin || t >= tmax) return false;
  t_out = t;
  return true;
}

bool inside_world(Vec3 p) {
  return p.x >= -kWorldBound && p.x <= kWorldBound && p.y >= -kWorldBound && p.y <= kWorldBound &&
         p.z >= -kWorldBound && p.z <= kWorldBound;
}

bool hit_plane(const Plane& p, const Ray& ray, int32_t tmax, int32_t& t_out) {
  const int32_t denom = dotq(p.normal, ray.d);
  const int32_t num = p.offset - dotq(p.normal, ray.o);
  if (denom == 0 || num == 0 || (num > 0) != (denom > 0)) return false;
  const int64_t an = num < 0 ? -int64_t{num} : num, ad = denom < 0 ? -int64_t{denom} : denom;
  if ((an << 16) <= kTMin * ad || (an << 16) >= tmax * ad) return false;
  const int32_t t = static_cast<int32_t>((an << 16) / ad);
  if (!inside_world(ray.o + vscale(ray.d, t))) return false;
  t_out = t;
  return true;
}

bool hit_triangle(const Triangle& tri, const Ray& ray, int32_t tmax, int32_t& t_out) {
  const Vec3 e1 = tri.v1 - tri.v0, e2 = tri.v2 - tri.v0;
  const Vec3 p = crossq(ray.d, e2);
  int64_t det = dot64(e1, p) >> 16;
  if (det == 0) return false;
  const Vec3 tv = ray.o - tri.v0;
  int64_t u = dot64(tv, p) >> 16;
  const int64_t qx = (int64_t{tv.y} * e1.z - int64_t{tv.z} * e1.y) >> 16;
  const int64_t qy = (int64_t{tv.z} * e1.x - int64_t{tv.x} * e1.z) >> 16;
  const int64_t qz = (int64_t{tv.x} * e1.y - int64_t{tv.y} * e1.x) >> 16;
  int64_t v = (ray.d.x * qx + ray.d.y * qy + ray.d.z * qz) >> 16;
  int64_t tn = (e2.x * qx + e2.y * qy + e2.z * qz) >> 16;
  if (det < 0) {
    det = -det;
    u = -u;
    v = -v;
    tn = -tn;
  }
  if (u < 0 || v < 0 || u + v > det || tn <= 0) return false;
  if ((tn << 16) <= kTMin * det || (tn << 16) >= tmax * det) return false;
  t_out = static_cast<int32_t>((tn << 16) / det);
  return true;
}

// Slab test; on a hit, tnear is the entry distance (>= 0).
bool hit_box(const BvhNode& n, const Ray& ray, int32_t tmax, int32_t& tnear) {
  const int32_t lo[3] = {n.min.x, n.min.y, n.min.z}, hi[3] = {n.max.x, n.max.y, n.max.z};
  const int32_t o[3] = {ray.o.x, ray.o.y, ray.o.z};
  int64_t tn = INT64_MIN, tf = INT64_MAX;
  for (int a = 0; a < 3; ++a) {
    const int64_t t0 = (int64_t{lo[a] - o[a]} * ray.inv[a]) >> 15;
    const int64_t t1 = (int64_t{hi[a] - o[a]} * ray.inv[a]) >> 15;
    tn = std::max(tn, std::min(t0, t1));
    tf = std::min(tf, std::max(t0, t1));
  }
  if (tn > tf || tf < 0 || tn >= tmax) return false;
  tnear = static_cast<int32_t>(std::max<int64_t>(tn, 0));
  return true;
}

// The box around every sphere, padded by kSpherePad: a ray that misses it
// skips the sphere tests (on lavapipe, eight rays that all miss it skip the
// whole loop). Both sides compute it from the scene in the same way and test
// it with the same slab test, so it decides the same on both.
constexpr int32_t kSpherePad = kOne / 64;

BvhNode sphere_bounds(const Scene& s) {
  BvhNode box;
  box.min = {kWorldBound, kWorldBound, kWorldBound};
  box.max = {-kWorldBound, -kWorldBound, -kWorldBound};
  for (const Sphere& sp : s.spheres) {
    const Vec3 c = sp.center;
    const int32_t r = sp.radius;
    box.min = {std::min(box.min.x, c.x - r), std::min(box.min.y, c.y - r),
               std::min(box.min.z, c.z - r)};
    box.max = {std::max(box.max.x, c.x + r), std::max(box.max.y, c.y + r),
               std::max(box.max.z, c.z + r)};
  }
  box.min = box.min - Vec3{kSpherePad, kSpherePad, kSpherePad};
  box.max = box.max + Vec3{kSpherePad, kSpherePad, kSpherePad};
  return box;
}

bool near_spheres(const Scene& s, const BvhNode& bounds, const Ray& ray, int32_t tmax) {
  int32_t tnear = 0;
  return !s.spheres.empty() && hit_box(bounds, ray, tmax, tnear);
}

// Closest triangle hit (any_hit = false) or any hit before hit.t (any_hit = true).
// Each iteration visits a distinct node of the validated tree.
bool trace_bvh(const Scene& s, const Ray& ray, Hit& hit, bool any_hit) {
  const uint32_t count = static_cast<uint32_t>(s.nodes.size());
  int32_t tnear = 0;
  if (count == 0 || !hit_box(s.nodes[0], ray, hit.t, tnear)) return false;
  uint32_t stack_node[kStackDepth];
  int32_t stack_t[kStackDepth];
  uint32_t sp = 0, node = 0;
  for (uint32_t iter = 0; iter < count; ++iter) {
    const BvhNode& n = s.nodes[node];
    bool descend = false;
    if (n.count > 0) {
      for (uint32_t k = 0; k < n.count; ++k) {
        int32_t t;
        if (hit_triangle(s.triangles[n.first + k], ray, hit.t, t)) {
          hit = {t, kTriangle, n.first + k};
          if (any_hit) return true;
        }
      }
    } else {
      int32_t tl = 0, tr = 0;
      const bool hl = hit_box(s.nodes[n.first], ray, hit.t, tl);
      const bool hr = hit_box(s.nodes[n.first + 1], ray, hit.t, tr);
      if (hl && hr) {
        const bool left_first = tl <= tr;
        if (sp < kStackDepth) {
          stack_node[sp] = left_first ? n.first + 1 : n.first;
          stack_t[sp] = left_first ? tr : tl;
          ++sp;
        }
        node = left_first ? n.first : n.first + 1;
        descend = true;
      } else if (hl || hr) {
        node = hl ? n.first : n.first + 1;
        descend = true;
      }
    }
    while (!descend && sp > 0) {
      --sp;
      if (stack_t[sp] < hit.t) {
        node = stack_node[sp];
        descend = true;
      }
    }
    if (!descend) break;
  }
  return hit.kind == kTriangle;
}

Hit trace_closest(const Scene& s, const BvhNode& sphere_box, const Ray& ray) {
  Hit hit;
  int32_t t;
  const bool near = near_spheres(s, sphere_box, ray, kTMax);
  for (uint32_t i = 0; near && i < s.spheres.size(); ++i) {
    if (hit_sphere(s.spheres[i], ray, hit.t, t)) hit = {t, kSphere, i};
  }
  for (uint32_t i = 0; i < s.planes.size(); ++i) {
    if (hit_plane(s.planes[i], ray, hit.t, t)) hit = {t, kPlane, i};
  }
  trace_bvh(s, ray, hit, false);
  return hit;
}

bool occluded(const Scene& s, const BvhNode& sphere_box, const Ray& ray, int32_t tmax) {
  int32_t t;
  if (near_spheres(s, sphere_box, ray, tmax)) {
    for (const Sphere& sp : s.spheres) {
      if (hit_sphere(sp, ray, tmax, t)) return true;
    }
  }
  for (const Plane& p : s.planes) {
    if (hit_plane(p, ray, tmax, t)) return true;
  }
  Hit hit;
  hit.t = tmax;
  return trace_bvh(s, ray, hit, true);
}

Vec3 sky(const Scene& s, Vec3 d) {
  const int32_t f = std::clamp(d.y, 0, kOne);
  const Vec3 diff = s.sky_top - s.sky_horizon;
  return s.sky_horizon + Vec3{fmul(diff.x, f), fmul(diff.y, f), fmul(diff.z, f)};
}

Vec3 mul3(Vec3 a, Vec3 b) { return {fmul(a.x, b.x), fmul(a.y, b.y), fmul(a.z, b.z)}; }

// Direct light at a hit: ambient, then per light a shadow ray, Lambert and Phong terms.
Vec3 shade_local(const Scene& s, const BvhNode& sphere_box, const Material& m, Vec3 albedo,
                 Vec3 origin, Vec3 n, Vec3 r) {
  Vec3 local = mul3(s.ambient, albedo);
  for (const Light& light : s.lights) {
    const Vec3 l = light.position - origin;
    const int64_t dist2 = dot64(l, l);
    if (dist2 < kMinLightDist2) continue;
    const int32_t dist = static_cast<int32_t>(isqrt64(uint64_t(dist2)));
    const Vec3 ld = scale_to_unit(l, dist);
    const int32_t ndotl = dotq(n, ld);
    if (ndotl <= 0 || occluded(s, sphere_box, make_ray(origin, ld), dist)) continue;
    local = local + vscale(mul3(albedo, light.intensity), ndotl);
    int32_t spec = dotq(r, ld);
    if (m.specular > 0 && spec > 0) {
      for (int32_t k = 0; k < m.shininess_log2; ++k) spec = fmul(spec, spec);
      local = local + vscale(light.intensity, fmul(m.specular, spec));
    }
  }
  return local;
}

Vec3 surface_normal(const Scene& s, const Hit& hit, Vec3 p) {
  if (hit.kind == kSphere) {
    // By the actual length, not the radius: a grazing hit's rounding would
    // otherwise give a non-unit normal, and mirror rays would grow with it.
    const Vec3 v = p - s.spheres[hit.index].center;
    return scale_to_unit(v, std::max(length_q(v), 1));
  }
  return hit.kind == kPlane ? s.planes[hit.index].normal : s.triangles[hit.index].normal;
}

uint32_t material_of(const Scene& s, const Hit& hit) {
  if (hit.kind == kSphere) return s.spheres[hit.index].material;
  return hit.kind == kPlane ? s.planes[hit.index].material : s.triangles[hit.index].material;
}

// One primary ray and its mirror bounces; Q16.16 colour, unclamped.
Vec3 trace_path(const Scene& s, const BvhNode& sphere_box, Vec3 o, Vec3 d, uint32_t max_depth) {
  Vec3 color;
  int32_t throughput = kOne;
  for (uint32_t bounce = 0; bounce <= max_depth; ++bounce) {
    const Ray ray = make_ray(o, d);
    const Hit hit = trace_closest(s, sphere_box, ray);
    if (hit.kind == kNone) {
      color = color + vscale(sky(s, d), throughput);
      break;
    }
    const Vec3 p = o + vscale(d, hit.t);
    Vec3 n = surface_normal(s, hit, p);
    if (dot64(n, d) > 0) n = -n;
    const Material& m = s.materials[material_of(s, hit)];
    Vec3 albedo = m.albedo;
    if (m.checker_shift > 0) {
      const Vec3 c = p + vscale(n, 1 << (m.checker_shift - 1));
      const int32_t sh = m.checker_shift;
      if ((((c.x >> sh) + (c.y >> sh) + (c.z >> sh)) & 1) != 0) albedo = m.albedo2;
    }
    const Vec3 r = reflect_dir(d, n);
    const Vec3 origin = p + vscale(n, kEpsilon);
    const Vec3 local = shade_local(s, sphere_box, m, albedo, origin, n, r);
    color = color + vscale(local, fmul(throughput, kOne - m.reflectivity));
    if (m.reflectivity == 0 || bounce == max_depth) break;
    throughput = fmul(throughput, m.reflectivity);
    o = origin;
    d = r;
  }
  return color;
}

int64_t div_signed(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a) / b); }

// The pixel's colour: the mean of its samples, gamma 2 encoded to 8 bits.
uint32_t render_pixel(const Scene& s, const BvhNode& sphere_box, const TileSpec& tile, uint32_t px,
                      uint32_t py) {
  const Camera& cam = s.camera;
  uint32_t sum[3] = {0, 0, 0};
  for (uint32_t sample = 0; sample < tile.samples; ++sample) {
    const uint32_t h = hash32(px + hash32(py + hash32(sample)));
    const int64_t jx = tile.samples == 1 ? 0x8000 : (h & 0xFFFF),
                  jy = tile.samples == 1 ? 0x8000 : (h >> 16);
    const int64_t w = tile.frame_width, hgt = tile.frame_height;
    const int32_t sx =
        static_cast<int32_t>(div_signed(2 * ((int64_t{px} << 16) + jx) - (w << 16), hgt));
    const int32_t sy =
        static_cast<int32_t>(div_signed((hgt << 16) - 2 * ((int64_t{py} << 16) + jy), hgt));
    const Vec3 d = cam.forward + vscale(cam.right, sx) + vscale(cam.up, sy);
    const int32_t len = length_q(d);
    const Vec3 c = len == 0
                       ? s.sky_horizon
                       : trace_path(s, sphere_box, cam.eye, scale_to_unit(d, len), tile.max_depth);
    sum[0] += static_cast<uint32_t>(std::clamp(c.x, 0, kOne));
    sum[1] += static_cast<uint32_t>(std::clamp(c.y, 0, kOne));
    sum[2] += static_cast<uint32_t>(std::clamp(c.z, 0, kOne));
  }
  uint32_t rgba = 0xFF000000u;
  for (int ch = 0; ch < 3; ++ch) {
    const uint32_t mean = sum[ch] / tile.samples;
    rgba |= ((isqrt32(mean * 65025u) + 128u) >> 8) << (8 * ch);
  }
  return rgba;
}

}  // namespace

Bytes render_tile(const Scene& scene, const TileSpec& tile, unsigned threads) {
  const uint32_t w = tile.tile_width, h = tile.tile_height;
  std::vector<uint32_t> pixels(uint64_t{w} * h);
  // Rows in the order (row % 8, row / 8), so every thread's contiguous share
  // mixes cheap sky rows with expensive ground rows.
  std::vector<uint32_t> rows(h);
  uint32_t k = 0;
  for (uint32_t phase = 0; phase < 8; ++phase) {
    for (uint32_t row = phase; row < h; row += 8) rows[k++] = row;
  }
  const BvhNode sphere_box = sphere_bounds(scene);
  parallel_for(h, threads, [&](uint64_t begin, uint64_t end) {
    for (uint64_t i = begin; i < end; ++i) {
      const uint32_t row = rows[i];
      for (uint32_t x = 0; x < w; ++x) {
        pixels[uint64_t{row} * w + x] =
            render_pixel(scene, sphere_box, tile, tile.tile_x + x, tile.tile_y + row);
      }
    }
  });
  Bytes out(pixels.size() * 4);
  for (size_t i = 0; i < pixels.size(); ++i) {
    for (int b = 0; b < 4; ++b) out[i * 4 + b] = static_cast<uint8_t>(pixels[i] >> (8 * b));
  }
  return out;
}

}  // namespace p2c2r::kernels::raytrace
