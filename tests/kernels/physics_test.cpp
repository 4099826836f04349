// The physics kernel's physical sanity, beyond the generic conformance test:
// against a double-precision simulation of the same model (brute-force
// contacts, no grid), walls that nothing passes through, energy that never
// grows, a head-on collision and a resting sphere whose answers are known,
// and clear errors for malformed world blobs and parameters.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "common/digest.h"
#include "kernels/physics/simulate.h"
#include "kernels/physics/world.h"
#include "kernels/registry.h"
#include "runtime/execute.h"
#include "tests/support/kernels.h"

namespace p2c2r {
namespace {

using kernels::physics::Body;
using kernels::physics::Config;
constexpr double kQ = 65536.0;

const kernels::Kernel& physics_kernel() { return testing::kernel("physics"); }

kernels::Params params(std::map<std::string, int64_t> given, uint64_t seed = 7) {
  return testing::resolved("physics", given, seed);
}

// One step of the kernel's model in double precision (docs/kernels/physics.md):
// Jacobi impulses scaled by 1/max(k_i, k_j), walls bouncing on approach,
// gravity, speed limit, clamping into the box.
struct DBody {
  double p[3], v[3];
};

std::vector<DBody> step_double(const Config& c, const std::vector<DBody>& in) {
  const double r = c.radius / kQ, dt = c.dt / kQ, box = c.grid, gdt = c.gravity_dt / kQ;
  const double e0 = c.restitution / kQ, mu = c.friction / kQ, vmax = c.max_speed / kQ;
  const double rest = c.rest_speed / kQ;
  const size_t n = in.size();
  std::vector<std::vector<size_t>> touching(n);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      double d2 = 0;
      for (int a = 0; a < 3; ++a) d2 += std::pow(in[i].p[a] - in[j].p[a], 2);
      if (d2 < 4 * r * r) {
        touching[i].push_back(j);
        touching[j].push_back(i);
      }
    }
  }
  std::vector<DBody> out(n);
  for (size_t i = 0; i < n; ++i) {
    double dv[3] = {0, 0, 0}, dp[3] = {0, 0, 0};
    for (size_t j : touching[i]) {
      const double s = 1.0 / double(std::max(touching[i].size(), touching[j].size()));
      double d[3], nrm[3] = {0, 0, i > j ? 1.0 : -1.0}, dist = 0;
      for (int a = 0; a < 3; ++a) d[a] = in[i].p[a] - in[j].p[a], dist += d[a] * d[a];
      dist = std::sqrt(dist);
      if (dist > 0)
        for (int a = 0; a < 3; ++a) nrm[a] = d[a] / dist;
      double vr[3], vn = 0;
      for (int a = 0; a < 3; ++a) {
        dp[a] += s * (2 * r - dist) / 2 * nrm[a];
        vr[a] = in[i].v[a] - in[j].v[a];
        vn += vr[a] * nrm[a];
      }
      if (vn >= 0) continue;
      const double e = -vn > rest ? e0 : 0, jn = (1 + e) / 2 * -vn;
      double vt[3], vtm = 0;
      for (int a = 0; a < 3; ++a) vt[a] = vr[a] - vn * nrm[a], vtm += vt[a] * vt[a];
      vtm = std::sqrt(vtm);
      const double ft = std::min(mu * jn, vtm / 2);
      for (int a = 0; a < 3; ++a) dv[a] += s * (jn * nrm[a] - (vtm > 0 ? ft * vt[a] / vtm : 0));
    }
    double v[3];
    for (int a = 0; a < 3; ++a) v[a] = std::clamp(in[i].v[a] + dv[a], -vmax, vmax);
    for (int a = 0; a < 3; ++a) {
      const double next = in[i].p[a] + v[a] * dt;
      if (!((v[a] < 0 && next < r) || (v[a] > 0 && next > box - r))) continue;
      const double approach = std::abs(v[a]), e = approach > rest ? e0 : 0;
      v[a] = -v[a] * e;
      const int b1 = (a + 1) % 3, b2 = (a + 2) % 3;
      const double vtm = std::hypot(v[b1], v[b2]), f = std::min(mu * approach * (1 + e), vtm);
      if (vtm > 0) v[b1] -= f * v[b1] / vtm, v[b2] -= f * v[b2] / vtm;
    }
    v[2] -= gdt;
    for (int a = 0; a < 3; ++a) {
      out[i].v[a] = std::clamp(v[a], -vmax, vmax);
      out[i].p[a] = std::clamp(in[i].p[a] + dp[a] + out[i].v[a] * dt, r, box - r);
    }
  }
  return out;
}

