// p2c2r server: the work-unit server over one data directory.
#include "server/server.h"

#include <signal.h>

#include <iostream>

#include "cli/options.h"

namespace p2c2r::cli {

int server_command(const Args& args) {
  server::ServerOptions o;
  po::options_description options("server options");
  options.add_options()(
      "data-dir", po::value(&o.data_dir)->required(),
      "state directory: database, blobs, keys, token, certificate (created if missing)")(
      "listen", po::value(&o.listen)->default_value(o.listen),
      "address:port to serve HTTPS on (port 0: any free port)")(
      "tls-cert", po::value(&o.tls_cert),
      "PEM certificate (chain) to serve instead of the self-signed one")(
      "tls-key", po::value(&o.tls_key), "PEM private key of --tls-cert")(
      "threads", po::value(&o.threads)->default_value(o.threads), "HTTP worker threads")(
      "max-wait-ms", po::value(&o.max_wait_ms)->default_value(o.max_wait_ms),
      "cap on a work request's long poll")(
      "no-fsync", "commit with synchronous=NORMAL: survives a killed process, not a power loss")(
      "device", po::value(&o.device),
      "Vulkan device for the server's trusted re-execution (index or name; default: best)")(
      "no-trusted-device",
      "no trusted re-execution: spot checks go to another host, failing quorums fail the unit");
  po::variables_map vm;
  if (auto code =
          parse("server", "--data-dir DIR [--listen HOST:PORT] [--tls-cert FILE --tls-key FILE]",
                args, options, vm))
    return *code;
  o.synchronous_full = !vm.count("no-fsync");
  o.trusted_device = !vm.count("no-trusted-device");

  // SIGTERM/SIGINT are taken synchronously below, so block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto srv = server::Server::start(o, std::cout);
  if (!srv.ok()) return fail("server", srv.status());
  std::cout << "admin token in " << o.data_dir << "/admin.token, certificate "
            << (*srv)->cert_file() << "\n"
            << "listening on " << (*srv)->url() << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  std::cout << "received " << (sig == SIGTERM ? "SIGTERM" : "SIGINT") << "; stopping" << std::endl;
  (*srv)->stop();
  std::cout << "stopped" << std::endl;
  return 0;
}

}  // namespace p2c2r::cli
