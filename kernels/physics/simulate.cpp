#include "kernels/physics/simulate.h"

#include <algorithm>

#include "kernels/image.h"

namespace p2c2r::kernels::physics {

uint64_t isqrt64(uint64_t x) {
  uint64_t res = 0, bit = uint64_t{1} << 62;
  for (int i = 0; i < 32; ++i) {
    if (x >= res + bit) {
      x -= res + bit;
      res = (res >> 1) + bit;
    } else {
      res >>= 1;
    }
    bit >>= 2;
  }
  return res;
}

namespace {

// C++ division truncates toward zero; the shaders divide magnitudes to get the same.
int64_t div_trunc(int64_t a, int64_t b) { return a / b; }

int32_t cell_coord(const Config& c, int32_t p) {
  return std::clamp(p >> 16, 0, static_cast<int32_t>(c.grid) - 1);
}

uint32_t cell_index(const Config& c, const int32_t p[3]) {
  return (static_cast<uint32_t>(cell_coord(c, p[2])) * c.grid +
          static_cast<uint32_t>(cell_coord(c, p[1]))) * c.grid +
         static_cast<uint32_t>(cell_coord(c, p[0]));
}

// The broad phase of one step: bodies sorted by cell, then by id.
struct Grid {
  std::vector<uint32_t> start;      // cells + 1; cell c owns slots [start[c], start[c+1])
  std::vector<uint32_t> sorted_id;  // slot -> body id
  std::vector<Body> sorted;         // slot -> old state
};

void build_grid(const Config& c, const std::vector<Body>& bodies, Grid& g) {
  g.start.assign(c.cells() + 1, 0);
  std::vector<uint32_t> cell_of(bodies.size());
  for (size_t i = 0; i < bodies.size(); ++i) {
    cell_of[i] = cell_index(c, bodies[i].p);
    ++g.start[cell_of[i] + 1];
  }
  for (uint32_t cell = 0; cell < c.cells(); ++cell) g.start[cell + 1] += g.start[cell];
  std::vector<uint32_t> fill(g.start.begin(), g.start.end() - 1);
  g.sorted_id.resize(bodies.size());
  g.sorted.resize(bodies.size());
  for (uint32_t i = 0; i < bodies.size(); ++i) {  // id order: stable within a cell
    const uint32_t slot = fill[cell_of[i]]++;
    g.sorted_id[slot] = i;
    g.sorted[slot] = bodies[i];
  }
}

// Calls f(u) for every slot u != t in the 27 cells around slot t's body,
// taking at most cell_cap bodies (the lowest ids) from each cell.
template <typename F>
void for_each_neighbour(const Config& c, const Grid& g, uint32_t t, F&& f) {
  const int32_t* p = g.sorted[t].p;
  const int32_t cx = cell_coord(c, p[0]), cy = cell_coord(c, p[1]), cz = cell_coord(c, p[2]);
  const int32_t n = static_cast<int32_t>(c.grid);
  for (int32_t z = std::max(cz - 1, 0); z <= std::min(cz + 1, n - 1); ++z) {
    for (int32_t y = std::max(cy - 1, 0); y <= std::min(cy + 1, n - 1); ++y) {
      for (int32_t x = std::max(cx - 1, 0); x <= std::min(cx + 1, n - 1); ++x) {
        const uint32_t cell = static_cast<uint32_t>((z * n + y) * n + x);
        const uint32_t begin = g.start[cell];
        const uint32_t end = std::min(g.start[cell + 1], begin + c.cell_cap);
        for (uint32_t u = begin; u < end; ++u) {
          if (u != t) f(u);
        }
      }
    }
  }
}

int64_t touching_distance2(const Config& c) {
  return (2 * int64_t{c.radius}) * (2 * int64_t{c.radius});
}

uint32_t count_contacts(const Config& c, const Grid& g, uint32_t t) {
  const int64_t limit = touching_distance2(c);
  uint32_t k = 0;
  for_each_neighbour(c, g, t, [&](uint32_t u) {
    int64_t d2 = 0;
    for (int a = 0; a < 3; ++a) {
      const int64_t d = g.sorted[t].p[a] - g.sorted[u].p[a];
      d2 += d * d;
    }
    if (d2 < limit) ++k;
  });
  return k;
}

// One sphere-sphere contact seen from slot t: adds t's share of the impulse to
// dv and of the separation to dp. Each pair's response is scaled by
// 1/max(k_t, k_u), which keeps the summed Jacobi response from adding energy.
void sphere_contact(const Config& c, const Grid& g, const std::vector<uint32_t>& k, uint32_t t,
                    uint32_t u, int64_t dv[3], int64_t dp[3]) {
  const Body& bi = g.sorted[t];
  const Body& bj = g.sorted[u];
  int64_t d[3], d2 = 0;
  for (int a = 0; a < 3; ++a) {
    d[a] = int64_t{bi.p[a]} - bj.p[a];
    d2 += d[a] * d[a];
  }
  if (d2 >= touching_distance2(c)) return;
  const int64_t kmax = std::max(k[t], k[u]);
  const uint64_t dist = isqrt64(static_cast<uint64_t>(d2));
  int64_t n[3] = {0, 0, g.sorted_id[t] > g.sorted_id[u] ? kOne : -kOne};  // coincident centres
  if (dist > 0) {
    const int64_t inv = static_cast<int64_t>((uint64_t{1} << 32) / dist);
    for (int a = 0; a < 3; ++a) n[a] = (d[a] * inv) >> 16;
  }
  const int64_t corr = ((2 * int64_t{c.radius} - static_cast<int64_t>(dist)) >> 1) / kmax;
  for (int a = 0; a < 3; ++a) dp[a] += (corr * n[a]) >> 16;

  int64_t vr[3], vn = 0;
  for (int a = 0; a < 3; ++a) {
    vr[a] = int64_t{bi.v[a]} - bj.v[a];
    vn += vr[a] * n[a];
  }
  vn >>= 16;
  if (vn >= 0) return;  // separating
  const int64_t approach = -vn;
  const int64_t e = approach > c.rest_speed ? c.restitution : 0;
  const int64_t jn = ((kOne + e) * approach) >> 17;  // (1+e)/2 |vn|: equal masses
  int64_t vt[3], imp[3];
  uint64_t vt2 = 0;
  for (int a = 0; a < 3; ++a) {
    vt[a] = vr[a] - ((vn * n[a]) >> 16);
    vt2 += static_cast<uint64_t>(vt[a] * vt[a]);
    imp[a] = (jn * n[a]) >> 16;
  }
  const uint64_t vtm = isqrt64(vt2);
  if (vtm > 0) {  // Coulomb friction, never reversing the sliding direction
    const int64_t ft = std::min((int64_t{c.friction} * jn) >> 16, static_cast<int64_t>(vtm >> 1));
    const int64_t inv = static_cast<int64_t>((uint64_t{1} << 32) / vtm);
    for (int a = 0; a < 3; ++a) imp[a] -= (ft * ((vt[a] * inv) >> 16)) >> 16;
  }
  for (int a = 0; a < 3; ++a) dv[a] += div_trunc(imp[a], kmax);
}

// The six walls of the box: a sphere moving into a wall that it would reach
// within this step bounces now (restitution, Coulomb friction on the other axes).
void plane_contacts(const Config& c, const Body& b, int64_t v[3]) {
  for (int a = 0; a < 3; ++a) {
    const int64_t next = b.p[a] + ((v[a] * c.dt) >> 16);
    int64_t approach;
    if (v[a] < 0 && next < c.radius) {
      approach = -v[a];
    } else if (v[a] > 0 && next > c.box() - c.radius) {
      approach = v[a];
    } else {
      continue;
    }
    const int64_t e = approach > c.rest_speed ? c.restitution : 0;
    v[a] = -((v[a] * e) >> 16);
    const int64_t jn = approach + ((approach * e) >> 16);
    const int b1 = (a + 1) % 3, b2 = (a + 2) % 3;
    const uint64_t vtm = isqrt64(static_cast<uint64_t>(v[b1] * v[b1] + v[b2] * v[b2]));
    if (vtm > 0) {
      const int64_t f = std::min((int64_t{c.friction} * jn) >> 16, static_cast<int64_t>(vtm));
      v[b1] -= div_trunc(f * v[b1], static_cast<int64_t>(vtm));
      v[b2] -= div_trunc(f * v[b2], static_cast<int64_t>(vtm));
    }
  }
}

Body solve(const Config& c, const Grid& g, const std::vector<uint32_t>& k, uint32_t t) {
  int64_t dv[3] = {0, 0, 0}, dp[3] = {0, 0, 0};
  for_each_neighbour(c, g, t, [&](uint32_t u) { sphere_contact(c, g, k, t, u, dv, dp); });
  const Body& b = g.sorted[t];
  int64_t v[3];
  for (int a = 0; a < 3; ++a) v[a] = b.v[a] + dv[a];
  plane_contacts(c, b, v);
  v[2] -= c.gravity_dt;
  Body out;
  for (int a = 0; a < 3; ++a) {
    v[a] = std::clamp<int64_t>(v[a], -c.max_speed, c.max_speed);
    const int64_t p = b.p[a] + dp[a] + ((v[a] * c.dt) >> 16);
    out.p[a] = static_cast<int32_t>(std::clamp<int64_t>(p, c.radius, c.box() - c.radius));
    out.v[a] = static_cast<int32_t>(v[a]);
  }
  return out;
}

}  // namespace

std::vector<Body> simulate(const Config& config, std::vector<Body> bodies, unsigned threads) {
  Grid grid;
  std::vector<uint32_t> k(bodies.size());
  for (uint32_t step = 0; step < config.steps; ++step) {
    build_grid(config, bodies, grid);
    parallel_for(bodies.size(), threads, [&](uint64_t begin, uint64_t end) {
      for (uint64_t t = begin; t < end; ++t) k[t] = count_contacts(config, grid, uint32_t(t));
    });
    parallel_for(bodies.size(), threads, [&](uint64_t begin, uint64_t end) {
      for (uint64_t t = begin; t < end; ++t) {
        bodies[grid.sorted_id[t]] = solve(config, grid, k, uint32_t(t));
      }
    });
  }
  return bodies;
}

}  // namespace p2c2r::kernels::physics
