// The peer's result journal: a finished unit's result is written durably to
// the state directory before the peer tries to report it, and removed only
// after the server acknowledged it. A peer killed at any moment finds its
// unsent results here on restart and sends them; nothing finished is lost.
//
// One entry per replica: `<dir>/<replica>.json` (what to report) and
// `<dir>/<replica>.out` (the output, if any), each written to a temporary
// file, fsync'ed, renamed into place and the directory fsync'ed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/digest.h"
#include "common/result.h"

namespace p2c2r::peer {

struct JournalEntry {
  uint64_t replica_id = 0;
  std::string kernel;
  bool ok = true;  // false: the unit errored; `error` says why
  std::optional<Digest> digest;
  std::string error;
  bool unfit = false;  // with !ok: past this host's device limits (wire::Report::unfit)
  // The report was accepted and the server asked for the output, which is
  // still to be uploaded: only the upload is retried (a second report would
  // be refused as a duplicate, and the output would never reach the server).
  bool awaiting_upload = false;
  double seconds = 0;
  Bytes output;  // empty for errors
};

class Journal {
 public:
  // Opens (creating if needed) the journal directory.
  static Result<Journal> open(const std::string& dir);

  // Durably records an entry, replacing one for the same replica.
  Status put(const JournalEntry& entry);
  // Removes a reported entry (idempotent).
  Status remove(uint64_t replica_id);
  // Every entry, oldest replica id first. Entries that cannot be read (a torn
  // file from before the rename cannot exist; a corrupted disk can) are
  // returned as errors in `problems`, never silently dropped.
  std::vector<JournalEntry> entries(std::vector<std::string>* problems = nullptr) const;

 private:
  explicit Journal(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

// Writes `data` to `path` atomically and durably (temp file, fsync, rename, fsync dir).
Status write_file_durably(const std::string& path, ByteView data);
Result<Bytes> read_file(const std::string& path);

}  // namespace p2c2r::peer