std::vector<DBody> to_double(const std::vector<Body>& bodies) {
  std::vector<DBody> out(bodies.size());
  for (size_t i = 0; i < bodies.size(); ++i) {
    for (int a = 0; a < 3; ++a)
      out[i].p[a] = bodies[i].p[a] / kQ, out[i].v[a] = bodies[i].v[a] / kQ;
  }
  return out;
}

// Kinetic plus potential energy per unit mass, summed over bodies.
double energy(const Config& c, const std::vector<Body>& bodies) {
  const double g = c.gravity_dt / double(c.dt);
  double e = 0;
  for (const Body& b : bodies) {
    for (int a = 0; a < 3; ++a) e += 0.5 * std::pow(b.v[a] / kQ, 2);
    e += g * b.p[2] / kQ;
  }
  return e;
}

Bytes one_step(const kernels::Params& p, const Bytes& world) {
  auto stepped = p;
  stepped.values["steps"] = 1;
  auto out = physics_kernel().reference(stepped, {world}, 2);
  if (!out.ok()) throw std::runtime_error(out.status().to_string());
  return *out;
}

// A dense, fast world: half the cells filled with large spheres.
const std::map<std::string, int64_t> kDense = {
    {"bodies", 400}, {"grid", 10}, {"radius", 29491}, {"dt", 2048}, {"max_speed", 12 << 16}};

TEST(PhysicsTest, NothingLeavesTheBoxAndEveryStateIsAValidWorld) {
  const auto p = params(kDense);
  const Config c = kernels::physics::config_from(p);
  Bytes world = physics_kernel().generate_inputs(p)->at(0);
  for (int step = 0; step < 60; ++step) {
    world = one_step(p, world);
    ASSERT_TRUE(kernels::physics::check_world(c, world).ok()) << "step " << step;
    for (const Body& b : kernels::physics::bodies_of(world)) {
      for (int a = 0; a < 3; ++a) {
        ASSERT_GE(b.p[a], c.radius);
        ASSERT_LE(b.p[a], c.box() - c.radius);
      }
    }
  }
}

TEST(PhysicsTest, EnergyNeverGrows) {
  // Allowed per step: the position correction of overlapping pairs lifts
  // spheres against gravity by at most the overlap gravity adds in one step
  // (g dt^2 per body), plus fixed-point rounding.
  for (const auto& given : {kDense, std::map<std::string, int64_t>{{"bodies", 400}, {"grid", 8}}}) {
    const auto p = params(given);
    const Config c = kernels::physics::config_from(p);
    const double g = c.gravity_dt / double(c.dt), dt = c.dt / kQ;
    const double epsilon = c.bodies * (g * g * dt * dt + 1e-3);
    Bytes world = physics_kernel().generate_inputs(p)->at(0);
    double e = energy(c, kernels::physics::bodies_of(world));
    const double e0 = e;
    for (int step = 0; step < 60; ++step) {
      world = one_step(p, world);
      const double next = energy(c, kernels::physics::bodies_of(world));
      EXPECT_LE(next, e + epsilon) << "step " << step;
      e = next;
    }
    EXPECT_LT(e, e0);  // restitution 0.8 and friction dissipate
  }
}

TEST(PhysicsTest, TracksADoublePrecisionSimulationOverShortHorizons) {
  const auto p = params(kDense);
  const Config c = kernels::physics::config_from(p);
  Bytes world = physics_kernel().generate_inputs(p)->at(0);
  auto exact = to_double(kernels::physics::bodies_of(world));
  for (int step = 1; step <= 8; ++step) {
    world = one_step(p, world);
    exact = step_double(c, exact);
    const auto fixed = to_double(kernels::physics::bodies_of(world));
    double worst = 0;
    for (size_t i = 0; i < fixed.size(); ++i) {
      for (int a = 0; a < 3; ++a) worst = std::max(worst, std::abs(fixed[i].p[a] - exact[i].p[a]));
    }
    // Q16.16 steps round each term to 1/65536; a few hundred roundings per
    // body over 8 steps stay far below 1/100 of a unit.
    EXPECT_LT(worst, 0.01) << "after step " << step;
  }
}

