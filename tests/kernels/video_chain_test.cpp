// The video kernel continuing a stream (continues = k): a unit's frame 0 is a
// P-frame against the last frame of the k units before it, whose outputs are
// its last k inputs. Cutting a stream into such units changes nothing a
// viewer sees: the frames decode exactly as one unit coding them all. The
// device matches the reference byte for byte, and a bad reference chain is
// refused before anything runs.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/digest.h"
#include "kernels/registry.h"
#include "kernels/video/decoder.h"
#include "kernels/video/stream.h"
#include "kernels/video/tiles.h"
#include "runtime/execute.h"
#include "tests/support/kernels.h"
#include "tests/support/subprocess.h"

namespace p2c2r {
namespace {

using kernels::video::decode_video;
using kernels::video::DecodedVideo;

const kernels::Kernel& video() { return testing::kernel("video"); }

kernels::Params params(std::map<std::string, int64_t> given) {
  given.emplace("width", 64);
  given.emplace("height", 48);
  given.emplace("quality", 60);
  given.emplace("search", 4);
  auto p = video().resolve_params(5, given);
  EXPECT_TRUE(p.ok()) << p.status().to_string();
  return *p;
}

// Frames [first, first + count) of a 3-frame seeded sequence, as one blob.
Bytes frames_of(const Bytes& all, uint32_t first, uint32_t count) {
  const uint64_t frame = 64 * 48 * 4;
  return Bytes(all.begin() + first * frame, all.begin() + (first + count) * frame);
}

Bytes encode(const kernels::Params& p, const std::vector<Bytes>& inputs) {
  auto out = video().reference(p, inputs, 2);
  EXPECT_TRUE(out.ok()) << out.status().to_string();
  return out.ok() ? *out : Bytes{};
}

uint32_t word(const Bytes& b, size_t i) {
  return uint32_t(b[4 * i]) | uint32_t(b[4 * i + 1]) << 8 | uint32_t(b[4 * i + 2]) << 16 |
         uint32_t(b[4 * i + 3]) << 24;
}

class VideoChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto all = video().generate_inputs(params({{"frames", 3}}));
    ASSERT_TRUE(all.ok());
    sequence_ = (*all)[0];
    // One unit per frame: A self-contained, B continuing A, C continuing A and B.
    a_ = encode(params({{"frames", 1}}), {frames_of(sequence_, 0, 1)});
    b_ = encode(params({{"frames", 1}, {"continues", 1}}), {frames_of(sequence_, 1, 1), a_});
    c_ = encode(params({{"frames", 1}, {"continues", 2}}), {frames_of(sequence_, 2, 1), a_, b_});
  }
  Bytes sequence_, a_, b_, c_;
};

TEST_F(VideoChainTest, UnitsContinuingEachOtherDecodeLikeOneUnitCodingEveryFrame) {
  const Bytes whole = encode(params({{"frames", 3}}), {sequence_});
  auto one = decode_video(whole);
  ASSERT_TRUE(one.ok()) << one.status().to_string();

  auto a = decode_video(a_);
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  auto b = decode_video(b_, &*a);
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  auto c = decode_video(c_, &*b);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_FALSE(a->continued);
  EXPECT_TRUE(b->continued);
  EXPECT_TRUE(c->continued);
  // Same reconstruction to predict from, same search: the same frames, and
  // the P-frames cost exactly what they cost inside one unit.
  const DecodedVideo* units[] = {&*a, &*b, &*c};
  for (uint32_t f = 0; f < 3; ++f) {
    EXPECT_EQ(units[f]->y[0], one->y[f]) << "frame " << f;
    EXPECT_EQ(units[f]->cb[0], one->cb[f]) << "frame " << f;
    EXPECT_EQ(units[f]->cr[0], one->cr[f]) << "frame " << f;
    EXPECT_EQ(units[f]->frame_bits[0], one->frame_bits[f]) << "frame " << f;
  }
  // A P-frame, cheaper than the I-frame.
  EXPECT_LT(b->frame_bits[0], a->frame_bits[0]);
  // Format version 4, with the predecessor's checksum in header word 9.
  EXPECT_EQ(word(a_, 1), kernels::video::kFormatVersion);
  EXPECT_EQ(word(b_, 1), kernels::video::kContinuedFormatVersion);
  EXPECT_EQ(word(b_, 1), 4u);
  EXPECT_EQ(word(b_, 9), a->last_checksum());
  auto chain = kernels::video::decode_chain({a_, b_, c_});
  ASSERT_TRUE(chain.ok()) << chain.status().to_string();
  EXPECT_EQ(chain->y[0], one->y[2]);
}

