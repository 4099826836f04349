#include "server/server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "common/crypto.h"
#include "common/http_client.h"
#include "kernels/registry.h"
#include "runtime/execute.h"
#include "server/api.h"
#include "server/coordinator.h"
#include "server/http_server.h"
#include "server/tls.h"

namespace p2c2r::server {

struct Server::Parts {
  ServerOptions options;
  kernels::Registry registry;
  crypto::KeyPair key;
  std::string admin_token, cert_file, host;
  std::unique_ptr<Store> store;
  std::unique_ptr<GroupCommit> commit;
  std::unique_ptr<BlobStore> blobs;
  std::unique_ptr<runtime::Device> device;  // outlives the coordinator's trusted runner
  std::unique_ptr<Coordinator> coordinator;
  std::unique_ptr<Api> api;
  std::unique_ptr<HttpServer> http;
  bool stopped = false;
};

Result<std::pair<std::string, uint16_t>> parse_listen(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return invalid_argument("--listen '" + listen + "': expected host:port, e.g. 127.0.0.1:8765");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const std::string port = listen.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535)
    return invalid_argument("--listen '" + listen + "': port must be 0..65535");
  return std::pair{host, static_cast<uint16_t>(std::stoul(port))};
}

Result<std::string> read_secret(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return not_found("cannot read " + path);
  if (st.st_mode & 077)
    return permission_denied(path +
                             " is readable by group or others; chmod 600 it (it holds a secret)");
  std::ifstream in(path);
  std::string token;
  std::getline(in, token);
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.empty()) return invalid_argument(path + " is empty");
  return token;
}

namespace {

Status write_secret(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  const mode_t old = ::umask(077);
  std::ofstream out(tmp);
  ::umask(old);
  out << text << "\n";
  out.close();
  if (!out || ::chmod(tmp.c_str(), 0600) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0)
    return internal_error("cannot write " + path);
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Server>> Server::start(const ServerOptions& options, std::ostream& log) {
  if (options.data_dir.empty()) return invalid_argument("--data-dir is required");
  P2C2R_ASSIGN_OR_RETURN(auto listen, parse_listen(options.listen));
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(options.data_dir, ec);
  if (ec) return internal_error("cannot create data dir " + options.data_dir + ": " + ec.message());
  fs::permissions(options.data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  const std::string dir = fs::canonical(options.data_dir).string();

  auto p = std::make_unique<Parts>();
  p->options = options;
  p->registry = kernels::builtin_registry();
  p->host = listen.first;

  const std::string key_path = dir + "/server.key";
  if (!fs::exists(key_path)) {
    P2C2R_RETURN_IF_ERROR(crypto::KeyPair::generate().save(key_path));
    log << "created the server signing key (Ed25519) " << key_path << "\n";
  }
  P2C2R_ASSIGN_OR_RETURN(p->key, crypto::KeyPair::load(key_path));

  const std::string token_path = dir + "/admin.token";
  if (!fs::exists(token_path)) {
    P2C2R_RETURN_IF_ERROR(write_secret(token_path, crypto::random_hex(32)));
    log << "created the admin token " << token_path << "\n";
  }
  P2C2R_ASSIGN_OR_RETURN(p->admin_token, read_secret(token_path));

  std::string cert = options.tls_cert, tls_key = options.tls_key;
  if (cert.empty() != tls_key.empty())
    return invalid_argument("--tls-cert and --tls-key go together");
  if (cert.empty()) {
    cert = dir + "/tls.crt";
    tls_key = dir + "/tls.key";
    if (!fs::exists(cert) || !fs::exists(tls_key)) {
      std::vector<std::string> names;
      if (listen.first != "127.0.0.1" && listen.first != "0.0.0.0" && listen.first != "::")
        names.push_back(listen.first);
      P2C2R_RETURN_IF_ERROR(create_self_signed_certificate(cert, tls_key, names));
      log << "created a self-signed TLS certificate " << cert << " (key " << tls_key << ")\n";
    }
  }
  p->cert_file = cert;
  // What peers pass as --pin (or learn on first use) to trust this server.
  if (auto pin = http::pin_of_certificate_file(cert); pin.ok())
    log << "server key pin " << *pin << "\n";

  P2C2R_ASSIGN_OR_RETURN(p->store, open_sqlite_store(dir + "/p2c2r.db", options.synchronous_full));
  P2C2R_ASSIGN_OR_RETURN(auto snapshot, p->store->load());
  // A failed commit leaves memory ahead of the disk: stop at once, restart reloads what is durable.
  p->commit = std::make_unique<GroupCommit>(*p->store, [](const Status& s) {
    std::fprintf(stderr, "p2c2r server: store commit failed (%s); stopping\n",
                 s.to_string().c_str());
    std::fflush(stderr);
    ::_exit(70);
  });
  p->blobs = std::make_unique<BlobStore>(dir + "/blobs");
  CoordinatorOptions co;
  co.registry = &p->registry;
  co.server_key = &p->key;
  co.max_wait_ms = options.max_wait_ms;
  if (options.trusted_device) {
    // Without a device the server still serves: its checks go to other hosts.
    if (auto dev = runtime::open_device(options.device); dev.ok()) {
      p->device = std::move(*dev);
      log << "trusted re-execution on " << p->device->info().name << "\n";
    } else {
      log << "trusted re-execution disabled: " << dev.status().message() << "\n";
    }
  }
  co.trusted_device = p->device.get();
  p->coordinator = std::make_unique<Coordinator>(co, *p->commit, *p->blobs);
  P2C2R_RETURN_IF_ERROR(
      p->coordinator->load(snapshot).with_context("loading " + dir + "/p2c2r.db"));
  p->coordinator->start();
  p->api = std::make_unique<Api>(*p->coordinator, p->admin_token);
  HttpOptions ho;
  ho.address = listen.first;
  ho.port = listen.second;
  ho.cert_file = cert;
  ho.key_file = tls_key;
  ho.threads = options.threads;
  P2C2R_ASSIGN_OR_RETURN(p->http, HttpServer::start(ho, *p->api));
  return std::unique_ptr<Server>(new Server(std::move(p)));
}

Server::Server(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Server::~Server() { stop(); }

uint16_t Server::port() const { return parts_->http->port(); }

std::string Server::url() const {
  const std::string& h = parts_->host;
  const std::string host = h.find(':') != std::string::npos ? "[" + h + "]" : h;
  return "https://" + host + ":" + std::to_string(port());
}

const std::string& Server::cert_file() const { return parts_->cert_file; }
const std::string& Server::admin_token() const { return parts_->admin_token; }

void Server::stop() {
  if (parts_->stopped) return;
  parts_->stopped = true;
  parts_->coordinator->stop();  // long polls answer 204 now
  parts_->http->stop();         // in-flight requests get their replies
  parts_->commit->flush();
}

}  // namespace p2c2r::server
