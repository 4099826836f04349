// A game workload run through the coordinator by a peer that computes every
// unit with the kernels' CPU references: what flows between the units is real
// data. Frame f's physics is sent the world before it (frame 0's is
// generated) and frame f's AI output, whose actions push the NPCs' bodies.
// Frame f's ray-traced tiles are sent frame f's validated physics
// world and draw it; frame f's video unit is sent the validated outputs of
// frame f's tiles, in tile order, then the video outputs of the frames
// before it back to the keyframe: its stream continues theirs with a P-frame
// and decodes, after them, to its tiles.
#include <optional>
#include <set>

#include "common/tile_grid.h"
#include "kernels/video/decoder.h"
#include "kernels/video/tiles.h"
#include "tests/server/coordinator_fixture.h"
#include "tests/support/game_params.h"

namespace p2c2r::server {
namespace {

class GameFlowTest : public CoordinatorTest {
 protected:
  Peer register_game_peer() {
    return register_peer("gamer", testing::game_kernel_speeds(registry_, 0.1));
  }

  Bytes fetch(const Peer& p, const std::string& digest) {
    Reply r =
        call([&](Respond done) { coord_->fetch_blob(p.id, digest, nullptr, std::move(done)); });
    EXPECT_EQ(r.status, 200) << r.body;
    const ByteView body = bytes_of(r.body);
    return Bytes(body.begin(), body.end());
  }

