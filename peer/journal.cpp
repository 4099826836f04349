#include "peer/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace p2c2r::peer {
namespace fs = std::filesystem;

namespace {

Status fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return unavailable("cannot open " + path + " to sync it: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return unavailable("fsync " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

}  // namespace

Status write_file_durably(const std::string& path, ByteView data) {
  const std::string tmp = path + ".tmp";
  {
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return unavailable("cannot create " + tmp + ": " + std::strerror(errno));
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const std::string why = std::strerror(errno);
        ::close(fd);
        return unavailable("writing " + tmp + ": " + why);
      }
      done += static_cast<size_t>(n);
    }
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) return unavailable("fsync " + tmp + ": " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return unavailable("rename " + tmp + ": " + std::strerror(errno));
  return fsync_path(fs::path(path).parent_path().string(), O_RDONLY | O_DIRECTORY);
}

Result<Bytes> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("cannot read " + path);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Result<Journal> Journal::open(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return unavailable("cannot create the journal directory " + dir + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  return Journal(dir);
}

Status Journal::put(const JournalEntry& e) {
  const std::string base = (fs::path(dir_) / std::to_string(e.replica_id)).string();
  // The output first: a .json without its .out must never be visible.
  if (!e.output.empty()) P2C2R_RETURN_IF_ERROR(write_file_durably(base + ".out", e.output));
  nlohmann::json j{
      {"replica_id", e.replica_id}, {"kernel", e.kernel},   {"ok", e.ok},
      {"error", e.error},           {"seconds", e.seconds}, {"output_bytes", e.output.size()}};
  if (e.digest) j["digest"] = e.digest->hex();
  if (e.unfit) j["unfit"] = true;
  if (e.awaiting_upload) j["awaiting_upload"] = true;
  const std::string text = j.dump();
  return write_file_durably(base + ".json", bytes_of(text));
}

Status Journal::remove(uint64_t replica_id) {
  const std::string base = (fs::path(dir_) / std::to_string(replica_id)).string();
  std::error_code ec;
  fs::remove(base + ".json", ec);  // the record first: an orphan .out is harmless
  if (ec) return unavailable("cannot remove journal entry " + base + ".json: " + ec.message());
  fs::remove(base + ".out", ec);
  return fsync_path(dir_, O_RDONLY | O_DIRECTORY);
}

std::vector<JournalEntry> Journal::entries(std::vector<std::string>* problems) const {
  std::vector<JournalEntry> out;
  std::error_code ec;
  for (const auto& file : fs::directory_iterator(dir_, ec)) {
    if (file.path().extension() != ".json") continue;
    auto problem = [&](const std::string& why) {
      if (problems) problems->push_back(file.path().string() + ": " + why);
    };
    auto bytes = read_file(file.path().string());
    if (!bytes.ok()) {
      problem(bytes.status().message());
      continue;
    }
    try {
      const auto j = nlohmann::json::parse(bytes->begin(), bytes->end());
      JournalEntry e;
      j.at("replica_id").get_to(e.replica_id);
      j.at("kernel").get_to(e.kernel);
      j.at("ok").get_to(e.ok);
      j.at("error").get_to(e.error);
      j.at("seconds").get_to(e.seconds);
      e.unfit = j.value("unfit", false);  // absent in entries from before they existed
      e.awaiting_upload = j.value("awaiting_upload", false);
      if (j.contains("digest")) {
        auto d = Digest::from_hex(j.at("digest").get<std::string>());
        if (!d.ok()) throw std::runtime_error(d.status().message());
        e.digest = *d;
      }
      const uint64_t output_bytes = j.at("output_bytes").get<uint64_t>();
      if (output_bytes > 0) {
        auto output =
            read_file((fs::path(dir_) / (std::to_string(e.replica_id) + ".out")).string());
        if (!output.ok() || output->size() != output_bytes)
          throw std::runtime_error("output file missing or short");
        if (e.digest && digest_of(*output) != *e.digest)
          throw std::runtime_error("output does not match its digest");
        e.output = std::move(*output);
      }
      out.push_back(std::move(e));
    } catch (const std::exception& ex) {
      problem(ex.what());
    }
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.replica_id < b.replica_id; });
  return out;
}

}  // namespace p2c2r::peer
