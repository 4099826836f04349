// The video kernel's codec, checked from the outside: what the decoder gets
// back from the reference encoder's bytes, how rate and quality move with the
// parameters, what motion estimation buys, how bad streams are refused, and
// the libjpeg-turbo comparison. (Device == reference is the conformance test's job.)
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "common/rng.h"
#include "kernels/registry.h"
#include "kernels/video/decoder.h"
#include "kernels/video/jpeg_compare.h"
#include "tests/support/kernels.h"

namespace p2c2r {
namespace {

using kernels::video::decode_video;
using kernels::video::DecodedVideo;
using kernels::video::measure_quality;

const kernels::Kernel& video_kernel() { return testing::kernel("video"); }

struct Encoded {
  kernels::Params params;
  Bytes frames;
  Bytes stream;
};

Encoded encode(std::map<std::string, int64_t> given, const Bytes* frames = nullptr) {
  given.emplace("width", 128);
  given.emplace("height", 96);
  given.emplace("frames", 4);
  auto params = video_kernel().resolve_params(7, given);
  EXPECT_TRUE(params.ok()) << params.status().to_string();
  Encoded e{*params, {}, {}};
  if (frames != nullptr) {
    e.frames = *frames;
  } else {
    auto inputs = video_kernel().generate_inputs(e.params);
    EXPECT_TRUE(inputs.ok());
    e.frames = (*inputs)[0];
  }
  auto stream = video_kernel().reference(e.params, {e.frames}, 2);
  EXPECT_TRUE(stream.ok()) << stream.status().to_string();
  e.stream = *stream;
  return e;
}

kernels::video::QualityReport quality_of(const Encoded& e) {
  auto decoded = decode_video(e.stream);
  EXPECT_TRUE(decoded.ok()) << decoded.status().to_string();
  auto q = measure_quality(*decoded, e.frames);
  EXPECT_TRUE(q.ok()) << q.status().to_string();
  return *q;
}

TEST(VideoCodecTest, DecodedFramesReachThePsnrThresholdAtDefaultQuality) {
  const auto e = encode({});
  auto decoded = decode_video(e.stream);
  ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded->width, 128u);
  EXPECT_EQ(decoded->height, 96u);
  EXPECT_EQ(decoded->frames, 4u);
  const auto q = quality_of(e);
  EXPECT_GT(q.psnr_y, 35.0);    // quality 75: luma close to JPEG's usual ~36-40 dB
  EXPECT_GT(q.psnr_rgb, 28.0);  // RGB includes the 4:2:0 chroma loss
  EXPECT_GT(q.bpp, 0.05);
  EXPECT_LT(q.bpp, 4.0);
}

TEST(VideoCodecTest, PsnrRisesAndBitsFallWithQuality) {
  double last_psnr = 0, last_bpp = 0;
  for (int64_t quality : {10, 30, 60, 90}) {
    const auto q = quality_of(encode({{"quality", quality}}));
    EXPECT_GT(q.psnr_y, last_psnr) << "quality " << quality;
    EXPECT_GT(q.bpp, last_bpp) << "quality " << quality;
    last_psnr = q.psnr_y;
    last_bpp = q.bpp;
  }
}

TEST(VideoCodecTest, StaticSequenceMakesPFramesMuchSmallerThanTheIFrame) {
  const auto moving = encode({});
  const uint64_t frame_bytes = 128 * 96 * 4;
  Bytes still;
  for (int f = 0; f < 4; ++f)
    still.insert(still.end(), moving.frames.begin(), moving.frames.begin() + frame_bytes);
  auto decoded = decode_video(encode({}, &still).stream);
  ASSERT_TRUE(decoded.ok());
  for (uint32_t f = 1; f < 4; ++f)
    EXPECT_LT(decoded->frame_bits[f] * 10, decoded->frame_bits[0]) << "frame " << f;
}

TEST(VideoCodecTest, MotionSearchMakesMovingPFramesCheaper) {
  auto without = decode_video(encode({{"search", 0}}).stream);
  auto with = decode_video(encode({{"search", 8}}).stream);
  ASSERT_TRUE(without.ok() && with.ok());
  uint64_t bits_without = 0, bits_with = 0;
  for (uint32_t f = 1; f < 4; ++f)
    bits_without += without->frame_bits[f], bits_with += with->frame_bits[f];
  EXPECT_LT(bits_with, bits_without);
  EXPECT_LT(with->frame_bits[1],
            with->frame_bits[0]);  // a P-frame of the moving scene beats the I-frame
}

TEST(VideoCodecTest, DecoderRefusesTruncatedStreams) {
  const auto e = encode({{"frames", 2}});
  for (size_t size :
       {size_t{0}, size_t{3}, size_t{35}, size_t{36}, e.stream.size() / 2, e.stream.size() - 1}) {
    const auto decoded = decode_video(ByteView(e.stream).first(size));
    EXPECT_FALSE(decoded.ok()) << size;
    EXPECT_EQ(decoded.status().code(), Code::kInvalidArgument);
  }
}

TEST(VideoCodecTest, DecoderRefusesBadHeadersAndLengths) {
  const auto e = encode({{"frames", 2}});
  auto with_word = [&](size_t word, uint32_t value) {
    Bytes s = e.stream;
    std::memcpy(s.data() + 4 * word, &value, 4);
    return decode_video(s);
  };
  EXPECT_FALSE(with_word(0, 0x12345678).ok());  // magic
  EXPECT_FALSE(with_word(1, 99).ok());          // version
  EXPECT_FALSE(with_word(2, 100).ok());         // width not a multiple of 16
  EXPECT_FALSE(with_word(5, 0).ok());           // quality
  EXPECT_FALSE(with_word(9, 0xFFFFFFFF).ok());  // first slice longer than its region
  Bytes s = e.stream;
  uint32_t bits;
  std::memcpy(&bits, s.data() + 36, 4);
  EXPECT_FALSE(with_word(9, bits + 1).ok());  // a length that does not end where the slice does
  EXPECT_FALSE(with_word(9, bits - 1).ok());
}

TEST(VideoCodecTest, DecoderSurvivesRandomCorruption) {
  const auto e = encode({{"frames", 2}, {"width", 64}, {"height", 48}});
  Rng rng(3);
  int refused = 0;
  for (int trial = 0; trial < 300; ++trial) {
    Bytes s = e.stream;
    const int flips = 1 + static_cast<int>(rng.below(8));
    for (int i = 0; i < flips; ++i)
      s[rng.between(36, int64_t(s.size()) - 1)] ^= uint8_t(1 + rng.below(255));
    const auto decoded = decode_video(s);  // must return, never crash or read out of bounds
    if (!decoded.ok()) {
      ++refused;
      EXPECT_EQ(decoded.status().code(), Code::kInvalidArgument);
    }
  }
  EXPECT_GT(refused, 0);
}

TEST(VideoCodecTest, JpegComparisonGivesSaneNumbers) {
  const auto e = encode({});
  auto cmp = kernels::video::compare_with_jpeg(e.stream, e.frames);
  ASSERT_TRUE(cmp.ok()) << cmp.status().to_string();
  EXPECT_GE(cmp->jpeg.quality, 1);
  EXPECT_LE(cmp->jpeg.quality, 100);
  EXPECT_NEAR(cmp->jpeg.psnr_rgb, cmp->ours.psnr_rgb, 2.0);
  EXPECT_GT(cmp->jpeg.bpp, 0.05);
  EXPECT_LT(cmp->jpeg.bpp, 8.0);
  auto high = kernels::video::jpeg_at_quality(128, 96, 4, e.frames, 95);
  auto low = kernels::video::jpeg_at_quality(128, 96, 4, e.frames, 20);
  ASSERT_TRUE(high.ok() && low.ok());
  EXPECT_GT(high->psnr_rgb, low->psnr_rgb);
  EXPECT_GT(high->bpp, low->bpp);
  EXPECT_FALSE(kernels::video::jpeg_at_quality(128, 96, 4, ByteView(e.frames).first(100), 50).ok());
}

TEST(VideoCodecTest, WriteOutputWritesTheLastFrameAsPngAndReportsPsnr) {
  const auto e = encode({});
  const auto path = (std::filesystem::temp_directory_path() / "p2c2r_video_test.png").string();
  auto format = video_kernel().write_output(e.params, e.stream, path);
  ASSERT_TRUE(format.ok()) << format.status().to_string();
  EXPECT_NE(format->find("PSNR"), std::string::npos);
  EXPECT_NE(format->find("bpp"), std::string::npos);
  EXPECT_GT(std::filesystem::file_size(path), 100u);
  std::filesystem::remove(path);
  EXPECT_FALSE(video_kernel().write_output(e.params, ByteView(e.stream).first(40), path).ok());
}

TEST(VideoCodecTest, Y4mHoldsEveryFrame) {
  auto decoded = decode_video(encode({{"frames", 2}}).stream);
  ASSERT_TRUE(decoded.ok());
  const auto path = (std::filesystem::temp_directory_path() / "p2c2r_video_test.y4m").string();
  ASSERT_TRUE(kernels::video::write_y4m(*decoded, path).ok());
  const auto header = std::string("YUV4MPEG2 W128 H96 F25:1 Ip A1:1 C420jpeg XCOLORRANGE=FULL\n");
  EXPECT_EQ(std::filesystem::file_size(path), header.size() + 2 * (6 + 128 * 96 * 3 / 2));
  std::filesystem::remove(path);
}

TEST(VideoCodecTest, RejectsSizesThatAreNotMacroblockMultiples) {
  auto p = video_kernel().resolve_params(1, {{"width", 100}});
  EXPECT_EQ(p.status().code(), Code::kInvalidArgument);
  EXPECT_NE(p.status().message().find("multiples of 16"), std::string::npos);
}

}  // namespace
}  // namespace p2c2r
