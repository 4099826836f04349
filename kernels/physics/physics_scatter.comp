#version 450
// Broad phase: each body takes a slot in its cell's range by counting its
// cell's count back down (which also leaves the count buffer zeroed for
// physics_solve.comp two steps on), and copies its old state there as a
// (x, y, z, id, vx, vy, vz, 0) record, so neighbours are read cell by cell
// with one load per record. Which slot inside its cell a body gets comes
// from an atomic, so the order inside a cell is not deterministic: every
// later pass depends only on the set of bodies in a cell, never on their
// order (physics_contacts.comp ranks by id where the reference's id order
// matters).
#extension GL_GOOGLE_include_directive : require
#include "physics_common.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Body { u64vec4 r[]; } body;
layout(std430, set = 0, binding = 1) readonly buffer Starts { uvec4 s[]; } starts;
layout(std430, set = 0, binding = 2) buffer Count { uint n[]; } count;
layout(std430, set = 0, binding = 3) writeonly buffer Sorted { u64vec4 r[]; } sorted;

void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i >= pc.bodies) return;
  u64vec4 r = body.r[i];
  ivec4 p = first_quad(r);
  uint c = uint(p.w);
  uint slot = starts.s[c].x + atomicAdd(count.n[c], 0xffffffffu) - 1u;
  if (slot >= pc.bodies) return;
  sorted.r[slot] = record(ivec4(p.xyz, int(i)), ivec4(second_quad(r).xyz, 0));
}