TEST(PhysicsTest, ChainedUnitsEqualOneLongerUnit) {
  auto p = params(kDense);
  const Bytes world = physics_kernel().generate_inputs(p)->at(0);
  p.values["steps"] = 10;
  const Bytes once = *physics_kernel().reference(p, {world}, 2);
  p.values["steps"] = 4;
  const Bytes part = *physics_kernel().reference(p, {world}, 1);
  p.values["steps"] = 6;
  EXPECT_EQ(*physics_kernel().reference(p, {part}, 2), once);
}

TEST(PhysicsTest, HeadOnCollisionOfEqualSpheresSwapsVelocities) {
  // Elastic, frictionless, no gravity: the gap of 1.5 units closes at 3
  // units/s within 32 steps of 1/64 s; after 40 the velocities are exchanged.
  const auto p = params({{"bodies", 2},
                         {"grid", 4},
                         {"steps", 40},
                         {"gravity", 0},
                         {"restitution", 65536},
                         {"friction", 0},
                         {"dt", 1024}});
  std::vector<Body> bodies(2);
  bodies[0] = {{1 << 16, 2 << 16, 2 << 16}, {2 << 16, 0, 0}};
  bodies[1] = {{3 << 16, 2 << 16, 2 << 16}, {-1 << 16, 0, 0}};
  const auto after = kernels::physics::simulate(kernels::physics::config_from(p), bodies, 1);
  EXPECT_NEAR(after[0].v[0] / kQ, -1.0, 1e-3);
  EXPECT_NEAR(after[1].v[0] / kQ, 2.0, 1e-3);
  for (int a = 1; a < 3; ++a) {
    EXPECT_EQ(after[0].v[a], 0);
    EXPECT_EQ(after[1].v[a], 0);
  }
}

TEST(PhysicsTest, SphereOnTheFloorStaysAtRest) {
  auto p = params({{"bodies", 1}, {"grid", 4}, {"steps", 200}});
  const Config c = kernels::physics::config_from(p);
  std::vector<Body> bodies = {{{2 << 16, 2 << 16, c.radius}, {0, 0, 0}}};
  const auto after = kernels::physics::simulate(c, bodies, 1);
  EXPECT_EQ(after[0].p[2], c.radius);
  EXPECT_EQ(after[0].p[0], 2 << 16);
  EXPECT_LE(std::abs(after[0].v[2]), c.gravity_dt);  // no bouncing, only this step's gravity
}

TEST(PhysicsTest, MalformedWorldsAreRejectedClearly) {
  const auto p = params({{"bodies", 8}, {"grid", 4}});
  const Config c = kernels::physics::config_from(p);
  const Bytes good = physics_kernel().generate_inputs(p)->at(0);
  ASSERT_TRUE(physics_kernel().check_inputs(p, {good}).ok());
  auto expect_error = [&](Bytes world, const std::string& words) {
    const Status status = physics_kernel().check_inputs(p, {world});
    EXPECT_EQ(status.code(), Code::kInvalidArgument) << words;
    EXPECT_NE(status.message().find(words), std::string::npos) << status.message();
    EXPECT_FALSE(physics_kernel().reference(p, {world}, 1).ok());
  };
  expect_error(Bytes(good.begin(), good.begin() + 10), "shorter than its 16-byte header");
  Bytes bad = good;
  bad[0] ^= 1;
  expect_error(bad, "magic");
  bad = good;
  bad[4] = 2;
  expect_error(bad, "format version 2");
  bad = good;
  bad[8] = 9;
  expect_error(bad, "holds 9 bodies");
  bad = good;
  bad[12] = 1;
  expect_error(bad, "reserved");
  bad = good;
  bad.push_back(0);
  expect_error(bad, "expected 208");
  auto with_body = [&](int index, Body body) {
    auto bodies = kernels::physics::bodies_of(good);
    bodies[index] = body;
    return kernels::physics::world_blob(bodies);
  };
  expect_error(with_body(3, {{c.radius - 1, 1 << 16, 1 << 16}, {0, 0, 0}}), "body 3: coordinate");
  expect_error(with_body(2, {{1 << 16, 1 << 16, c.box()}, {0, 0, 0}}), "outside");
  expect_error(with_body(5, {{1 << 16, 1 << 16, 1 << 16}, {0, c.max_speed + 1, 0}}),
               "exceeds max_speed");
  std::vector<Body> crowded(8, Body{{1 << 16, 1 << 16, 1 << 16}, {0, 0, 0}});
  auto q = params({{"bodies", 8}, {"grid", 4}, {"cell_cap", 4}});
  const Status status = physics_kernel().check_inputs(q, {kernels::physics::world_blob(crowded)});
  EXPECT_NE(status.message().find("too crowded"), std::string::npos) << status.message();
}

