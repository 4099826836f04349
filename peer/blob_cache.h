// The peer's on-disk cache of input blobs, content-addressed by BLAKE2b
// digest, bounded in size. Every blob is verified against its digest when it
// enters the cache and again when it is read back, so a corrupted disk or a
// lying server can never feed a kernel the wrong bytes.
#pragma once

#include <cstdint>
#include <string>

#include "common/bytes.h"
#include "common/digest.h"
#include "common/result.h"

namespace p2c2r::peer {

class BlobCache {
 public:
  static Result<BlobCache> open(const std::string& dir, uint64_t max_bytes);

  // Stores `data` under `expected`; fails (and stores nothing) if the digest
  // differs. Evicts least-recently-used blobs to stay under the bound.
  Status put(const Digest& expected, ByteView data);
  // The blob, verified; kNotFound if absent, kInternal (and the file removed)
  // if the bytes on disk no longer match.
  Result<Bytes> get(const Digest& digest);
  uint64_t size_bytes() const;

 private:
  BlobCache(std::string dir, uint64_t max_bytes) : dir_(std::move(dir)), max_bytes_(max_bytes) {}
  void evict(uint64_t incoming);
  std::string dir_;
  uint64_t max_bytes_;
};

}  // namespace p2c2r::peer
