// The client's own decisions; the full TLS round trips (pinning, trust on
// first use, signed requests) are exercised against the real server in
// tests/server_integration.
#include "common/http_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace p2c2r::http {
namespace {

TEST(HttpClientTest, RefusesPlainHttpAndMalformedPins) {
  auto plain = Client::create({.base_url = "http://127.0.0.1:1"});
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.status().code(), Code::kInvalidArgument);
  EXPECT_NE(plain.status().message().find("https://"), std::string::npos);

  auto pin = Client::create({.base_url = "https://127.0.0.1:1", .pin = "md5:abc"});
  ASSERT_FALSE(pin.ok());
  EXPECT_NE(pin.status().message().find("sha256//"), std::string::npos);
}

// A port that was just bound and closed again refuses connections.
int closed_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST(HttpClientTest, UnreachableServerIsUnavailableAndNamesTheUrl) {
  const std::string url = "https://127.0.0.1:" + std::to_string(closed_port());
  auto client = Client::create({.base_url = url});
  ASSERT_TRUE(client.ok()) << client.status().to_string();
  auto reply = client.value().request("GET", "/healthz");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), Code::kUnavailable);
  EXPECT_NE(reply.status().message().find(url), std::string::npos);

  auto pin = fetch_server_pin(url);
  ASSERT_FALSE(pin.ok());
  EXPECT_EQ(pin.status().code(), Code::kUnavailable);
}

TEST(HttpClientTest, ErrorRepliesBecomeTheServersOwnStatus) {
  Response r{.status = 403,
             .content_type = "application/json",
             .body = R"({"error":"bad signature","code":"permission denied"})"};
  Status s = status_of(r);
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_EQ(s.message(), "bad signature");

  Response conflict{.status = 409,
                    .body = R"({"error":"already reported","code":"already exists"})"};
  EXPECT_EQ(status_of(conflict).code(), Code::kAlreadyExists);

  Response html{.status = 502, .body = "<html>bad gateway</html>"};
  Status g = status_of(html);
  EXPECT_EQ(g.code(), Code::kUnavailable);
  EXPECT_NE(g.message().find("HTTP 502"), std::string::npos);
  EXPECT_NE(g.message().find("bad gateway"), std::string::npos);

  EXPECT_TRUE(status_of(Response{.status = 204}).ok());
  auto body = ok_body(Response{.status = 200, .body = "{}"});
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body.value(), "{}");
  EXPECT_FALSE(ok_body(Response{.status = 404, .body = "{}"}).ok());
}

TEST(HttpClientTest, PinOfAMissingOrBogusCertificateFileIsAnError) {
  EXPECT_EQ(pin_of_certificate_file("/nonexistent/cert.pem").status().code(), Code::kNotFound);
  char path[] = "/tmp/p2c2r-cert-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "not a cert\n", 11), 11);
  close(fd);
  auto pin = pin_of_certificate_file(path);
  unlink(path);
  ASSERT_FALSE(pin.ok());
  EXPECT_EQ(pin.status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace p2c2r::http