TEST(PhysicsTest, InconsistentParametersAreRejected) {
  auto too_many = physics_kernel().resolve_params(1, {{"bodies", 100}, {"grid", 4}});
  EXPECT_EQ(too_many.status().code(), Code::kInvalidArgument);
  EXPECT_NE(too_many.status().message().find("grid^3"), std::string::npos);
  auto too_fast =
      physics_kernel().resolve_params(1, {{"radius", 16384}, {"dt", 8192}, {"max_speed", 4 << 16}});
  EXPECT_EQ(too_fast.status().code(), Code::kInvalidArgument);
  EXPECT_NE(too_fast.status().message().find("max_speed*dt"), std::string::npos);
}

TEST(PhysicsTest, WritesACsvOfStates) {
  const auto p = params({{"bodies", 3}, {"grid", 4}, {"steps", 2}});
  const Bytes out = *physics_kernel().reference(p, physics_kernel().generate_inputs(p).value(), 1);
  const std::string path = ::testing::TempDir() + "physics_states.csv";
  ASSERT_TRUE(physics_kernel().write_output(p, out, path).ok());
  std::ifstream in(path);
  std::string header, line;
  std::getline(in, header);
  EXPECT_EQ(header, "id,x,y,z,vx,vy,vz");
  int rows = 0;
  while (std::getline(in, line)) ++rows;
  EXPECT_EQ(rows, 3);
  EXPECT_FALSE(physics_kernel().write_output(p, Bytes{1, 2}, path).ok());
}

TEST(PhysicsTest, DeviceRunsADenseWorldLikeTheReference) {
  auto device = runtime::open_device("", {}, {});
  ASSERT_TRUE(device.ok()) << device.status().to_string();
  const auto p = params(kDense);
  const auto inputs = physics_kernel().generate_inputs(p).value();
  auto run = runtime::execute_unit(**device, physics_kernel(), p, inputs, 64);
  ASSERT_TRUE(run.ok()) << run.status().to_string();
  EXPECT_EQ(run->output, *physics_kernel().reference(p, inputs, 2));
}

TEST(PhysicsTest, DeviceMatchesReferenceOnGridsOfEveryParity) {
  // The prefix sum reads the per-cell counts eight cells at a time and writes
  // the starts two cells at a time: odd grids (cells not a whole number of
  // eights, 2^3 = 8 a single eight, 3^3 fewer cells than invocations) check
  // the last, partial eight.
  auto device = runtime::open_device("", {}, {});
  ASSERT_TRUE(device.ok()) << device.status().to_string();
  for (int64_t grid : {2, 3, 5, 7, 9}) {
    const int64_t bodies = grid * grid * grid / 2 + 1;
    const auto p = params({{"bodies", bodies}, {"grid", grid}, {"steps", 40}});
    const auto inputs = physics_kernel().generate_inputs(p).value();
    auto run = runtime::execute_unit(**device, physics_kernel(), p, inputs, 32);
    ASSERT_TRUE(run.ok()) << run.status().to_string();
    EXPECT_EQ(run->output, *physics_kernel().reference(p, inputs, 2)) << "grid " << grid;
  }
}

TEST(PhysicsTest, DeviceMatchesReferenceWhenSettledCellsOverflowTheCap) {
  // 64 small spheres fall into a 4x4x4 box: the floor cells end up holding
  // more than cell_cap = 4, so the per-cell cap decides which contacts count.
  auto device = runtime::open_device("", {}, {});
  ASSERT_TRUE(device.ok()) << device.status().to_string();
  const auto p = params({{"bodies", 64}, {"grid", 4}, {"steps", 300}, {"cell_cap", 4}});
  const Config c = kernels::physics::config_from(p);
  const auto inputs = physics_kernel().generate_inputs(p).value();
  const Bytes expected = *physics_kernel().reference(p, inputs, 2);
  std::vector<uint32_t> per_cell(c.cells(), 0);
  for (const Body& b : kernels::physics::bodies_of(expected)) {
    uint32_t cell = 0;
    for (int a = 2; a >= 0; --a) cell = cell * c.grid + uint32_t(std::clamp(b.p[a] >> 16, 0, 3));
    ++per_cell[cell];
  }
  ASSERT_GT(*std::max_element(per_cell.begin(), per_cell.end()), c.cell_cap);
  auto run = runtime::execute_unit(**device, physics_kernel(), p, inputs, 32);
  ASSERT_TRUE(run.ok()) << run.status().to_string();
  EXPECT_EQ(run->output, expected);
}

