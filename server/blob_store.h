// Content-addressed blob files: <dir>/<first two hex digits>/<digest hex>.
// Every blob is a file (kernels' inputs and outputs range from bytes to
// megabytes; files keep the SQLite database small and reads copy-free); the
// store's blobs table is the index of which ones are complete. A file is
// written to a temporary name, fsync'ed and renamed, so a crash leaves either
// the whole blob or none.
#pragma once

#include <string>

#include "common/bytes.h"
#include "common/digest.h"
#include "common/result.h"

namespace p2c2r::server {

class BlobStore {
 public:
  explicit BlobStore(std::string dir) : dir_(std::move(dir)) {}
  Status put(const Digest& digest, ByteView data);
  Result<Bytes> get(const std::string& digest_hex) const;
  std::string path_of(const std::string& digest_hex) const;

 private:
  std::string dir_;
};

}  // namespace p2c2r::server
