#include "peer/blob_cache.h"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "peer/journal.h"

namespace p2c2r::peer {
namespace fs = std::filesystem;

Result<BlobCache> BlobCache::open(const std::string& dir, uint64_t max_bytes) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return unavailable("cannot create the blob cache " + dir + ": " + ec.message());
  return BlobCache(dir, max_bytes);
}

Status BlobCache::put(const Digest& expected, ByteView data) {
  const Digest actual = digest_of(data);
  if (actual != expected) {
    return invalid_argument("blob digest mismatch: expected " + expected.hex() + ", got " +
                            actual.hex());
  }
  if (data.size() > max_bytes_) return Status::Ok();  // too big to keep; the caller still has it
  evict(data.size());
  return write_file_durably((fs::path(dir_) / expected.hex()).string(), data);
}

Result<Bytes> BlobCache::get(const Digest& digest) {
  const fs::path path = fs::path(dir_) / digest.hex();
  std::error_code ec;
  if (!fs::exists(path, ec)) return not_found("blob " + digest.hex() + " is not cached");
  P2C2R_ASSIGN_OR_RETURN(Bytes data, read_file(path.string()));
  if (digest_of(data) != digest) {
    fs::remove(path, ec);
    return internal_error("cached blob " + digest.hex() + " is corrupted on disk; removed it");
  }
  fs::last_write_time(path, fs::file_time_type::clock::now(), ec);  // recently used
  return data;
}

uint64_t BlobCache::size_bytes() const {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(dir_, ec)) {
    if (f.is_regular_file(ec)) total += f.file_size(ec);
  }
  return total;
}

void BlobCache::evict(uint64_t incoming) {
  std::error_code ec;
  std::vector<fs::directory_entry> files;
  uint64_t total = 0;
  for (const auto& f : fs::directory_iterator(dir_, ec)) {
    if (!f.is_regular_file(ec)) continue;
    files.push_back(f);
    total += f.file_size(ec);
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
    std::error_code e;
    return a.last_write_time(e) < b.last_write_time(e);
  });
  for (const auto& f : files) {
    if (total + incoming <= max_bytes_) break;
    total -= f.file_size(ec);
    fs::remove(f.path(), ec);
  }
}

}  // namespace p2c2r::peer
