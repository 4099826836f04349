// The supervisor ⇄ executor wire format: length-prefixed frames over a
// socketpair.
//
// A frame is a 16-byte prefix (magic "P2X1", JSON length, blob count,
// reserved zero), then one little-endian u64 length per blob, then the JSON
// header, then the blobs back to back. Every length is checked against
// FrameLimits before anything is allocated, so a peer on the other end of the
// channel (a compromised executor, a buggy supervisor) cannot make the reader
// allocate unbounded memory or read past the frame; a bad frame is a clear
// Status, never a crash. After a malformed frame the stream cannot be
// resynchronised: both sides drop the channel.
//
// Messages (the "type" field of the JSON header):
//   executor → supervisor  hello   {device, protections{...}}  once, after lock-down
//   supervisor → executor  unit    {id, kernel, version, seed, params{}, local_size,
//                                   timeout_ms}, blobs = inputs
//   supervisor → executor  probe   {id, probe}  (only honoured with --allow-test-probes)
//   executor → supervisor  result  {id, status "ok", digest, gpu_seconds, wall_seconds,
//                                   dispatches, cpu_seconds}, blob = output
//                                  {id, status "error", code, message}
//   executor → supervisor  fatal   {message}  (start-up failed; the executor exits)
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"

namespace p2c2r::sandbox {

constexpr uint32_t kFrameMagic = 0x31583250;  // "P2X1" little-endian
constexpr size_t kFramePrefixSize = 16;

struct FrameLimits {
  uint32_t max_header_bytes = 64 * 1024;
  uint32_t max_blobs = 16;
  uint64_t max_blob_bytes = 512ull << 20;    // one input or output
  uint64_t max_total_bytes = 1024ull << 20;  // all blobs of a frame together
};

struct Frame {
  nlohmann::json header;  // always an object with a string "type"
  std::vector<Bytes> blobs;
};

// Serialises a frame. Fails if it breaks `limits` (the reader would refuse it).
Result<Bytes> encode_frame(const Frame& frame, const FrameLimits& limits = {});

// Parses exactly one whole frame from `bytes` (no trailing bytes allowed).
Result<Frame> decode_frame(ByteView bytes, const FrameLimits& limits = {});

// How a write to a channel whose reader died behaves: the supervisor must
// survive it (send with MSG_NOSIGNAL, an error value); the executor uses plain
// write(2), since its seccomp filter forbids the socket calls, and dies of
// SIGPIPE, which is right when its supervisor is gone.
enum class OnClosedPeer { kError, kSigpipe };

// Writes a frame to a blocking fd. Fails on EPIPE (the other end died).
Status write_frame(int fd, const Frame& frame, const FrameLimits& limits = {},
                   OnClosedPeer on_closed = OnClosedPeer::kError);

// Reads one frame from a blocking fd. With a deadline, gives up with
// kDeadlineExceeded once it passes. A clean EOF before the first byte is
// kUnavailable ("channel closed"); EOF inside a frame is kInvalidArgument
// ("truncated frame").
Result<Frame> read_frame(
    int fd, const FrameLimits& limits = {},
    std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

// A non-ok Status as {"code": <int>, "message": ...} and back; an unknown or
// malformed code reads as kInternal, never as ok.
nlohmann::json status_to_json(const Status& status);
Status status_from_json(const nlohmann::json& j);

}  // namespace p2c2r::sandbox
