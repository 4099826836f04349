#include "server/http_server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

namespace p2c2r::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

struct HttpServer::Impl {
  Impl(const HttpOptions& o, Api& a)
      : options(o),
        api(a),
        ioc(static_cast<int>(o.threads)),
        tls(ssl::context::tls_server),
        acceptor(ioc) {}

  void accept();
  void request_started() { ++in_flight; }
  void request_done() {
    if (--in_flight == 0) {
      std::lock_guard lock(mu);
      cv.notify_all();
    }
  }

  HttpOptions options;
  Api& api;
  net::io_context ioc;
  ssl::context tls;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
  std::atomic<int64_t> in_flight{0};
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable cv;
};

namespace {

std::string header(const http::request<http::string_body>& req, std::string_view name) {
  auto it = req.find(beast::string_view(name.data(), name.size()));
  return it == req.end() ? std::string() : std::string(it->value());
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl& server)
      : stream_(std::move(socket), server.tls), server_(server) {}

  void run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->handshake(); });
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void handshake() {
    lowest().expires_after(server_.options.read_timeout);
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) {
                              if (!ec) self->read();
                            });
  }

  void read() {
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    parser_->body_limit(server_.options.max_body_bytes);
    lowest().expires_after(server_.options.read_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_error(ec);
    // Only output uploads may be large; everything else is a small JSON body.
    const auto target = parser_->get().target();
    const bool upload =
        parser_->get().method() == http::verb::put && target.starts_with("/v1/replicas/");
    const uint64_t limit = upload ? server_.options.max_body_bytes : server_.options.max_json_bytes;
    if (auto length = parser_->content_length(); length && *length > limit) return too_large(limit);
    parser_->body_limit(limit);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this(), limit](beast::error_code ec, size_t) {
                       if (ec == http::error::body_limit) return self->too_large(limit);
                       self->on_read(ec);
                     });
  }

  void on_error(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return shutdown();
    if (ec == http::error::header_limit) {
      keep_alive_ = false;
      return reply(error_reply(resource_exhausted("request headers exceed 16 KiB")), false);
    }
    if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
      keep_alive_ = false;
      return reply(error_reply(invalid_argument("malformed HTTP request: " + ec.message())), false);
    }
    // Timeouts, resets, TLS failures: nobody to answer.
    beast::error_code ignored;
    lowest().socket().close(ignored);
  }

  void too_large(uint64_t limit) {
    keep_alive_ = false;
    drain_ = true;  // the rest of the body is unread; the connection cannot be reused
    reply(error_reply(resource_exhausted("request body exceeds the limit of " +
                                         std::to_string(limit) + " bytes")),
          false);
  }

  void on_read(beast::error_code ec) {
    if (ec) return on_error(ec);
    lowest().expires_never();  // a long poll may wait; the coordinator bounds it
    auto msg = parser_->release();
    keep_alive_ = msg.keep_alive();
    if (server_.stopping) {
      keep_alive_ = false;
      return reply(error_reply(unavailable("the server is shutting down")), false);
    }
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.host = header(msg, crypto::kHostHeader);
    req.timestamp = header(msg, crypto::kTimestampHeader);
    req.nonce = header(msg, crypto::kNonceHeader);
    req.signature = header(msg, crypto::kSignatureHeader);
    req.authorization = header(msg, "Authorization");
    req.content_type = header(msg, "Content-Type");
    req.body = std::move(msg.body());
    server_.request_started();
    server_.api.handle(req, [self = shared_from_this()](Reply r) {
      net::post(self->stream_.get_executor(),
                [self, r = std::move(r)]() mutable { self->reply(std::move(r), true); });
    });
  }

  void reply(Reply r, bool counted) {
    res_ = {};
    res_.version(11);
    res_.result(static_cast<http::status>(r.status));
    res_.set(http::field::server, "p2c2r");
    if (!r.body.empty() || r.status != 204) res_.set(http::field::content_type, r.content_type);
    res_.body() = std::move(r.body);
    res_.keep_alive(keep_alive_ && !server_.stopping);
    res_.prepare_payload();
    lowest().expires_after(server_.options.read_timeout);
    http::async_write(stream_, res_,
                      [self = shared_from_this(), counted](beast::error_code ec, size_t) {
                        if (counted) self->server_.request_done();
                        if (ec) return;
                        if (self->drain_) return self->drain();
                        if (!self->res_.keep_alive()) return self->shutdown();
                        self->read();
                      });
  }

  // After a 413 the client may still be sending the body; closing at once
  // would reset the connection before it reads the reply. Read and discard
  // (bounded in bytes and time) until it stops, then close.
  void drain() {
    lowest().expires_after(std::chrono::seconds(5));
    stream_.async_read_some(net::buffer(scratch_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > 2 * self->server_.options.max_body_bytes) {
                                beast::error_code ignored;
                                return void(self->lowest().socket().close(ignored));
                              }
                              self->drain();
                            });
  }

  void shutdown() {
    lowest().expires_after(std::chrono::seconds(5));
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {
      beast::error_code ignored;
      self->lowest().socket().close(ignored);
    });
  }

  beast::ssl_stream<beast::tcp_stream> stream_;
  HttpServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  bool keep_alive_ = true;
  bool drain_ = false;
  uint64_t drained_ = 0;
  std::array<char, 16384> scratch_;
};

}  // namespace

void HttpServer::Impl::accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    } else {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(socket), *this)->run();
    }
    accept();
  });
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(const HttpOptions& options, Api& api) {
  auto impl = std::make_unique<Impl>(options, api);
  try {
    impl->tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                          ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                          ssl::context::no_tlsv1_1);
    impl->tls.use_certificate_chain_file(options.cert_file);
    impl->tls.use_private_key_file(options.key_file, ssl::context::pem);
  } catch (const boost::system::system_error& e) {
    return invalid_argument("TLS certificate " + options.cert_file + " / key " + options.key_file +
                            ": " + e.what());
  }
  beast::error_code ec;
  const auto address = net::ip::make_address(options.address, ec);
  if (ec) return invalid_argument("listen address '" + options.address + "': " + ec.message());
  const tcp::endpoint endpoint(address, options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return unavailable("cannot listen on " + options.address + ":" + std::to_string(options.port) +
                       ": " + ec.message());
  impl->accept();
  for (unsigned i = 0; i < std::max(1u, options.threads); ++i)
    impl->threads.emplace_back([ioc = &impl->ioc] { ioc->run(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { stop(); }

uint16_t HttpServer::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void HttpServer::stop() {
  if (impl_->threads.empty()) return;
  impl_->stopping = true;
  net::post(impl_->ioc, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  {
    std::unique_lock lock(impl_->mu);
    impl_->cv.wait_for(lock, impl_->options.drain_timeout, [&] { return impl_->in_flight == 0; });
  }
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace p2c2r::server
