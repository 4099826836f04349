#include "server/tls.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

namespace p2c2r::server {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(FILE* f) const { std::fclose(f); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

Status add_extension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  Owned<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
    return internal_error("cannot add certificate extension " + value);
  return Status::Ok();
}

// Opens `path` for writing with `mode`, replacing what was there.
Result<Owned<FILE>> create(const std::string& path, mode_t mode) {
  ::unlink(path.c_str());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return internal_error("cannot create " + path);
  FILE* f = ::fdopen(fd, "w");
  if (!f) {
    ::close(fd);
    return internal_error("cannot open " + path);
  }
  return Owned<FILE>(f);
}

}  // namespace

Status create_self_signed_certificate(const std::string& cert_path, const std::string& key_path,
                                      const std::vector<std::string>& extra_names) {
  Owned<EVP_PKEY> key(EVP_EC_gen("P-256"));
  Owned<X509> cert(X509_new());
  if (!key || !cert) return internal_error("OpenSSL cannot generate a key");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("p2c2r server"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  std::string san = "DNS:localhost,IP:127.0.0.1,IP:::1";
  for (const auto& n : extra_names)
    san += (n.find_first_not_of("0123456789.:") == std::string::npos ? ",IP:" : ",DNS:") + n;
  // CA:TRUE so that the certificate can be its own trust anchor in a CA file.
  P2C2R_RETURN_IF_ERROR(add_extension(cert.get(), NID_basic_constraints, "critical,CA:TRUE"));
  P2C2R_RETURN_IF_ERROR(
      add_extension(cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign"));
  P2C2R_RETURN_IF_ERROR(add_extension(cert.get(), NID_subject_alt_name, san));
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
    return internal_error("OpenSSL cannot sign the certificate");

  P2C2R_ASSIGN_OR_RETURN(auto key_file, create(key_path, 0600));
  if (PEM_write_PrivateKey(key_file.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      std::fflush(key_file.get()) != 0 || ::fsync(::fileno(key_file.get())) != 0)
    return internal_error("cannot write " + key_path);
  P2C2R_ASSIGN_OR_RETURN(auto cert_file, create(cert_path, 0644));
  if (PEM_write_X509(cert_file.get(), cert.get()) != 1 || std::fflush(cert_file.get()) != 0 ||
      ::fsync(::fileno(cert_file.get())) != 0)
    return internal_error("cannot write " + cert_path);
  return Status::Ok();
}

}  // namespace p2c2r::server
