#version 450
// The chosen action per NPC: the index of the largest logit, lowest on ties.
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Logits { int values[]; } logits;
layout(std430, set = 0, binding = 1) writeonly buffer Actions { uint values[]; } actions;

layout(push_constant) uniform Push {
  uint batch;
  uint count;
} pc;

void main() {
  uint npc = gl_GlobalInvocationID.x;
  if (npc >= pc.batch) return;
  uint base = npc * pc.count;
  uint best = 0u;
  int best_value = logits.values[base];
  for (uint o = 1u; o < pc.count; ++o) {
    int v = logits.values[base + o];
    if (v > best_value) {
      best = o;
      best_value = v;
    }
  }
  actions.values[npc] = best;
}
