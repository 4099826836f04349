// The physics kernel: N fixed-point steps of a box of rigid spheres (gravity,
// sphere-sphere and sphere-wall contacts with restitution and friction), with
// a uniform-grid broad phase rebuilt every step; with actions=1, a game
// frame's NPC actions push their bodies first. See docs/kernels/physics.md.
#include "kernels/physics/actions.h"
#include "kernels/physics/simulate.h"
#include "kernels/physics/world.h"
#include "kernels/registry.h"
#include "physics_bin.spv.h"
#include "physics_contacts.spv.h"
#include "physics_pack.spv.h"
#include "physics_scan.spv.h"
#include "physics_scatter.spv.h"
#include "physics_solve.spv.h"

namespace p2c2r::kernels {
namespace {

using physics::Config;

constexpr uint32_t kPushBytes = 40;
enum ShaderIndex : uint32_t { kBin, kScan, kScatter, kContacts, kSolve, kPack };
// Bodies live on the device as 32-byte records (position and velocity quads
// side by side), so that each pass reads or writes a body with one access
// (lavapipe pays per access, not per component): kBody in id order, kSorted
// in slot (cell, then id) order.
enum BufferIndex : uint32_t {
  kHeader,
  kState,
  kBody,
  kCountEven,
  kCountOdd,
  kStarts,
  kSorted,
  kContactList
};

Bytes push_of(const Config& c) {
  return push_words({c.bodies, c.grid, uint32_t(c.radius), uint32_t(c.dt), uint32_t(c.gravity_dt),
                     uint32_t(c.restitution), uint32_t(c.friction), uint32_t(c.max_speed),
                     uint32_t(c.rest_speed), c.cell_cap});
}

class PhysicsKernel final : public Kernel {
 public:
  std::string name() const override { return "physics"; }
  uint32_t version() const override { return 1; }
  std::string family() const override { return "physics"; }
  std::string description() const override {
    return "N fixed-point steps of rigid spheres in a box: gravity, sphere-sphere and wall "
           "contacts with restitution and friction, uniform-grid broad phase";
  }
  std::vector<Shader> shaders() const override {
    auto with = [](uint32_t bindings) { return ShaderInterface{bindings, kPushBytes}; };
    return {{"physics_bin", physics_bin_spv, with(3)},
            {"physics_scan", physics_scan_spv, with(2)},
            {"physics_scatter", physics_scatter_spv, with(4)},
            {"physics_contacts", physics_contacts_spv, {4, kPushBytes, 0b1001}},
            {"physics_solve", physics_solve_spv, {5, kPushBytes, 0b10011}},
            {"physics_pack", physics_pack_spv, with(2)}};
  }
  std::vector<ParamSpec> param_specs() const override {
    constexpr int64_t one = physics::kOne;
    return {
        {"bodies", 1, 65536, 8192, "number of spheres (at most grid^3)"},
        {"steps", 1, 1024, 32, "simulation steps"},
        {"grid", 2, 64, 24, "cells per box side; the box is grid x grid x grid units"},
        {"radius", one / 4, one / 2, one / 4, "sphere radius, Q16.16 units (1/4 .. 1/2)"},
        {"dt", one / 1024, one / 8, one / 64, "seconds per step, Q16.16"},
        {"gravity", 0, 64 * one, 642253, "gravity along -z, Q16.16 units/s^2 (default 9.8)"},
        {"restitution", 0, one, 52429, "coefficient of restitution, Q16.16 (default 0.8)"},
        {"friction", 0, 2 * one, 19661, "Coulomb friction coefficient, Q16.16 (default 0.3)"},
        {"max_speed", one, 64 * one, 16 * one,
         "speed limit per velocity component, Q16.16 units/s; max_speed*dt <= radius"},
        {"cell_cap", 4, 32, 16, "bodies per cell taking part in contacts (lowest ids first)"},
        {"actions", 0, 1, 0,
         "1: a second input, an nn unit's output, whose actions push bodies 0..npc_count-1"},
        {"npc_count", 1, 8192, 64, "NPCs in the actions input (its nn batch; at most bodies)"},
        {"npc_actions", 2, 256, 16, "actions per NPC in the actions input (its nn actions)"},
        {"action_speed", 0, 64 * one, 2 * one,
         "velocity change of one action, Q16.16 units/s (default 2)"},
    };
  }
  std::vector<std::string> input_names() const override { return {"world"}; }
  std::vector<std::string> input_names_for(const Params& p) const override {
    if (takes_actions(p)) return {"world", "actions"};
    return input_names();
  }

  Result<std::vector<Bytes>> generate_inputs(const Params& p) const override {
    std::vector<Bytes> inputs{physics::generate_world(physics::config_from(p), p.seed)};
    if (takes_actions(p)) inputs.push_back(physics::generate_actions(p, p.seed));
    return inputs;
  }
  Status check_inputs(const Params& p, const std::vector<Bytes>& inputs) const override {
    const auto names = input_names_for(p);
    if (inputs.size() != names.size()) {
      return invalid_argument("physics takes " + std::to_string(names.size()) +
                              " input blob(s) (world" + (takes_actions(p) ? ", actions" : "") +
                              "), got " + std::to_string(inputs.size()));
    }
    P2C2R_RETURN_IF_ERROR(
        physics::check_world(physics::config_from(p), inputs[0]).with_context("input 'world'"));
    if (!takes_actions(p)) return Status::Ok();
    return physics::check_actions(p, inputs[1]).with_context("input 'actions'");
  }

