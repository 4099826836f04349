#include "common/http_client.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>

namespace p2c2r::http {
namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

struct Sink {
  std::string* body;
  uint64_t limit;
  bool overflow = false;
};

size_t write_body(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t n = size * count;
  if (sink->body->size() + n > sink->limit) {
    sink->overflow = true;
    return 0;  // makes curl stop with CURLE_WRITE_ERROR
  }
  sink->body->append(data, n);
  return n;
}

Status transport_error(CURLcode code, const char* detail, std::string_view url) {
  std::string what = detail && *detail ? detail : curl_easy_strerror(code);
  std::string message = "cannot talk to " + std::string(url) + ": " + what;
  switch (code) {
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return permission_denied(
          message +
          " (the server's key is not the pinned one: if the server's certificate "
          "really changed, remove the pin from the peer's state dir)");
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      return permission_denied(message);
    case CURLE_OPERATION_TIMEDOUT:
      return deadline_exceeded(message);
    default:
      return unavailable(message);
  }
}

Result<std::string> pin_of_pem(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) return internal_error("out of memory reading a certificate");
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  if (!cert) return invalid_argument("not a PEM certificate");
  unsigned char* der = nullptr;
  const int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert.get()), &der);
  if (len <= 0) return invalid_argument("the certificate has no public key");
  unsigned char hash[SHA256_DIGEST_LENGTH];
  SHA256(der, static_cast<size_t>(len), hash);
  OPENSSL_free(der);
  unsigned char b64[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];
  EVP_EncodeBlock(b64, hash, SHA256_DIGEST_LENGTH);
  return "sha256//" + std::string(reinterpret_cast<char*>(b64));
}

bool code_from_name(std::string_view name, Code& out) {
  for (int c = static_cast<int>(Code::kInvalidArgument); c <= static_cast<int>(Code::kInternal);
       ++c) {
    if (name == code_name(static_cast<Code>(c))) {
      out = static_cast<Code>(c);
      return true;
    }
  }
  return false;
}

Code code_for_http(long status) {
  switch (status) {
    case 400:
      return Code::kInvalidArgument;
    case 401:
    case 403:
      return Code::kPermissionDenied;
    case 404:
      return Code::kNotFound;
    case 408:
      return Code::kDeadlineExceeded;
    case 409:
      return Code::kAlreadyExists;
    case 413:
      return Code::kResourceExhausted;
    case 503:
      return Code::kUnavailable;
    default:
      return status >= 500 ? Code::kUnavailable : Code::kInvalidArgument;
  }
}

}  // namespace

struct Client::Impl {
  CurlPtr curl;
  char error[CURL_ERROR_SIZE] = {};
};

Client::Client(ClientOptions options, std::unique_ptr<Impl> impl)
    : options_(std::move(options)), impl_(std::move(impl)) {}
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
Client::~Client() = default;

Result<Client> Client::create(ClientOptions options) {
  global_init();
  while (!options.base_url.empty() && options.base_url.back() == '/') options.base_url.pop_back();
  const bool https = options.base_url.rfind("https://", 0) == 0;
  const bool plain = options.base_url.rfind("http://", 0) == 0;
  if (!https && !(plain && options.allow_plain_http))
    return invalid_argument("server URL '" + options.base_url +
                            "' must start with https:// (peers and users only talk TLS)");
  if (!options.pin.empty() && options.pin.rfind("sha256//", 0) != 0)
    return invalid_argument("a certificate pin looks like sha256//BASE64, not '" + options.pin +
                            "'");
  auto impl = std::make_unique<Impl>();
  impl->curl.reset(curl_easy_init());
  if (!impl->curl) return internal_error("curl_easy_init failed");
  CURL* c = impl->curl.get();
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, impl->error);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_body);
  if (!options.ca_file.empty()) {
    curl_easy_setopt(c, CURLOPT_CAINFO, options.ca_file.c_str());
  } else if (!options.pin.empty()) {
    // The pin is the trust: any certificate carrying exactly this key is the
    // server, whoever signed it (self-signed is the normal case).
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!options.pin.empty()) curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, options.pin.c_str());
  return Client(std::move(options), std::move(impl));
}

