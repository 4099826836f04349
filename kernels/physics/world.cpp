#include "kernels/physics/world.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>

#include "common/rng.h"

namespace p2c2r::kernels::physics {

Config config_from(const Params& params) {
  Config c;
  c.bodies = params.u32("bodies");
  c.steps = params.u32("steps");
  c.grid = params.u32("grid");
  c.radius = static_cast<int32_t>(params.get("radius"));
  c.dt = static_cast<int32_t>(params.get("dt"));
  c.gravity_dt = static_cast<int32_t>((params.get("gravity") * params.get("dt")) >> 16);
  c.restitution = static_cast<int32_t>(params.get("restitution"));
  c.friction = static_cast<int32_t>(params.get("friction"));
  c.max_speed = static_cast<int32_t>(params.get("max_speed"));
  // Resting contact: gravity adds gravity_dt each step; bouncing that back
  // would make a resting sphere jitter, so slow approaches are inelastic.
  c.rest_speed = 2 * c.gravity_dt;
  c.cell_cap = params.u32("cell_cap");
  return c;
}

std::vector<Body> bodies_of(ByteView world) {
  const uint64_t n = (world.size() - kHeaderBytes) / kBodyBytes;
  std::vector<Body> bodies(n);
  if (n > 0) std::memcpy(bodies.data(), world.data() + kHeaderBytes, n * kBodyBytes);
  return bodies;
}

Bytes world_blob(const std::vector<Body>& bodies) {
  // One allocation and two copies (inserting the records after append_le
  // trips GCC 12's -Wstringop-overflow false positive at -O3).
  const uint32_t header[4] = {kWorldMagic, kWorldVersion, static_cast<uint32_t>(bodies.size()), 0};
  static_assert(sizeof(header) == kHeaderBytes && sizeof(Body) == kBodyBytes);
  Bytes out(kHeaderBytes + bodies.size() * kBodyBytes);
  std::memcpy(out.data(), header, kHeaderBytes);  // host order, as append_le
  if (!bodies.empty())
    std::memcpy(out.data() + kHeaderBytes, bodies.data(), bodies.size() * kBodyBytes);
  return out;
}

Bytes generate_world(const Config& config, uint64_t seed) {
  Rng rng(seed);
  // A partial Fisher-Yates shuffle picks `bodies` distinct cells.
  std::vector<uint32_t> cells(config.cells());
  for (uint32_t c = 0; c < cells.size(); ++c) cells[c] = c;
  std::vector<Body> bodies(config.bodies);
  const int64_t span = kOne - 2 * int64_t{config.radius};
  const int64_t v0 = config.max_speed / 4;
  for (uint32_t i = 0; i < config.bodies; ++i) {
    const uint64_t pick = i + rng.below(cells.size() - i);
    std::swap(cells[i], cells[pick]);
    const uint32_t cell[3] = {cells[i] % config.grid, cells[i] / config.grid % config.grid,
                              cells[i] / (config.grid * config.grid)};
    for (int a = 0; a < 3; ++a) {
      bodies[i].p[a] =
          static_cast<int32_t>(int64_t{cell[a]} * kOne + config.radius + rng.between(0, span));
    }
    for (int a = 0; a < 3; ++a) bodies[i].v[a] = static_cast<int32_t>(rng.between(-v0, v0));
  }
  return world_blob(bodies);
}

namespace {

uint32_t read_u32(ByteView bytes, size_t offset) {
  uint32_t v;
  std::memcpy(&v, bytes.data() + offset, 4);
  return v;
}

std::string units(int64_t q) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.6f", static_cast<double>(q) / kOne);
  return buf;
}

}  // namespace

Status check_world_geometry(const Config& config, ByteView world) {
  if (world.size() < kHeaderBytes) {
    return invalid_argument("world blob is " + std::to_string(world.size()) +
                            " bytes, shorter than its 16-byte header");
  }
  if (read_u32(world, 0) != kWorldMagic) {
    return invalid_argument("world blob does not start with the 'PHYW' magic");
  }
  if (read_u32(world, 4) != kWorldVersion) {
    return invalid_argument("world blob has format version " + std::to_string(read_u32(world, 4)) +
                            ", this kernel reads version " + std::to_string(kWorldVersion));
  }
  if (read_u32(world, 8) != config.bodies) {
    return invalid_argument("world blob holds " + std::to_string(read_u32(world, 8)) +
                            " bodies, the parameters say " + std::to_string(config.bodies));
  }
  if (read_u32(world, 12) != 0)
    return invalid_argument("world blob header: reserved word is not 0");
  const uint64_t expected = kHeaderBytes + kBodyBytes * config.bodies;
  if (world.size() != expected) {
    return invalid_argument("world blob is " + std::to_string(world.size()) + " bytes, expected " +
                            std::to_string(expected) + " for " + std::to_string(config.bodies) +
                            " bodies");
  }
  const auto bodies = bodies_of(world);
  const int32_t lo = config.radius, hi = config.box() - config.radius;
  for (uint32_t i = 0; i < bodies.size(); ++i) {
    for (int a = 0; a < 3; ++a) {
      if (bodies[i].p[a] < lo || bodies[i].p[a] > hi) {
        return invalid_argument("body " + std::to_string(i) + ": coordinate " +
                                units(bodies[i].p[a]) + " is outside [" + units(lo) + ", " +
                                units(hi) + "] (the box less a radius)");
      }
    }
  }
  return Status::Ok();
}

Status check_world(const Config& config, ByteView world) {
  P2C2R_RETURN_IF_ERROR(check_world_geometry(config, world));
  const auto bodies = bodies_of(world);
  std::vector<uint32_t> occupancy(config.cells(), 0);
  for (uint32_t i = 0; i < bodies.size(); ++i) {
    const Body& b = bodies[i];
    for (int a = 0; a < 3; ++a) {
      if (b.v[a] < -config.max_speed || b.v[a] > config.max_speed) {
        return invalid_argument("body " + std::to_string(i) + ": velocity component " +
                                units(b.v[a]) + " exceeds max_speed " + units(config.max_speed));
      }
    }
    const uint32_t cell = ((static_cast<uint32_t>(b.p[2] >> 16) * config.grid) +
                           static_cast<uint32_t>(b.p[1] >> 16)) *
                              config.grid +
                          static_cast<uint32_t>(b.p[0] >> 16);
    if (++occupancy[cell] > config.cell_cap) {
      return invalid_argument("world is too crowded: cell " + std::to_string(cell) +
                              " holds more than cell_cap=" + std::to_string(config.cell_cap) +
                              " bodies");
    }
  }
  return Status::Ok();
}

Status write_world_csv(ByteView world, const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "w"), &std::fclose);
  if (world.size() < kHeaderBytes || (world.size() - kHeaderBytes) % kBodyBytes != 0) {
    return invalid_argument("not a world blob: " + std::to_string(world.size()) + " bytes");
  }
  if (!file) return unavailable("cannot write " + path);
  std::fprintf(file.get(), "id,x,y,z,vx,vy,vz\n");
  const auto bodies = bodies_of(world);
  for (size_t i = 0; i < bodies.size(); ++i) {
    const Body& b = bodies[i];
    std::fprintf(file.get(), "%zu,%s,%s,%s,%s,%s,%s\n", i, units(b.p[0]).c_str(),
                 units(b.p[1]).c_str(), units(b.p[2]).c_str(), units(b.v[0]).c_str(),
                 units(b.v[1]).c_str(), units(b.v[2]).c_str());
  }
  if (std::ferror(file.get())) return unavailable("cannot write " + path);
  return Status::Ok();
}

}  // namespace p2c2r::kernels::physics
