#include "sandbox/protocol.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace p2c2r::sandbox {
namespace {

using Clock = std::chrono::steady_clock;

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
uint64_t load_u64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

struct Prefix {
  uint32_t header_bytes = 0;
  uint32_t blob_count = 0;
};

Result<Prefix> parse_prefix(const uint8_t* p, const FrameLimits& limits) {
  if (load_u32(p) != kFrameMagic)
    return invalid_argument("bad frame magic (not a P2C2R executor frame)");
  Prefix prefix{load_u32(p + 4), load_u32(p + 8)};
  if (load_u32(p + 12) != 0) return invalid_argument("bad frame: reserved field is not zero");
  if (prefix.header_bytes == 0) return invalid_argument("bad frame: empty header");
  if (prefix.header_bytes > limits.max_header_bytes) {
    return invalid_argument("frame header of " + std::to_string(prefix.header_bytes) +
                            " bytes exceeds the limit of " +
                            std::to_string(limits.max_header_bytes));
  }
  if (prefix.blob_count > limits.max_blobs) {
    return invalid_argument("frame has " + std::to_string(prefix.blob_count) +
                            " blobs, the limit is " + std::to_string(limits.max_blobs));
  }
  return prefix;
}

// Checks the blob length table; returns the blob lengths.
Result<std::vector<uint64_t>> parse_lengths(const uint8_t* p, uint32_t count,
                                            const FrameLimits& limits) {
  std::vector<uint64_t> lengths(count);
  uint64_t total = 0;
  for (uint32_t i = 0; i < count; ++i) {
    lengths[i] = load_u64(p + 8 * i);
    if (lengths[i] > limits.max_blob_bytes) {
      return invalid_argument("frame blob " + std::to_string(i) + " declares " +
                              std::to_string(lengths[i]) + " bytes, the limit is " +
                              std::to_string(limits.max_blob_bytes));
    }
    total += lengths[i];  // cannot overflow: count <= max_blobs, each <= max_blob_bytes
    if (total > limits.max_total_bytes) {
      return invalid_argument("frame blobs exceed the total limit of " +
                              std::to_string(limits.max_total_bytes) + " bytes");
    }
  }
  return lengths;
}

Result<nlohmann::json> parse_header(const uint8_t* p, size_t n) {
  nlohmann::json header = nlohmann::json::parse(p, p + n, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded()) return invalid_argument("bad frame: header is not valid JSON");
  if (!header.is_object() || !header.contains("type") || !header["type"].is_string()) {
    return invalid_argument("bad frame: header is not an object with a string \"type\"");
  }
  return header;
}

// Waits until `fd` is readable or the deadline passes.
Status wait_readable(int fd, std::optional<Clock::time_point> deadline) {
  if (!deadline) return Status::Ok();
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
    if (left <= 0) return deadline_exceeded("no reply before the deadline");
    pollfd pfd{fd, POLLIN, 0};
    const int r = poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left + 1, 1 << 30)));
    if (r > 0) return Status::Ok();
    if (r < 0 && errno != EINTR)
      return unavailable(std::string("poll on the channel: ") + std::strerror(errno));
  }
}

// Reads exactly n bytes. `started` says whether part of the frame was read already.
Status read_exact(int fd, uint8_t* out, size_t n, bool started,
                  std::optional<Clock::time_point> deadline) {
  size_t got = 0;
  while (got < n) {
    P2C2R_RETURN_IF_ERROR(wait_readable(fd, deadline));
    const ssize_t r = ::read(fd, out + got, n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return unavailable(std::string("read from the channel: ") + std::strerror(errno));
    }
    if (r == 0) {
      if (!started && got == 0) return unavailable("channel closed");
      return invalid_argument("truncated frame: the channel closed in the middle of a frame");
    }
    got += static_cast<size_t>(r);
  }
  return Status::Ok();
}

}  // namespace

Result<Bytes> encode_frame(const Frame& frame, const FrameLimits& limits) {
  if (!frame.header.is_object() || !frame.header.contains("type") ||
      !frame.header["type"].is_string()) {
    return invalid_argument("frame header must be an object with a string \"type\"");
  }
  const std::string header = frame.header.dump();
  Bytes out;
  append_le(out, kFrameMagic);
  append_le(out, static_cast<uint32_t>(header.size()));
  append_le(out, static_cast<uint32_t>(frame.blobs.size()));
  append_le(out, uint32_t{0});
  for (const Bytes& blob : frame.blobs) append_le(out, static_cast<uint64_t>(blob.size()));
  // Validate with the reader's own checks so that writer and reader never disagree.
  P2C2R_ASSIGN_OR_RETURN(Prefix prefix, parse_prefix(out.data(), limits));
  P2C2R_RETURN_IF_ERROR(
      parse_lengths(out.data() + kFramePrefixSize, prefix.blob_count, limits).status());
  out.insert(out.end(), header.begin(), header.end());
  for (const Bytes& blob : frame.blobs) out.insert(out.end(), blob.begin(), blob.end());
  return out;
}

