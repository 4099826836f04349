#include "peer/journal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "peer/availability.h"
#include "peer/blob_cache.h"

namespace p2c2r::peer {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/p2c2r-peer-XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string operator/(const std::string& name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};

JournalEntry entry(uint64_t id, Bytes output) {
  JournalEntry e;
  e.replica_id = id;
  e.kernel = "peak";
  e.digest = digest_of(output);
  e.output = std::move(output);
  e.seconds = 0.5;
  return e;
}

TEST(JournalTest, EntriesSurviveReopening) {
  TempDir dir;
  {
    auto j = Journal::open(dir / "journal");
    ASSERT_TRUE(j.ok());
    ASSERT_TRUE(j->put(entry(7, {1, 2, 3})).ok());
    ASSERT_TRUE(j->put(entry(3, {4})).ok());
  }
  auto j = Journal::open(dir / "journal");
  const auto entries = j->entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].replica_id, 3u);
  EXPECT_EQ(entries[1].output, (Bytes{1, 2, 3}));
  EXPECT_EQ(entries[1].digest, digest_of(Bytes{1, 2, 3}));
}

TEST(JournalTest, RemovedEntriesAreGoneAndRemoveIsIdempotent) {
  TempDir dir;
  auto j = Journal::open(dir / "journal");
  ASSERT_TRUE(j->put(entry(1, {9})).ok());
  ASSERT_TRUE(j->remove(1).ok());
  ASSERT_TRUE(j->remove(1).ok());
  EXPECT_TRUE(j->entries().empty());
}

TEST(JournalTest, ErrorEntriesCarryTheirReason) {
  TempDir dir;
  auto j = Journal::open(dir / "journal");
  JournalEntry e;
  e.replica_id = 5;
  e.kernel = "physics";
  e.ok = false;
  e.error = "executor killed by SIGSYS";
  ASSERT_TRUE(j->put(e).ok());
  const auto entries = j->entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_FALSE(entries[0].ok);
  EXPECT_EQ(entries[0].error, "executor killed by SIGSYS");
  EXPECT_FALSE(entries[0].unfit);
}

TEST(JournalTest, UnfitEntriesStayUnfit) {
  TempDir dir;
  auto j = Journal::open(dir / "journal");
  JournalEntry e;
  e.replica_id = 6;
  e.kernel = "raytrace";
  e.ok = false;
  e.unfit = true;
  e.error = "buffer 2 of 9000000 texels exceeds the device's texel-buffer limit of 65536";
  ASSERT_TRUE(j->put(e).ok());
  auto reopened = Journal::open(dir / "journal");
  const auto entries = reopened->entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_TRUE(entries[0].unfit);
  EXPECT_EQ(entries[0].error, e.error);
}

TEST(JournalTest, CorruptedEntriesAreReportedNotDropped) {
  TempDir dir;
  auto j = Journal::open(dir / "journal");
  ASSERT_TRUE(j->put(entry(1, {1, 2})).ok());
  ASSERT_TRUE(j->put(entry(2, {3, 4})).ok());
  { std::ofstream(dir / "journal/2.out", std::ios::trunc) << "xx"; }  // output altered on disk
  { std::ofstream(dir / "journal/9.json", std::ios::trunc) << "{not json"; }
  std::vector<std::string> problems;
  const auto entries = j->entries(&problems);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].replica_id, 1u);
  EXPECT_EQ(problems.size(), 2u);
}

TEST(BlobCacheTest, StoresVerifiedBlobsAndRefusesMismatches) {
  TempDir dir;
  auto cache = BlobCache::open(dir / "cache", 1 << 20);
  ASSERT_TRUE(cache.ok());
  const Bytes data{1, 2, 3, 4};
  EXPECT_EQ(cache->put(digest_of(Bytes{9}), data).code(), Code::kInvalidArgument);
  EXPECT_EQ(cache->get(digest_of(Bytes{9})).status().code(), Code::kNotFound);
  ASSERT_TRUE(cache->put(digest_of(data), data).ok());
  auto back = cache->get(digest_of(data));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, data);
}

TEST(BlobCacheTest, CorruptionOnDiskIsDetectedAndRemoved) {
  TempDir dir;
  auto cache = BlobCache::open(dir / "cache", 1 << 20);
  const Bytes data{5, 6, 7};
  ASSERT_TRUE(cache->put(digest_of(data), data).ok());
  { std::ofstream(dir / ("cache/" + digest_of(data).hex()), std::ios::trunc) << "evil"; }
  EXPECT_EQ(cache->get(digest_of(data)).status().code(), Code::kInternal);
  EXPECT_EQ(cache->get(digest_of(data)).status().code(), Code::kNotFound);
}

TEST(BlobCacheTest, StaysUnderItsSizeBound) {
  TempDir dir;
  auto cache = BlobCache::open(dir / "cache", 1000);
  for (int i = 0; i < 10; ++i) {
    Bytes data(300, static_cast<uint8_t>(i));
    ASSERT_TRUE(cache->put(digest_of(data), data).ok());
    EXPECT_LE(cache->size_bytes(), 1000u);
  }
  Bytes last(300, 9);
  EXPECT_TRUE(cache->get(digest_of(last)).ok()) << "the newest blob is kept";
}

TEST(AvailabilityTest, WindowsIncludingOnesThatWrapMidnight) {
  auto night = parse_window("22:00-06:30");
  ASSERT_TRUE(night.ok());
  Availability a{.window = *night};
  EXPECT_TRUE(may_take_work(a, 23 * 60, 0, nullptr));
  EXPECT_TRUE(may_take_work(a, 6 * 60, 0, nullptr));
  std::string why;
  EXPECT_FALSE(may_take_work(a, 12 * 60, 0, &why));
  EXPECT_EQ(why, "outside the daily time window");
}

TEST(AvailabilityTest, MalformedWindowsAreRejected) {
  for (const char* bad :
       {"", "22-06", "25:00-06:00", "10:00-10:00", "10:00-11:00x", "10:61-11:00"}) {
    EXPECT_FALSE(parse_window(bad).ok()) << bad;
  }
}

TEST(AvailabilityTest, OnlyWhenIdleWaitsForABusyMachine) {
  Availability a{.only_when_idle = true, .idle_threshold = 0.25};
  std::string why;
  EXPECT_FALSE(may_take_work(a, 0, 0.9, &why));
  EXPECT_NE(why.find("busy"), std::string::npos);
  EXPECT_TRUE(may_take_work(a, 0, 0.1, nullptr));
}

}  // namespace
}  // namespace p2c2r::peer
