// The video stream's compact layout (kernels/video/stream.h): a unit's output
// is the header, the slice lengths and the slices' used words back to back,
// a small fraction of the padded layout the device writes. The device's
// padded output is compacted with clear errors when malformed, and the
// decoder refuses compact streams whose lengths and sizes disagree.
// (Device == reference, continued units included, is checked by the
// conformance and chain tests.)
#include <gtest/gtest.h>

#include <cstring>

#include "kernels/registry.h"
#include "kernels/video/decoder.h"
#include "kernels/video/encoder.h"
#include "kernels/video/stream.h"
#include "tests/support/kernels.h"

namespace p2c2r {
namespace {

namespace video = kernels::video;

const kernels::Kernel& video_kernel() { return testing::kernel("video"); }

kernels::Params params_of(std::map<std::string, int64_t> given) {
  auto p = video_kernel().resolve_params(3, given);
  EXPECT_TRUE(p.ok()) << p.status().to_string();
  return *p;
}

Bytes encode(const kernels::Params& p) {
  auto inputs = video_kernel().generate_inputs(p);
  EXPECT_TRUE(inputs.ok()) << inputs.status().to_string();
  auto stream = video_kernel().reference(p, *inputs, 2);
  EXPECT_TRUE(stream.ok()) << stream.status().to_string();
  return stream.ok() ? *stream : Bytes{};
}

uint32_t word(const Bytes& b, size_t i) {
  uint32_t v;
  std::memcpy(&v, b.data() + 4 * i, 4);
  return v;
}

void set_word(Bytes& b, size_t i, uint32_t v) { std::memcpy(b.data() + 4 * i, &v, 4); }

// A small two-frame stream: 3 slices per frame, header of kHeaderWords.
const kernels::Params& small() {
  static const kernels::Params p = params_of({{"width", 64}, {"height", 48}, {"frames", 2}});
  return p;
}
constexpr size_t kSlices = 6, kLengths = video::kHeaderWords;

std::string refusal(const Bytes& stream) {
  auto decoded = video::decode_video(stream);
  if (decoded.ok()) return "decoded";
  EXPECT_EQ(decoded.status().code(), Code::kInvalidArgument);
  return decoded.status().message();
}

TEST(VideoStreamTest, DefaultUnitOutputIsUnderATenthOfThePaddedLayout) {
  const kernels::Params p = params_of({});  // 320x240, 6 frames
  const Bytes stream = encode(p);
  const video::StreamLayout layout{{320, 240}, 6, false};
  EXPECT_EQ(layout.padded_bytes(), 2311956u);  // what the output was before
  EXPECT_LT(stream.size() * 10, layout.padded_bytes());
  auto decoded = video::decode_video(stream);
  ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
  // Nothing but header, lengths and the used words of each slice.
  uint64_t words = 0;
  for (uint32_t s = 0; s < 6 * 15; ++s) words += video::slice_words(word(stream, kLengths + s));
  EXPECT_EQ(word(stream, 8), words);
  EXPECT_EQ(stream.size(), 4 * (kLengths + 6 * 15 + words));
  EXPECT_LE(decoded->payload_bits, 32 * words);
  EXPECT_GT(decoded->payload_bits + 32 * 6 * 15, 32 * words);
}

TEST(VideoStreamTest, DecoderRefusesSliceLengthsThatOverrunThePayload) {
  const Bytes stream = encode(small());
  ASSERT_EQ(refusal(stream), "decoded");
  Bytes s = stream;
  // Slice 0 claims every payload word and one more; the sum overruns the blob.
  set_word(s, kLengths, 32 * (word(stream, 8) + 1));
  EXPECT_NE(refusal(s).find("slice lengths overrun the payload"), std::string::npos) << refusal(s);
  s = stream;
  set_word(s, kLengths + kSlices - 1, word(stream, kLengths + kSlices - 1) + 64);
  EXPECT_NE(refusal(s).find("overrun the payload"), std::string::npos) << refusal(s);
  s = stream;
  set_word(s, kLengths + 2, 0xFFFFFFFF);
  EXPECT_NE(refusal(s).find("longer than a slice can be"), std::string::npos) << refusal(s);
}

TEST(VideoStreamTest, DecoderRefusesSlicesThatStopShortOfThePayload) {
  const Bytes stream = encode(small());
  // One more payload word, present in the blob but claimed by no slice.
  Bytes s = stream;
  set_word(s, 8, word(stream, 8) + 1);
  s.insert(s.end(), 4, 0);
  EXPECT_NE(refusal(s).find("words before the payload does"), std::string::npos) << refusal(s);
  // A slice shortened by a word: its bits no longer end where the slice does.
  s = stream;
  set_word(s, kLengths, word(stream, kLengths) - 32);
  EXPECT_NE(refusal(s), "decoded");
}

TEST(VideoStreamTest, DecoderRefusesAPayloadSizeThatDisagreesWithTheBlob) {
  const Bytes stream = encode(small());
  Bytes s = stream;
  set_word(s, 8, word(stream, 8) + 1);  // says one word more than there is
  EXPECT_NE(refusal(s).find("header says"), std::string::npos) << refusal(s);
  set_word(s, 8, 0xFFFFFFFF);  // more than any stream of this size can hold
  EXPECT_NE(refusal(s).find("payload size"), std::string::npos) << refusal(s);
  s = stream;
  s.insert(s.end(), 4, 0);  // trailing garbage
  EXPECT_NE(refusal(s).find("header says"), std::string::npos) << refusal(s);
  for (size_t cut : {size_t{4}, size_t{1}, 4 * (kSlices + 1)}) {
    s = Bytes(stream.begin(), stream.end() - cut);
    EXPECT_NE(refusal(s), "decoded") << cut;
  }
}

// What the device writes: the padded header, lengths and regions of zeros
// (every slice empty), which compacts to header and lengths.
Bytes empty_padded(const video::StreamLayout& layout) {
  video::EncodeSettings s{layout.geometry, layout.frames, 75, 8, {}};
  Bytes padded = to_bytes(video::stream_header(s));
  padded.resize(layout.padded_bytes(), 0);
  return padded;
}

TEST(VideoStreamTest, CompactingRefusesAMalformedDeviceOutput) {
  const video::StreamLayout layout{{64, 48}, 2, false};
  const Bytes padded = empty_padded(layout);
  auto compact = video::compact_stream(layout, padded);
  ASSERT_TRUE(compact.ok()) << compact.status().to_string();
  EXPECT_EQ(compact->size(), 4 * (kLengths + kSlices));
  EXPECT_EQ(word(*compact, 8), 0u);

  const uint32_t region = layout.geometry.region_words();
  Bytes bad = padded;
  set_word(bad, kLengths + 3, 32 * region + 1);  // a slice beyond its region
  auto refused = video::compact_stream(layout, bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("slice 3 claims"), std::string::npos)
      << refused.status().to_string();
  set_word(bad, kLengths + 3, 32 * region);  // exactly full is fine
  EXPECT_TRUE(video::compact_stream(layout, bad).ok());

  bad = padded;
  bad.pop_back();
  EXPECT_FALSE(video::compact_stream(layout, bad).ok());
  bad = padded;
  set_word(bad, 8, region + 1);
  EXPECT_FALSE(video::compact_stream(layout, bad).ok());
}

TEST(VideoStreamTest, FinishOutputCompactsTheDeviceLayoutAndRefusesGarbage) {
  const video::StreamLayout layout{{64, 48}, 2, false};
  auto finished = video_kernel().finish_output(small(), empty_padded(layout));
  ASSERT_TRUE(finished.ok()) << finished.status().to_string();
  EXPECT_EQ(finished->size(), 4 * (kLengths + kSlices));
  for (const Bytes& garbage : {Bytes{}, Bytes{1, 2, 3}, Bytes(layout.padded_bytes() + 4, 0xff)}) {
    auto refused = video_kernel().finish_output(small(), garbage);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
  }
}

}  // namespace
}  // namespace p2c2r
