// The supervisor ⇄ executor frame format: round trips, and every kind of
// malformed frame is a clear error, never a crash or an unbounded allocation.
#include "sandbox/protocol.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <thread>

namespace p2c2r::sandbox {
namespace {

using ::testing::HasSubstr;

Frame sample_frame() {
  Frame frame;
  frame.header = {{"type", "unit"}, {"kernel", "peak"}, {"seed", 7}};
  frame.blobs = {Bytes{1, 2, 3}, Bytes{}, Bytes(1000, 0x5A)};
  return frame;
}

Bytes encoded(const Frame& frame) {
  auto bytes = encode_frame(frame);
  EXPECT_TRUE(bytes.ok()) << bytes.status().to_string();
  return *bytes;
}

void put_u32(Bytes& bytes, size_t offset, uint32_t value) {
  std::memcpy(bytes.data() + offset, &value, 4);
}
void put_u64(Bytes& bytes, size_t offset, uint64_t value) {
  std::memcpy(bytes.data() + offset, &value, 8);
}

// A connected socketpair closed on scope exit.
struct Channel {
  int fds[2] = {-1, -1};
  Channel() { EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0); }
  ~Channel() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  void close_writer() {
    ::close(fds[1]);
    fds[1] = -1;
  }
  void send_raw(ByteView bytes) {
    ASSERT_EQ(::write(fds[1], bytes.data(), bytes.size()), ssize_t(bytes.size()));
  }
};

TEST(ProtocolTest, FrameRoundTrips) {
  const Frame frame = sample_frame();
  auto decoded = decode_frame(encoded(frame));
  ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded->header, frame.header);
  EXPECT_EQ(decoded->blobs, frame.blobs);
}

TEST(ProtocolTest, EveryTruncationIsAnError) {
  const Bytes bytes = encoded(sample_frame());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto decoded = decode_frame(ByteView(bytes.data(), n));
    ASSERT_FALSE(decoded.ok()) << "prefix of " << n << " bytes";
    EXPECT_EQ(decoded.status().code(), Code::kInvalidArgument);
    EXPECT_THAT(decoded.status().message(), HasSubstr("truncated")) << n;
  }
}

TEST(ProtocolTest, TrailingBytesAreAnError) {
  Bytes bytes = encoded(sample_frame());
  bytes.push_back(0);
  EXPECT_THAT(decode_frame(bytes).status().message(), HasSubstr("trailing"));
}

TEST(ProtocolTest, HugeHeaderLengthIsRefusedBeforeReading) {
  Bytes bytes = encoded(sample_frame());
  put_u32(bytes, 4, 0xFFFFFFFFu);
  EXPECT_THAT(decode_frame(bytes).status().message(), HasSubstr("exceeds the limit"));
}

TEST(ProtocolTest, HugeBlobLengthIsRefused) {
  Bytes bytes = encoded(sample_frame());
  put_u64(bytes, kFramePrefixSize, ~0ull);
  EXPECT_THAT(decode_frame(bytes).status().message(), HasSubstr("blob 0 declares"));
}

TEST(ProtocolTest, BlobsOverTheTotalLimitAreRefused) {
  FrameLimits limits;
  limits.max_blob_bytes = 100;
  limits.max_total_bytes = 150;
  Frame frame;
  frame.header = {{"type", "unit"}};
  frame.blobs = {Bytes(100), Bytes(100)};
  EXPECT_THAT(encode_frame(frame, limits).status().message(), HasSubstr("total limit"));
  Bytes bytes = encoded(frame);
  EXPECT_THAT(decode_frame(bytes, limits).status().message(), HasSubstr("total limit"));
}

TEST(ProtocolTest, TooManyBlobsAreRefused) {
  Bytes bytes = encoded(sample_frame());
  put_u32(bytes, 8, 1u << 30);
  EXPECT_THAT(decode_frame(bytes).status().message(), HasSubstr("blobs, the limit is"));
}

TEST(ProtocolTest, BadMagicAndReservedFieldAreRefused) {
  Bytes bad_magic = encoded(sample_frame());
  bad_magic[0] ^= 0xFF;
  EXPECT_THAT(decode_frame(bad_magic).status().message(), HasSubstr("magic"));
  Bytes bad_reserved = encoded(sample_frame());
  put_u32(bad_reserved, 12, 1);
  EXPECT_THAT(decode_frame(bad_reserved).status().message(), HasSubstr("reserved"));
}

TEST(ProtocolTest, HeaderMustBeAJsonObjectWithAType) {
  for (const std::string header : {"not json", "[1,2]", "{\"kind\":\"unit\"}", "{\"type\":5}"}) {
    Bytes bytes;
    append_le(bytes, kFrameMagic);
    append_le(bytes, static_cast<uint32_t>(header.size()));
    append_le(bytes, uint32_t{0});
    append_le(bytes, uint32_t{0});
    bytes.insert(bytes.end(), header.begin(), header.end());
    const auto decoded = decode_frame(bytes);
    EXPECT_EQ(decoded.status().code(), Code::kInvalidArgument) << header;
  }
  Frame no_type;
  no_type.header = {{"kernel", "peak"}};
  EXPECT_FALSE(encode_frame(no_type).ok());
}