TEST_F(VideoChainTest, GeneratedInputsAreTheStreamCutIntoUnits) {
  const kernels::Params p = params({{"frames", 1}, {"continues", 2}});
  auto inputs = video().generate_inputs(p);
  ASSERT_TRUE(inputs.ok()) << inputs.status().to_string();
  ASSERT_EQ(inputs->size(), 3u);
  EXPECT_EQ(video().input_names_for(p).size(), 3u);
  EXPECT_EQ((*inputs)[0], frames_of(sequence_, 2, 1));
  EXPECT_EQ((*inputs)[1], a_);
  EXPECT_EQ((*inputs)[2], b_);
  EXPECT_EQ(encode(p, *inputs), c_);
}

TEST_F(VideoChainTest, DeviceMatchesTheReferenceForAContinuedUnit) {
  auto device = runtime::open_device("");
  ASSERT_TRUE(device.ok()) << device.status().to_string();
  // Whole frames, two frames after a two-unit chain; and tiles, as a game sends them.
  const kernels::Params whole = params({{"frames", 2}, {"continues", 2}});
  const kernels::Params tiled =
      params({{"frames", 1}, {"continues", 2}, {"tiles_x", 3}, {"tiles_y", 2}});
  for (const kernels::Params& p : {whole, tiled}) {
    auto inputs = video().generate_inputs(p);
    ASSERT_TRUE(inputs.ok()) << inputs.status().to_string();
    const Bytes expected = encode(p, *inputs);
    ASSERT_FALSE(expected.empty());
    for (uint32_t local_size : {32u, 64u}) {
      auto run = runtime::execute_unit(**device, video(), p, *inputs, local_size);
      ASSERT_TRUE(run.ok()) << run.status().to_string();
      EXPECT_EQ(run->output, expected) << "local size " << local_size;
    }
    // Compact: a continuing unit downloads these bytes, not the padded layout.
    const kernels::video::StreamLayout padded{{64, 48}, p.u32("frames"), true};
    EXPECT_LT(expected.size() * 10, padded.padded_bytes());
  }
}

TEST_F(VideoChainTest, SameDigestAcrossLavapipeConfigurations) {
  const kernels::Params p = params({{"frames", 2}, {"continues", 1}});
  auto inputs = video().generate_inputs(p);
  ASSERT_TRUE(inputs.ok());
  const std::string expected = digest_of(encode(p, *inputs)).hex();
  std::string flags;
  for (const auto& [name, value] : p.values)
    flags += " --param " + name + "=" + std::to_string(value);
  for (const char* env : {"LP_NATIVE_VECTOR_WIDTH=128 LP_NUM_THREADS=1",
                          "LP_NATIVE_VECTOR_WIDTH=256 LP_NUM_THREADS=2"}) {
    const auto result =
        testing::run_command(std::string("env ") + env + " " + testing::p2c2r_command() +
                             " run video --seed 5 --no-reference --pipeline-cache "
                             "'' --json" +
                             flags);
    ASSERT_EQ(result.exit_code, 0) << env << "\n" << result.out;
    EXPECT_EQ(nlohmann::json::parse(result.out)["digest"], expected) << env;
  }
}