// 64 spheres packed around the point (2, 2, 2) where 8 cells meet, 8 in each
// cell, ids interleaved across the cells, all moving at `v` on every axis.
Bytes packed_around_a_corner(int32_t v) {
  std::vector<Body> bodies;
  for (int32_t j = 0; j < 8; ++j) {
    for (int32_t cell = 0; cell < 8; ++cell) {
      Body b{};
      for (int a = 0; a < 3; ++a) {
        const int32_t side = (cell >> a) & 1 ? 1 : -1;  // which of the two cells on axis a
        b.p[a] = (2 << 16) + side * (1000 + 2000 * ((j + a) % 8));
        b.v[a] = v;
      }
      bodies.push_back(b);
    }
  }
  return kernels::physics::world_blob(bodies);
}

TEST(PhysicsTest, DeviceMatchesReferenceWhenBodiesHaveMoreContactsThanListed) {
  // 64 large spheres around a corner: every body touches all others (k = 63),
  // so which kMaxContacts = 16 of them are solved decides the result, and the
  // device (whose slots inside a cell, and whose contact lists, are in no
  // particular order) must pick the reference's first 16 by cell and id.
  auto device = runtime::open_device("", {}, {});
  ASSERT_TRUE(device.ok()) << device.status().to_string();
  const Bytes world = packed_around_a_corner(0);
  for (int64_t cap : {8, 32}) {
    const auto p =
        params({{"bodies", 64}, {"grid", 4}, {"radius", 32768}, {"steps", 3}, {"cell_cap", cap}});
    const Status valid = physics_kernel().check_inputs(p, {world});
    ASSERT_TRUE(valid.ok()) << valid.to_string();
    const Bytes expected = *physics_kernel().reference(p, {world}, 2);
    for (uint32_t local_size : {32u, 64u}) {
      auto run = runtime::execute_unit(**device, physics_kernel(), p, {world}, local_size);
      ASSERT_TRUE(run.ok()) << run.status().to_string();
      EXPECT_EQ(run->output, expected) << "cell_cap " << cap << ", local size " << local_size;
    }
  }
}

TEST(PhysicsTest, DeviceMatchesReferenceWhenACrowdedCellHoldsBodiesWithManyContacts) {
  // The corner pile all moving towards -x, -y, -z at the speed limit: after
  // one step nearly all 64 are in one cell, far over cell_cap, and each still
  // touches more than kMaxContacts others. So the cap decides which bodies
  // count as neighbours (a body past the cap still sees the ones within it,
  // not the other way round) and the first 16 in cell and id order are solved.
  auto device = runtime::open_device("", {}, {});
  ASSERT_TRUE(device.ok()) << device.status().to_string();
  const Bytes world = packed_around_a_corner(-16 * 65536);
  for (int64_t cap : {8, 16}) {
    const auto p =
        params({{"bodies", 64}, {"grid", 4}, {"radius", 32768}, {"steps", 3}, {"cell_cap", cap}});
    const Status valid = physics_kernel().check_inputs(p, {world});
    ASSERT_TRUE(valid.ok()) << valid.to_string();
    // The premise: one step on, a cell holds more than cell_cap bodies.
    const auto one_step =
        params({{"bodies", 64}, {"grid", 4}, {"radius", 32768}, {"steps", 1}, {"cell_cap", cap}});
    const Bytes after_one = *physics_kernel().reference(one_step, {world}, 1);
    std::vector<uint32_t> per_cell(64, 0);
    for (const Body& b : kernels::physics::bodies_of(after_one)) {
      uint32_t cell = 0;
      for (int a = 2; a >= 0; --a) cell = cell * 4 + uint32_t(std::clamp(b.p[a] >> 16, 0, 3));
      ++per_cell[cell];
    }
    ASSERT_GT(*std::max_element(per_cell.begin(), per_cell.end()), cap);

    const Bytes expected = *physics_kernel().reference(p, {world}, 2);
    for (uint32_t local_size : {32u, 64u}) {
      auto run = runtime::execute_unit(**device, physics_kernel(), p, {world}, local_size);
      ASSERT_TRUE(run.ok()) << run.status().to_string();
      EXPECT_EQ(run->output, expected) << "cell_cap " << cap << ", local size " << local_size;
    }
  }
}

}  // namespace
}  // namespace p2c2r