TEST(ProtocolTest, RandomCorruptionNeverCrashes) {
  const Bytes original = encoded(sample_frame());
  std::mt19937_64 rng(12345);
  int accepted = 0;
  for (int i = 0; i < 5000; ++i) {
    Bytes bytes = original;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<uint8_t>(rng());
    if (rng() % 4 == 0) bytes.resize(rng() % bytes.size());
    const auto decoded = decode_frame(bytes);
    if (decoded.ok()) {
      ++accepted;  // a flip inside a blob's bytes is still a well-formed frame
      EXPECT_TRUE(decoded->header.is_object());
    } else {
      EXPECT_EQ(decoded.status().code(), Code::kInvalidArgument);
    }
  }
  EXPECT_LT(accepted, 5000);
}

TEST(ProtocolTest, FramesCrossASocketpair) {
  Channel channel;
  const Frame frame = sample_frame();
  ASSERT_TRUE(write_frame(channel.fds[1], frame).ok());
  auto read = read_frame(channel.fds[0]);
  ASSERT_TRUE(read.ok()) << read.status().to_string();
  EXPECT_EQ(read->blobs, frame.blobs);
}

TEST(ProtocolTest, LargeBlobCrossesASocketpairWhileTheReaderReads) {
  Channel channel;
  Frame frame;
  frame.header = {{"type", "result"}};
  frame.blobs = {Bytes(8u << 20, 0xC3)};
  std::thread writer([&] { EXPECT_TRUE(write_frame(channel.fds[1], frame).ok()); });
  auto read =
      read_frame(channel.fds[0], {}, std::chrono::steady_clock::now() + std::chrono::seconds(60));
  writer.join();
  ASSERT_TRUE(read.ok()) << read.status().to_string();
  EXPECT_EQ(read->blobs, frame.blobs);
}

TEST(ProtocolTest, CleanEofIsChannelClosed) {
  Channel channel;
  channel.close_writer();
  const auto read = read_frame(channel.fds[0]);
  EXPECT_EQ(read.status().code(), Code::kUnavailable);
  EXPECT_THAT(read.status().message(), HasSubstr("channel closed"));
}

TEST(ProtocolTest, EofInsideAFrameIsTruncated) {
  const Bytes bytes = encoded(sample_frame());
  for (size_t n : {size_t{3}, kFramePrefixSize, kFramePrefixSize + 10, bytes.size() - 1}) {
    Channel channel;
    channel.send_raw(ByteView(bytes.data(), n));
    channel.close_writer();
    const auto read = read_frame(channel.fds[0]);
    EXPECT_EQ(read.status().code(), Code::kInvalidArgument) << n;
    EXPECT_THAT(read.status().message(), HasSubstr("truncated")) << n;
  }
}

TEST(ProtocolTest, HugeDeclaredLengthOnTheWireIsRefused) {
  Bytes bytes = encoded(sample_frame());
  put_u64(bytes, kFramePrefixSize + 8, 1ull << 40);
  Channel channel;
  channel.send_raw(ByteView(bytes.data(), kFramePrefixSize + 24));
  const auto read = read_frame(channel.fds[0]);
  EXPECT_THAT(read.status().message(), HasSubstr("blob 1 declares"));
}

TEST(ProtocolTest, SilentPeerHitsTheDeadline) {
  Channel channel;
  const auto read = read_frame(channel.fds[0], {}, std::chrono::steady_clock::now());
  EXPECT_EQ(read.status().code(), Code::kDeadlineExceeded);
}

TEST(ProtocolTest, WritingToAClosedPeerIsAnErrorNotSigpipe) {
  Channel channel;
  ::close(channel.fds[0]);
  channel.fds[0] = -1;
  const Status written = write_frame(channel.fds[1], sample_frame());
  EXPECT_EQ(written.code(), Code::kUnavailable);
}

TEST(ProtocolTest, StatusSurvivesTheWireAndBadCodesAreInternal) {
  const Status original = not_found("kernel x");
  const Status back = status_from_json(status_to_json(original));
  EXPECT_EQ(back.code(), Code::kNotFound);
  EXPECT_EQ(back.message(), "kernel x");
  EXPECT_EQ(status_from_json({{"code", 0}, {"message", "m"}}).code(), Code::kInternal);
  EXPECT_EQ(status_from_json({{"code", 999}}).code(), Code::kInternal);
  EXPECT_EQ(status_from_json("garbage").code(), Code::kInternal);
}

}  // namespace
}  // namespace p2c2r::sandbox