TEST_F(VideoChainTest, BadReferenceStreamsAreRefusedBeforeAnyDispatch) {
  auto device = runtime::open_device("");
  ASSERT_TRUE(device.ok()) << device.status().to_string();
  const kernels::Params p = params({{"frames", 1}, {"continues", 2}});
  const Bytes frame = frames_of(sequence_, 2, 1);
  auto expect_refused = [&](const std::vector<Bytes>& inputs, const std::string& words) {
    for (const Status& s :
         {video().check_inputs(p, inputs), video().reference(p, inputs, 1).status(),
          video().plan(p, inputs, 64).status(),
          runtime::execute_unit(**device, video(), p, inputs).status()}) {
      EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.to_string();
      EXPECT_NE(s.message().find(words), std::string::npos) << s.to_string();
    }
  };
  expect_refused({frame, a_}, "expected 3 inputs (1 of frames, 2 reference streams), got 2");
  expect_refused({frame, Bytes{1, 2, 3}, b_}, "stream 1 of 2: video stream: shorter than");
  Bytes truncated = b_;
  truncated.resize(truncated.size() - 4);
  expect_refused({frame, a_, truncated}, "stream 2 of 2: video stream:");
  // A chain starts with a self-contained stream; out of order, B meets C's
  // frame where it was coded against A's.
  expect_refused({frame, b_, b_}, "stream 1 of 2: video stream: continues another stream");
  expect_refused({frame, c_, b_}, "stream 1 of 2: video stream: continues another stream");
  const Bytes a_again = encode(params({{"frames", 1}}), {frames_of(sequence_, 1, 1)});
  expect_refused({frame, a_again, b_},
                 "stream 2 of 2: video stream: the stream before it does not end in the frame it "
                 "was coded against");
  // A stream of another size or quality.
  const Bytes other_quality =
      encode(params({{"frames", 1}, {"quality", 61}}), {frames_of(sequence_, 0, 1)});
  expect_refused({frame, other_quality, b_},
                 "stream 2 of 2: video stream: continues a 64x48 quality 60 stream, but the stream "
                 "before it is 64x48 quality 61");
  const Bytes q61_chain = encode(params({{"frames", 1}, {"quality", 61}, {"continues", 1}}),
                                 {frames_of(sequence_, 1, 1), other_quality});
  expect_refused({frame, other_quality, q61_chain}, "this unit codes 64x48 quality 60");
}

TEST_F(VideoChainTest, AContinuedStreamNeedsTheRightPredecessorToDecode) {
  auto missing = decode_video(b_);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("decode it after the stream it continues"),
            std::string::npos);
  auto b = decode_video(b_, &*decode_video(a_));
  ASSERT_TRUE(b.ok());
  auto wrong = decode_video(b_, &*b);  // B's own frame is not what B was coded against
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("checksum mismatch"), std::string::npos);
}

TEST_F(VideoChainTest, WriteOutputShowsAContinuedUnitAfterItsPredecessors) {
  const auto dir = std::filesystem::temp_directory_path() / "p2c2r_video_chain_test";
  std::filesystem::create_directories(dir);
  const kernels::Params p = params({{"frames", 1}, {"continues", 2}});
  EXPECT_EQ(video().continued_outputs(p), 2u);
  auto shown = video().write_continued_output(p, {a_, b_}, c_, (dir / "c.png").string());
  ASSERT_TRUE(shown.ok()) << shown.status().to_string();
  EXPECT_NE(shown->find("continuing the unit before"), std::string::npos) << *shown;
  EXPECT_TRUE(std::filesystem::exists(dir / "c.png"));
  // `p2c2r run` has no predecessors: the seed's references are what it coded against.
  auto run = video().write_output(p, c_, (dir / "run.png").string());
  ASSERT_TRUE(run.ok()) << run.status().to_string();
  auto wrong = video().write_continued_output(p, {b_}, c_, (dir / "bad.png").string());
  EXPECT_FALSE(wrong.ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace p2c2r