Result<Frame> decode_frame(ByteView bytes, const FrameLimits& limits) {
  if (bytes.size() < kFramePrefixSize)
    return invalid_argument("truncated frame: shorter than its prefix");
  P2C2R_ASSIGN_OR_RETURN(Prefix prefix, parse_prefix(bytes.data(), limits));
  const size_t table = 8ull * prefix.blob_count;
  if (bytes.size() < kFramePrefixSize + table)
    return invalid_argument("truncated frame: blob length table cut short");
  P2C2R_ASSIGN_OR_RETURN(auto lengths,
                         parse_lengths(bytes.data() + kFramePrefixSize, prefix.blob_count, limits));
  uint64_t expected = kFramePrefixSize + table + prefix.header_bytes;
  for (uint64_t n : lengths) expected += n;
  if (bytes.size() < expected)
    return invalid_argument("truncated frame: fewer bytes than the frame declares");
  if (bytes.size() > expected) return invalid_argument("bad frame: trailing bytes after the frame");
  const uint8_t* p = bytes.data() + kFramePrefixSize + table;
  Frame frame;
  P2C2R_ASSIGN_OR_RETURN(frame.header, parse_header(p, prefix.header_bytes));
  p += prefix.header_bytes;
  for (uint64_t n : lengths) {
    frame.blobs.emplace_back(p, p + n);
    p += n;
  }
  return frame;
}

Status write_frame(int fd, const Frame& frame, const FrameLimits& limits, OnClosedPeer on_closed) {
  P2C2R_ASSIGN_OR_RETURN(Bytes bytes, encode_frame(frame, limits));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = on_closed == OnClosedPeer::kError
                          ? ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL)
                          : ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      return unavailable(std::string("write to the channel: ") + std::strerror(errno));
    }
    done += static_cast<size_t>(w);
  }
  return Status::Ok();
}

Result<Frame> read_frame(int fd, const FrameLimits& limits,
                         std::optional<Clock::time_point> deadline) {
  uint8_t prefix_bytes[kFramePrefixSize];
  P2C2R_RETURN_IF_ERROR(read_exact(fd, prefix_bytes, sizeof prefix_bytes, false, deadline));
  P2C2R_ASSIGN_OR_RETURN(Prefix prefix, parse_prefix(prefix_bytes, limits));
  Bytes table(8ull * prefix.blob_count);
  P2C2R_RETURN_IF_ERROR(read_exact(fd, table.data(), table.size(), true, deadline));
  P2C2R_ASSIGN_OR_RETURN(auto lengths, parse_lengths(table.data(), prefix.blob_count, limits));
  Bytes header(prefix.header_bytes);
  P2C2R_RETURN_IF_ERROR(read_exact(fd, header.data(), header.size(), true, deadline));
  Frame frame;
  P2C2R_ASSIGN_OR_RETURN(frame.header, parse_header(header.data(), header.size()));
  for (uint64_t n : lengths) {
    Bytes blob(n);
    P2C2R_RETURN_IF_ERROR(read_exact(fd, blob.data(), blob.size(), true, deadline));
    frame.blobs.push_back(std::move(blob));
  }
  return frame;
}

nlohmann::json status_to_json(const Status& status) {
  return {{"code", static_cast<int>(status.code())}, {"message", status.message()}};
}

Status status_from_json(const nlohmann::json& j) {
  std::string message = "malformed error from the executor";
  if (j.is_object() && j.contains("message") && j["message"].is_string())
    message = j["message"].get<std::string>();
  Code code = Code::kInternal;
  if (j.is_object() && j.contains("code") && j["code"].is_number_integer()) {
    const auto c = j["code"].get<int64_t>();
    if (c > static_cast<int>(Code::kOk) && c <= static_cast<int>(Code::kInternal))
      code = static_cast<Code>(c);
  }
  return Status(code, message);
}

}  // namespace p2c2r::sandbox