  Result<Bytes> reference(const Params& p, const std::vector<Bytes>& inputs,
                          unsigned threads) const override {
    P2C2R_ASSIGN_OR_RETURN(const Bytes world, start_world(p, inputs));
    const Config c = physics::config_from(p);
    return physics::world_blob(physics::simulate(c, physics::bodies_of(world), threads));
  }

  Result<Plan> plan(const Params& p, const std::vector<Bytes>& inputs,
                    uint32_t local_size) const override {
    P2C2R_ASSIGN_OR_RETURN(const Bytes start, start_world(p, inputs));
    const Config c = physics::config_from(p);
    const uint64_t n = c.bodies, cells = c.cells();
    const ByteView world = start;
    // Whole eights of cells plus one zero eight, read eight cells at a time;
    // the starts of whole eights of cells, written two at a time.
    const uint64_t eights = (cells + 7) / 8;
    const uint64_t count_bytes = (eights + 1) * 32;
    Plan plan;
    plan.buffers = {
        {physics::kHeaderBytes, Bytes(world.begin(), world.begin() + physics::kHeaderBytes)},
        {n * physics::kBodyBytes, Bytes(world.begin() + physics::kHeaderBytes, world.end())},
        {n * 32, {}},                         // by id: x, y, z, cell, vx, vy, vz, 0
        {count_bytes, {}},                    // bodies per cell, counted at even steps
        {count_bytes, {}},                    // ... and at odd steps
        {eights * 8 * 16, {}},                // starts: s[c], s[c+1], s[c+2], s[c+3]
        {n * 32, {}},                         // by slot: x, y, z, id, vx, vy, vz, k
        {n * physics::kMaxContacts * 4, {}},  // contact list per slot
    };
    const Bytes push = push_of(c);
    const std::array<uint32_t, 3> per_body{groups_for(n, local_size), 1, 1};
    plan.dispatches.push_back({kBin, {kState, kBody, kCountEven}, push, per_body});
    for (uint32_t step = 0; step < c.steps; ++step) {
      // Step s reads the counts binned by step s-1 (or kBin), counting them
      // back down to zero, and bins the new state into the other buffer,
      // zeroed the same way one step earlier.
      const uint32_t count = step % 2 == 0 ? kCountEven : kCountOdd;
      const uint32_t next_count = step % 2 == 0 ? kCountOdd : kCountEven;
      plan.dispatches.push_back({kScan, {count, kStarts}, push, {1, 1, 1}});
      plan.dispatches.push_back({kScatter, {kBody, kStarts, count, kSorted}, push, per_body});
      plan.dispatches.push_back(
          {kContacts, {kStarts, kSorted, kContactList, kSorted}, push, per_body});
      plan.dispatches.push_back(
          {kSolve, {kSorted, kContactList, kBody, next_count, kStarts}, push, per_body});
    }
    plan.dispatches.push_back({kPack, {kBody, kState}, push, per_body});
    plan.outputs = {kHeader, kState};
    return plan;
  }

  // Per body-step: the grid passes (~40 ops), two sweeps of the 27 cells
  // around the body (~12 ops per candidate) and ~150 ops per contact solved,
  // with the candidate count taken from the mean cell occupancy.
  uint64_t cost(const Params& p) const override {
    const Config c = physics::config_from(p);
    const uint64_t occupancy =
        std::min<uint64_t>(c.cell_cap, (c.bodies + c.cells() - 1) / c.cells());
    const uint64_t candidates = 27 * occupancy;
    return uint64_t{c.steps} * c.bodies * (40 + 2 * 12 * candidates + 150 * occupancy);
  }
  double work_items(const Params& p) const override {
    return double(p.get("bodies")) * double(p.get("steps"));
  }
  std::string work_unit_name() const override { return "body-steps"; }
  std::map<std::string, int64_t> small_params() const override {
    // Dense (half the cells filled, large spheres) and fast, so a few steps
    // see sphere-sphere contacts, wall bounces and friction.
    return {{"bodies", 500},   {"steps", 12}, {"grid", 10},
            {"radius", 29491}, {"dt", 2048},  {"max_speed", 12 * physics::kOne}};
  }

  Result<std::string> write_output(const Params&, ByteView output,
                                   const std::string& path) const override {
    P2C2R_RETURN_IF_ERROR(physics::write_world_csv(output, path));
    return std::string("CSV (id,x,y,z,vx,vy,vz)");
  }

 protected:
  Status check_params(const Params& p) const override {
    if (takes_actions(p)) P2C2R_RETURN_IF_ERROR(physics::check_npc_count(p));
    const Config c = physics::config_from(p);
    if (uint64_t{c.bodies} > c.cells()) {
      return invalid_argument("bodies=" + std::to_string(c.bodies) +
                              " exceeds grid^3=" + std::to_string(c.cells()) +
                              " (at most one sphere per cell at start)");
    }
    if ((int64_t{c.max_speed} * c.dt) >> 16 > c.radius) {
      return invalid_argument(
          "max_speed*dt exceeds radius: a sphere could pass through another in one step");
    }
    return Status::Ok();
  }

 private:
  static bool takes_actions(const Params& p) { return p.get("actions") == 1; }

  // The world the first step starts from, for the reference and the plan
  // alike: the input world, pushed by the NPCs' actions when it takes them.
  Result<Bytes> start_world(const Params& p, const std::vector<Bytes>& inputs) const {
    P2C2R_RETURN_IF_ERROR(check_inputs(p, inputs));
    if (!takes_actions(p)) return inputs[0];
    return physics::apply_actions(inputs[0], inputs[1], p);
  }
};

}  // namespace

void register_physics_kernels(Registry& registry) {
  registry.add(std::make_unique<PhysicsKernel>());
}

}  // namespace p2c2r::kernels
