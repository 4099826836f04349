#include "kernels/physics/simulate.h"

#include <algorithm>

#include "kernels/image.h"

namespace p2c2r::kernels::physics {

namespace {

int32_t cell_coord(const Config& c, int32_t p) {
  return std::clamp(p >> 16, 0, static_cast<int32_t>(c.grid) - 1);
}

uint32_t cell_index(const Config& c, const int32_t p[3]) {
  return (static_cast<uint32_t>(cell_coord(c, p[2])) * c.grid +
          static_cast<uint32_t>(cell_coord(c, p[1]))) *
             c.grid +
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

// Calls f(u) for every slot u != t in the cells within 2r of slot t's body,
// taking at most cell_cap bodies (the lowest ids) from each cell.
template <typename F>
void for_each_neighbour(const Config& c, const Grid& g, uint32_t t, F&& f) {
  const int32_t* p = g.sorted[t].p;
  // A sphere touching this one has its centre within 2r on every axis: 2 cells
  // per axis when r <= 1/4, at most 3.
  const int32_t reach = 2 * c.radius, n = static_cast<int32_t>(c.grid);
  int32_t lo[3], hi[3];
  for (int a = 0; a < 3; ++a) {
    lo[a] = cell_coord(c, p[a] - reach);
    hi[a] = cell_coord(c, p[a] + reach);
  }
  for (int32_t z = lo[2]; z <= hi[2]; ++z) {
    for (int32_t y = lo[1]; y <= hi[1]; ++y) {
      for (int32_t x = lo[0]; x <= hi[0]; ++x) {
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

// Mirrors mulq() in physics_solve.comp: a widened product, an arithmetic
// shift, and the low 32 bits.
int32_t mulq(int64_t a, int64_t b, int shift) { return static_cast<int32_t>((a * b) >> shift); }

struct Contacts {
  std::vector<uint32_t> k;     // slot -> number of touching spheres
  std::vector<uint32_t> list;  // slot * kMaxContacts + m -> slot of the m-th contact
};

// k and the contact list of slot t (physics_contacts.comp).
void find_contacts(const Config& c, const Grid& g, uint32_t t, Contacts& out) {
  const int64_t limit = (2 * int64_t{c.radius}) * (2 * int64_t{c.radius});
  uint32_t k = 0;
  for_each_neighbour(c, g, t, [&](uint32_t u) {
    int64_t d2 = 0;
    for (int a = 0; a < 3; ++a) {
      const int64_t d = int64_t{g.sorted[t].p[a]} - g.sorted[u].p[a];
      d2 += d * d;
    }
    if (d2 < limit) {
      if (k < kMaxContacts) out.list[kMaxContacts * t + k] = u;
      ++k;
    }
  });
  out.k[t] = k;
}

// One touching neighbour (slot u) of slot t: adds t's share of the impulse to
// dv and of the separation to dp. Each pair's response is scaled by
// s = 1/max(k_t, k_u), which keeps the summed Jacobi response from adding
// energy (docs/kernels/physics.md).
void sphere_contact(const Config& c, const Grid& g, const Contacts& cs, uint32_t t, uint32_t u,
                    int32_t dv[3], int32_t dp[3]) {
  const Body& bi = g.sorted[t];
  const Body& bj = g.sorted[u];
  int32_t d[3];
  int64_t d2 = 0;
  for (int a = 0; a < 3; ++a) {
    d[a] = bi.p[a] - bj.p[a];
    d2 += int64_t{d[a]} * d[a];
  }
  const uint32_t dist = isqrt32(static_cast<uint32_t>(d2));
  const uint32_t s = 65536u / std::max(cs.k[t], cs.k[u]);
  int32_t n[3] = {0, 0, g.sorted_id[t] > g.sorted_id[u] ? 65536 : -65536};  // coincident centres
  if (dist > 0) {
    const int64_t inv = 0x80000000u / dist;
    for (int a = 0; a < 3; ++a) n[a] = mulq(d[a], inv, 15);
  }
  const int32_t corr =
      static_cast<int32_t>(((static_cast<uint32_t>(2 * c.radius - int32_t(dist)) >> 1) * s) >> 16);
  for (int a = 0; a < 3; ++a) dp[a] += mulq(corr, n[a], 16);

  int32_t vr[3];
  int64_t vn64 = 0;
  for (int a = 0; a < 3; ++a) {
    vr[a] = bi.v[a] - bj.v[a];
    vn64 += int64_t{vr[a]} * n[a];
  }
  const int32_t vn = static_cast<int32_t>(vn64 >> 16);
  if (vn >= 0) return;  // separating
  const int32_t approach = -vn;
  const int32_t e = approach > c.rest_speed ? c.restitution : 0;
  const int32_t jn = mulq(65536 + e, approach, 17);  // (1+e)/2 |vn|: equal masses
  int32_t vt[3], imp[3];
  int64_t vt2 = 0;
  for (int a = 0; a < 3; ++a) {
    vt[a] = vr[a] - mulq(vn, n[a], 16);
    imp[a] = mulq(jn, n[a], 16);
    vt2 += int64_t{vt[a]} * vt[a];
  }
  const uint32_t q = isqrt32(static_cast<uint32_t>(vt2 >> 16));  // |vt| / 256
  if (q > 0) {  // Coulomb friction, never reversing the sliding direction
    const int32_t ft = std::min(mulq(c.friction, jn, 16), static_cast<int32_t>(q << 7));
    const int64_t inv = 0x80000000u / q;
    for (int a = 0; a < 3; ++a) imp[a] -= mulq(ft, mulq(vt[a] >> 8, inv, 15), 16);
  }
  for (int a = 0; a < 3; ++a) dv[a] += mulq(imp[a], s, 16);
}

// The six walls: a sphere moving into a wall it would reach within this step
// bounces now (restitution, Coulomb friction on the other two axes).
void plane_contacts(const Config& c, const Body& b, int32_t v[3]) {
  for (int a = 0; a < 3; ++a) {
    const int32_t next = b.p[a] + mulq(v[a], c.dt, 16);
    const bool low = v[a] < 0 && next < c.radius;
    const bool high = v[a] > 0 && next > c.box() - c.radius;
    if (!low && !high) continue;
    const int32_t approach = std::abs(v[a]);
    const int32_t e = approach > c.rest_speed ? c.restitution : 0;
    v[a] = -mulq(v[a], e, 16);
    const int32_t jn = approach + mulq(approach, e, 16);
    const int b1 = (a + 1) % 3, b2 = (a + 2) % 3;
    const uint32_t q =
        isqrt32(static_cast<uint32_t>((int64_t{v[b1]} * v[b1] + int64_t{v[b2]} * v[b2]) >> 16));
    if (q > 0) {
      const int32_t f = std::min(mulq(c.friction, jn, 16), static_cast<int32_t>(q << 8));
      const int64_t inv = 0x80000000u / q;
      const int32_t u1 = mulq(v[b1] >> 8, inv, 15), u2 = mulq(v[b2] >> 8, inv, 15);
      v[b1] -= mulq(f, u1, 16);
      v[b2] -= mulq(f, u2, 16);
    }
  }
}

Body solve(const Config& c, const Grid& g, const Contacts& cs, uint32_t t) {
  int32_t dv[3] = {0, 0, 0}, dp[3] = {0, 0, 0};
  const uint32_t m_end = std::min(cs.k[t], kMaxContacts);
  for (uint32_t m = 0; m < m_end; ++m) {
    sphere_contact(c, g, cs, t, cs.list[kMaxContacts * t + m], dv, dp);
  }
  const Body& b = g.sorted[t];
  int32_t v[3];
  for (int a = 0; a < 3; ++a) v[a] = std::clamp(b.v[a] + dv[a], -c.max_speed, c.max_speed);
  plane_contacts(c, b, v);
  v[2] -= c.gravity_dt;
  Body out;
  for (int a = 0; a < 3; ++a) {
    out.v[a] = std::clamp(v[a], -c.max_speed, c.max_speed);
    const int32_t p = b.p[a] + dp[a] + mulq(out.v[a], c.dt, 16);
    out.p[a] = std::clamp(p, c.radius, c.box() - c.radius);
  }
  return out;
}

}  // namespace

std::vector<Body> simulate(const Config& config, std::vector<Body> bodies, unsigned threads) {
  Grid grid;
  Contacts contacts;
  contacts.k.resize(bodies.size());
  contacts.list.resize(bodies.size() * kMaxContacts);
  for (uint32_t step = 0; step < config.steps; ++step) {
    build_grid(config, bodies, grid);
    parallel_for(bodies.size(), threads, [&](uint64_t begin, uint64_t end) {
      for (uint64_t t = begin; t < end; ++t) find_contacts(config, grid, uint32_t(t), contacts);
    });
    parallel_for(bodies.size(), threads, [&](uint64_t begin, uint64_t end) {
      for (uint64_t t = begin; t < end; ++t) {
        bodies[grid.sorted_id[t]] = solve(config, grid, contacts, uint32_t(t));
      }
    });
  }
  return bodies;
}

}  // namespace p2c2r::kernels::physics