  // Runs the assignment with the CPU reference, reports it and uploads the
  // output when asked. Returns the output.
  Bytes compute_and_report(const Peer& p, const wire::Assignment& work,
                           std::vector<Bytes>* inputs_out) {
    const wire::Manifest& m = work.manifest;
    const kernels::Kernel* k = *registry_.find(m.kernel);
    auto params = k->resolve_params(m.seed, m.params);
    EXPECT_TRUE(params.ok()) << params.status().to_string();
    std::vector<Bytes> inputs;
    for (const auto& digest : m.inputs) inputs.push_back(fetch(p, digest));
    auto out = k->reference(*params, inputs, 2);
    EXPECT_TRUE(out.ok()) << m.kernel << ": " << out.status().to_string();
    Reply r = report(p, work.replica_id, digest_of(*out).hex());
    EXPECT_EQ(r.status, 200) << r.body;
    if (wire::parse<wire::ReportReply>(r.body)->want_output) {
      EXPECT_EQ(upload(p, work.replica_id, *out).status, 200);
    }
    if (inputs_out != nullptr) *inputs_out = std::move(inputs);
    return *out;
  }
};

TEST_F(GameFlowTest, TilesDrawTheirFramesWorldAndTheVideoEncodesThem) {
  Peer peer = register_game_peer();
  wire::WorkloadSpec spec;
  spec.kind = "game";
  spec.name = "tiles to video";
  spec.replication.min_quorum = 1;
  spec.replication.target_nresults = 1;
  spec.game = wire::GameSpec{
      .frames = 3,
      .tiles = 4,
      .seed = 9,
      .stage_params = {{"ai", testing::small_ai_params(registry_)},
                       // Small and fast, within the 64 bodies a frame can draw.
                       {"physics",
                        {{"bodies", 32},
                         {"steps", 12},
                         {"grid", 5},
                         {"radius", 29491},
                         {"dt", 2048},
                         {"max_speed", 12 << 16}}},
                       {"raytrace", {{"samples", 1}, {"max_depth", 1}, {"mesh_detail", 0}}},
                       {"video", {{"width", 48}, {"height", 32}}}}};
  Reply submitted = call([&](Respond done) { coord_->submit(spec, std::move(done)); });
  ASSERT_EQ(submitted.status, 200) << submitted.body;
  const uint64_t id = wire::parse<wire::WorkloadStatus>(submitted.body)->id;

  std::map<uint64_t, Bytes> outputs;  // by unit id
  std::map<uint64_t, Bytes> worlds;   // physics outputs, by unit id
  std::set<std::string> drawn;        // digests of the worlds the tiles were sent
  uint32_t videos = 0, tiles_seen = 0, ai_observing = 0, physics_acting = 0;
  std::vector<Bytes> streams;                            // the video units' outputs, in frame order
  std::optional<kernels::video::DecodedVideo> previous;  // the last one, decoded
  for (int step = 0; step < 60; ++step) {
    auto work = request(peer);
    if (!work) break;
    std::vector<Bytes> inputs;
    const Bytes out = compute_and_report(peer, *work, &inputs);
    const uint64_t unit = work->manifest.unit_id;
    if (work->manifest.kernel == "physics") {
      // Its frame's AI unit is the one before it in plan order.
      ASSERT_EQ(inputs.size(), 2u);
      ASSERT_TRUE(outputs.count(unit - 1)) << "physics unit " << unit << " ran before its AI";
      EXPECT_EQ(inputs[1], outputs[unit - 1]) << "physics unit " << unit << " is sent the actions";
      if (!worlds.empty()) {
        EXPECT_EQ(inputs[0], worlds.rbegin()->second) << "and the previous frame's world";
      }
      EXPECT_EQ(work->manifest.params.at("npc_count"), 32) << "one NPC per body";
      auto still = work->manifest.params;
      still["actions"] = 0;
      const kernels::Kernel* k = *registry_.find("physics");
      EXPECT_NE(out, *k->reference(*k->resolve_params(work->manifest.seed, still), {inputs[0]}, 2))
          << "the NPCs' actions act on the world";
      ++physics_acting;
    }
    outputs[unit] = out;
    if (work->manifest.kernel == "physics") worlds[unit] = out;
    if (work->manifest.kernel == "nn_mlp" && !worlds.empty()) {
      // Frame f's AI observes frame f-1's world: the last physics output.
      const Bytes& world = worlds.rbegin()->second;
      EXPECT_EQ(work->manifest.params.at("from_world"), 1);
      EXPECT_EQ(work->manifest.params.at("batch"), 32) << "one NPC per body";
      ASSERT_EQ(inputs.size(), 2u);
      EXPECT_EQ(inputs[1], world) << "AI unit " << unit << " is sent the previous frame's world";
      ++ai_observing;
    }
    if (work->manifest.kernel == "raytrace") {
      // Its frame's physics unit is the last one before it in plan order.
      auto physics = worlds.lower_bound(unit);
      ASSERT_NE(physics, worlds.begin()) << "tile unit " << unit << " ran before its physics";
      --physics;
      EXPECT_EQ(work->manifest.inputs, std::vector<std::string>{digest_of(physics->second).hex()})
          << "tile unit " << unit << " is sent its frame's world";
      EXPECT_EQ(inputs, std::vector<Bytes>{physics->second});
      EXPECT_EQ(work->manifest.params.at("from_world"), 1);
      drawn.insert(work->manifest.inputs.at(0));
      ++tiles_seen;
    }
    if (work->manifest.kernel != "video") continue;
    // A submission's units get consecutive ids in plan order, so this
    // frame's four tiles are the four units before its video; the earlier
    // frames' videos follow them (the default keyframe interval is 8).
    std::vector<std::string> want_digests;
    std::vector<Bytes> tiles;
    for (uint64_t t = unit - 4; t < unit; ++t) {
      ASSERT_TRUE(outputs.count(t)) << "tile unit " << t << " ran before the video";
      want_digests.push_back(digest_of(outputs[t]).hex());
      tiles.push_back(outputs[t]);
    }
    std::vector<Bytes> want_inputs = tiles;
    for (const Bytes& s : streams) {
      want_digests.push_back(digest_of(s).hex());
      want_inputs.push_back(s);
    }
    EXPECT_EQ(work->manifest.inputs, want_digests)
        << "the video's inputs are its tiles, in order, then the stream so far";
    EXPECT_EQ(inputs, want_inputs);
    EXPECT_EQ(work->manifest.params.at("continues"), int64_t(streams.size()));
    const kernels::video::TiledFrames shape{48, 32, 1, tile_grid_for(4)};
    const Bytes frame = kernels::video::assemble_tiles(shape, tiles);
    auto decoded = kernels::video::decode_video(out, previous ? &*previous : nullptr);
    ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
    EXPECT_EQ(decoded->continued, !streams.empty()) << "frame 0 an I-frame, then P-frames";
    auto q = kernels::video::measure_quality(*decoded, frame);
    ASSERT_TRUE(q.ok());
    EXPECT_GT(q->psnr_rgb, 25.0) << "the stream shows the rendered frame";
    streams.push_back(out);
    previous = std::move(*decoded);
    ++videos;
  }
  EXPECT_EQ(videos, 3u);
  EXPECT_EQ(tiles_seen, 12u);
  EXPECT_EQ(ai_observing, 2u) << "frames 1 and 2 observe the world before them";
  EXPECT_EQ(physics_acting, 3u) << "every frame's physics takes its AI's actions";
  EXPECT_EQ(drawn.size(), 3u) << "each frame's tiles draw that frame's (different) world";
  EXPECT_EQ(status(id).state, "done");
}

}  // namespace
}  // namespace p2c2r::server
