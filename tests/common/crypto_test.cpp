#include "common/crypto.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace p2c2r::crypto {
namespace {

TEST(CryptoTest, SignatureVerifiesOnlyForSameMessageAndKey) {
  const auto a = KeyPair::generate(), b = KeyPair::generate();
  const auto sig = a.sign(std::string_view("hello"));
  EXPECT_TRUE(verify(a.public_key(), std::string_view("hello"), sig));
  EXPECT_FALSE(verify(a.public_key(), std::string_view("hellp"), sig));
  EXPECT_FALSE(verify(b.public_key(), std::string_view("hello"), sig));
}

TEST(CryptoTest, KeyFileRoundTripsWithMode0600) {
  const auto dir = std::filesystem::temp_directory_path() / ("p2c2r-key-" + random_hex(6));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "host.key").string();
  const auto k = KeyPair::generate();
  ASSERT_TRUE(k.save(path).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = KeyPair::load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
  EXPECT_EQ(loaded->public_key(), k.public_key());
  EXPECT_TRUE(verify(k.public_key(), std::string_view("x"), loaded->sign(std::string_view("x"))));
  std::filesystem::remove_all(dir);
}

TEST(CryptoTest, KeyFileReadableByOthersIsRefused) {
  const auto dir = std::filesystem::temp_directory_path() / ("p2c2r-key-" + random_hex(6));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "host.key").string();
  ASSERT_TRUE(KeyPair::generate().save(path).ok());
  ::chmod(path.c_str(), 0644);
  auto loaded = KeyPair::load(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), Code::kPermissionDenied);
  EXPECT_NE(loaded.status().message().find("644"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(CryptoTest, SignedRequestCoversEveryPart) {
  const auto k = KeyPair::generate();
  const std::string body = R"({"wait_ms":10})";
  const ByteView b(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  const auto h = sign_request(k, 7, "POST", "/v1/work", 1000, b);
  EXPECT_EQ(h.host_id, "7");
  EXPECT_EQ(h.nonce.size(), 32u);
  auto sig = Signature::from_hex(h.signature);
  ASSERT_TRUE(sig.ok());
  const auto d = digest_of(b);
  EXPECT_TRUE(
      verify(k.public_key(), request_signing_string("POST", "/v1/work", 1000, h.nonce, d), *sig));
  EXPECT_FALSE(
      verify(k.public_key(), request_signing_string("GET", "/v1/work", 1000, h.nonce, d), *sig));
  EXPECT_FALSE(
      verify(k.public_key(), request_signing_string("POST", "/v1/wor", 1000, h.nonce, d), *sig));
  EXPECT_FALSE(
      verify(k.public_key(), request_signing_string("POST", "/v1/work", 1001, h.nonce, d), *sig));
  EXPECT_FALSE(verify(k.public_key(),
                      request_signing_string("POST", "/v1/work", 1000, random_hex(16), d), *sig));
  EXPECT_FALSE(
      verify(k.public_key(),
             request_signing_string("POST", "/v1/work", 1000, h.nonce, digest_of(Bytes{1})), *sig));
}

TEST(CryptoTest, HexParsingNamesTheProblem) {
  EXPECT_FALSE(PublicKey::from_hex("abc").ok());
  EXPECT_NE(PublicKey::from_hex(std::string(64, 'z')).status().message().find("hex"),
            std::string::npos);
  EXPECT_FALSE(Signature::from_hex(std::string(64, 'a')).ok());
  const auto k = KeyPair::generate();
  auto back = PublicKey::from_hex(k.public_key().hex());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, k.public_key());
}

TEST(CryptoTest, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
}

}  // namespace
}  // namespace p2c2r::crypto
