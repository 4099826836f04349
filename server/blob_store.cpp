#include "server/blob_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace p2c2r::server {

std::string BlobStore::path_of(const std::string& hex) const {
  return dir_ + "/" + hex.substr(0, 2) + "/" + hex;
}

Status BlobStore::put(const Digest& digest, ByteView data) {
  const std::string hex = digest.hex();
  const std::string sub = dir_ + "/" + hex.substr(0, 2);
  std::error_code ec;
  std::filesystem::create_directories(sub, ec);
  if (ec) return internal_error("cannot create " + sub + ": " + ec.message());
  const std::string path = path_of(hex), tmp = path + ".tmp" + std::to_string(::gettid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return internal_error("cannot create " + tmp + ": " + std::strerror(errno));
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return internal_error("cannot write " + tmp + ": " + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return internal_error("cannot store blob " + hex + ": " + std::strerror(errno));
  }
  int dfd = ::open(sub.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

Result<Bytes> BlobStore::get(const std::string& hex) const {
  std::ifstream in(path_of(hex), std::ios::binary);
  if (!in) return not_found("blob " + hex + " is not stored");
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

}  // namespace p2c2r::server