Result<Response> Client::request(std::string_view method, std::string_view path, ByteView body,
                                 std::string_view content_type, const Headers& headers,
                                 std::chrono::milliseconds timeout) {
  CURL* c = impl_->curl.get();
  const std::string url = options_.base_url + std::string(path);
  const std::string method_s(method);
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  if (method_s == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, nullptr);
  } else {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, reinterpret_cast<const char*>(body.data()));
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method_s == "POST" ? nullptr : method_s.c_str());
  }
  curl_slist* list = nullptr;
  auto add = [&](const std::string& h) { list = curl_slist_append(list, h.c_str()); };
  add("Expect:");  // no 100-continue round trip for larger bodies
  if (method_s != "GET") add("Content-Type: " + std::string(content_type));
  if (!options_.bearer_token.empty()) add("Authorization: Bearer " + options_.bearer_token);
  for (const auto& [k, v] : headers) add(k + ": " + v);
  SlistPtr owned(list);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  const auto limit = timeout.count() > 0 ? timeout : options_.timeout;
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(limit.count()));

  Response response;
  Sink sink{&response.body, options_.max_response_bytes};
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  impl_->error[0] = '\0';
  const CURLcode rc = curl_easy_perform(c);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  if (sink.overflow)
    return resource_exhausted(method_s + " " + url + ": reply larger than " +
                              std::to_string(options_.max_response_bytes) + " bytes");
  if (rc != CURLE_OK) return transport_error(rc, impl_->error, url);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  char* type = nullptr;
  curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
  if (type) response.content_type = type;
  return response;
}

Result<Response> Client::signed_request(const crypto::KeyPair& key, uint64_t host_id,
                                        std::string_view method, std::string_view path,
                                        ByteView body, std::string_view content_type,
                                        std::chrono::milliseconds timeout) {
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const crypto::SignedHeaders s = crypto::sign_request(key, host_id, method, path, now, body);
  const Headers headers = {{crypto::kHostHeader, s.host_id},
                           {crypto::kTimestampHeader, s.timestamp},
                           {crypto::kNonceHeader, s.nonce},
                           {crypto::kSignatureHeader, s.signature}};
  return request(method, path, body, content_type, headers, timeout);
}

Status status_of(const Response& response) {
  if (response.status >= 200 && response.status < 300) return Status::Ok();
  const auto json = nlohmann::json::parse(response.body, nullptr, false);
  if (json.is_object() && json.contains("error") && json["error"].is_string()) {
    Code code = code_for_http(response.status);
    if (json.contains("code") && json["code"].is_string())
      code_from_name(json["code"].get<std::string>(), code);
    return Status(code, json["error"].get<std::string>());
  }
  std::string start = response.body.substr(0, 200);
  return Status(code_for_http(response.status), "the server answered HTTP " +
                                                    std::to_string(response.status) +
                                                    (start.empty() ? std::string() : ": " + start));
}

Result<std::string> ok_body(Result<Response> response) {
  if (!response.ok()) return response.status();
  P2C2R_RETURN_IF_ERROR(status_of(response.value()));
  return std::move(response.value().body);
}

Result<std::string> fetch_server_pin(const std::string& base_url,
                                     std::chrono::milliseconds timeout) {
  global_init();
  if (base_url.rfind("https://", 0) != 0)
    return invalid_argument("server URL '" + base_url + "' must start with https://");
  CurlPtr curl(curl_easy_init());
  if (!curl) return internal_error("curl_easy_init failed");
  CURL* c = curl.get();
  char error[CURL_ERROR_SIZE] = {};
  std::string body;
  Sink sink{&body, 1 << 16};
  std::string url = base_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += "/healthz";
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);  // first use: we learn the key, then pin it
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(c, CURLOPT_CERTINFO, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) return transport_error(rc, error, url);
  curl_certinfo* info = nullptr;
  if (curl_easy_getinfo(c, CURLINFO_CERTINFO, &info) != CURLE_OK || !info || info->num_of_certs < 1)
    return internal_error("the TLS library did not return the server's certificate");
  for (curl_slist* item = info->certinfo[0]; item; item = item->next) {
    std::string_view field(item->data);
    if (field.rfind("Cert:", 0) == 0) return pin_of_pem(field.substr(5));
  }
  return internal_error("the server's certificate was not in the TLS details");
}

Result<std::string> pin_of_certificate_file(const std::string& pem_path) {
  std::FILE* f = std::fopen(pem_path.c_str(), "rb");
  if (!f) return not_found("cannot read certificate " + pem_path);
  std::string pem;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) pem.append(buf, n);
  std::fclose(f);
  auto pin = pin_of_pem(pem);
  if (!pin.ok()) return pin.status().with_context(pem_path);
  return pin;
}

}  // namespace p2c2r::http
