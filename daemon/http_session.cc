#include "daemon/http_session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <optional>

#include "certctl/log/logging.h"
#include "daemon/router.h"

namespace certctl::daemon {
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

std::string Lower(beast::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view View(beast::string_view s) { return {s.data(), s.size()}; }

HttpRequest ToRequest(http::request<http::string_body>&& r, ListenerKind kind,
                      const std::string& remote) {
  HttpRequest out;
  out.method = std::string(r.method_string());
  out.target = std::string(r.target());
  for (const auto& field : r) {
    out.headers.emplace_back(Lower(field.name_string()), std::string(field.value()));
  }
  out.body = std::move(r.body());
  out.listener = kind;
  out.remote = remote;
  return out;
}

// Server and Date (RFC 9110 6.6.1: every response of a server with a clock,
// errors and 304s included), then the handler's headers.
template <class Message>
void CopyHeaders(const HttpResponse& from, TimePoint now, Message& to) {
  to.set(http::field::server, "certctld/" CERTCTL_VERSION);
  to.set(http::field::date, HttpDate(now));
  for (const auto& [name, value] : from.headers) to.set(name, value);
}

// A response whose body is an HttpResponse::shared_body: the message's span
// points into the shared bytes, which the message's owner keeps alive.
struct SharedBodyResponse {
  std::shared_ptr<const std::string> bytes;
  http::response<http::span_body<const char>> message;
};

// The message of `holder`, owning `holder` (an aliasing shared_ptr), so that
// Write keeps the shared bytes alive until they are written.
std::shared_ptr<http::response<http::span_body<const char>>> SharedBodyMessage(
    http::status status, unsigned version, std::shared_ptr<const std::string> bytes) {
  auto holder = std::make_shared<SharedBodyResponse>();
  holder->bytes = std::move(bytes);
  holder->message.result(status);
  holder->message.version(version);
  holder->message.body() = {holder->bytes->data(), holder->bytes->size()};
  return {holder, &holder->message};
}

// The request/response loop shared by the plain and the TLS session
// (CRTP, as in the Beast examples): Derived provides stream(), Cancel()
// and DoClose().
template <class Derived>
class HttpSession : public SessionControl {
 public:
  HttpSession(ServerShared& shared, ListenerKind kind, std::string remote)
      : shared_(shared), kind_(kind), remote_(std::move(remote)) {}
  ~HttpSession() override {
    if (id_) shared_.connections.Remove(id_);
  }

  void StopIfIdle() override {
    net::dispatch(derived().stream().get_executor(),
                  [self = derived().shared_from_this()] {
                    if (!self->busy_) self->Cancel();
                  });
  }

  void Shed() override {
    net::dispatch(derived().stream().get_executor(),
                  [self = derived().shared_from_this()] {
                    self->shed_ = true;  // no keep-alive after a response in flight
                    if (!self->busy_) self->Cancel();
                  });
  }

  // Takes a slot (Connections::Admit) and runs the session. Refused, the
  // session is dropped by its caller, which closes the connection.
  void Admit() {
    auto admission = shared_.connections.Admit(kind_, derived().shared_from_this());
    if (!admission) return;
    id_ = admission->id;
    reserved_ = admission->reserved;
    net::dispatch(derived().stream().get_executor(),
                  [self = derived().shared_from_this()] { self->derived().OnStart(); });
  }

 protected:
  Derived& derived() { return static_cast<Derived&>(*this); }
  const std::shared_ptr<spdlog::logger>& logger() { return shared_.app.logger(); }
  const SessionTimeouts& timeouts() const { return shared_.timeouts; }

  void DoRead() {
    if (shared_.app.readiness().draining() || shed_) return derived().DoClose();
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(kApiBodyLimit);
    beast::get_lowest_layer(derived().stream()).expires_after(timeouts().read);
    http::async_read_header(derived().stream(), buffer_, *parser_,
                            beast::bind_front_handler(&HttpSession::OnReadHeader,
                                                      derived().shared_from_this()));
  }

 private:
  void OnReadHeader(beast::error_code ec, std::size_t) {
    if (ec) return OnReadError(ec);
    auto& req = parser_->get();
    if (reserved_ &&
        !MayUseReserve(View(req.target()), View(req[http::field::authorization]),
                       shared_.app.config())) {
      shared_.connections.CountReserveRefusal();
      HttpResponse busy = ErrorResponse(
          503, "unavailable", "certctld is at its connection limit; retry in a moment");
      busy.Set("Retry-After", "1");
      return Reject(std::move(busy));
    }
    size_t limit = kApiBodyLimit;
    if (req.target().starts_with(kPkiPrefix)) limit = kOcspBodyLimit;
    parser_->body_limit(limit);
    if (auto length = parser_->content_length(); length && *length > limit) {
      return Reject(ErrorResponse(
          413, "payload_too_large",
          "the request body is larger than " + std::to_string(limit) + " bytes"));
    }
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(
          http::status::continue_, req.version());
      continue_ = cont;
      beast::get_lowest_layer(derived().stream()).expires_after(timeouts().write);
      return http::async_write(
          derived().stream(), *cont,
          [self = derived().shared_from_this()](beast::error_code ec, std::size_t) {
            self->continue_.reset();
            if (ec) return Fail(self->logger(), ec, "write", self->remote_);
            self->ReadBody();
          });
    }
    ReadBody();
  }

  void ReadBody() {
    beast::get_lowest_layer(derived().stream()).expires_after(timeouts().read);
    http::async_read(
        derived().stream(), buffer_, *parser_,
        beast::bind_front_handler(&HttpSession::OnRead, derived().shared_from_this()));
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return derived().DoClose();
    if (ec == http::error::body_limit) {
      return Reject(
          ErrorResponse(413, "payload_too_large", "the request body is too large"));
    }
    if (ec == http::error::header_limit) {
      return Reject(
          ErrorResponse(431, "headers_too_large", "the request headers are too large"));
    }
    if (ec == http::error::partial_message) {
      // The client half-closed before sending all it announced; it can still
      // read the answer.
      return Reject(ErrorResponse(400, "bad_request",
                                  "the request ended before its announced body did"));
    }
    if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
      return Reject(
          ErrorResponse(400, "bad_request", "malformed HTTP request: " + ec.message()));
    }
    // The timed-out socket is closed already: nothing can be answered. An
    // idle keep-alive connection timing out is routine; a request begun and
    // not finished (slowloris, an announced body that never comes) is not.
    if (ec == beast::error::timeout && parser_ && parser_->got_some()) {
      shared_.app.metrics().CountConnectionError(
          kind_ == ListenerKind::kApi ? "api" : "pki", "request_timeout");
    }
    Fail(logger(), ec, "read", remote_);
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec) return OnReadError(ec);
    auto& r = parser_->get();
    keep_alive_ = r.keep_alive();
    version_ = r.version();
    head_ = r.method() == http::verb::head;
    HttpRequest req = ToRequest(parser_->release(), kind_, remote_);
    SetBusy();
    // Handlers may wait for PostgreSQL or sign: run them on the worker pool
    // and come back to this connection's strand to write.
    net::post(shared_.workers,
              [self = derived().shared_from_this(), req = std::move(req)]() mutable {
                HttpResponse res = Route(std::move(req), self->shared_.app);
                auto executor = self->derived().stream().get_executor();
                net::dispatch(executor, [self, res = std::move(res)]() mutable {
                  self->Send(std::move(res));
                });
              });
  }

  void SetBusy() {
    busy_ = true;
    shared_.connections.SetBusy(id_);
  }

  // Answers without the router (limits, unparsable requests, a full
  // listener) and closes.
  void Reject(HttpResponse r) {
    shared_.app.metrics().CountRequest("rejected", r.status, std::chrono::seconds(0));
    keep_alive_ = false;
    version_ = parser_ ? parser_->get().version() : 11;
    head_ = false;
    SetBusy();
    Send(std::move(r));
  }

  void Send(HttpResponse r) {
    // A reserved slot serves one request: it is there for the next operator.
    bool keep =
        keep_alive_ && !shared_.app.readiness().draining() && !shed_ && !reserved_;
    auto status = static_cast<http::status>(r.status);
    TimePoint now = shared_.app.clock().Now();
    if (head_) {
      auto res = std::make_shared<http::response<http::empty_body>>(status, version_);
      CopyHeaders(r, now, *res);
      res->content_length(r.Body().size());
      res->keep_alive(keep);
      return Write(std::move(res));
    }
    if (r.shared_body) {
      return Finish(r, now, keep, SharedBodyMessage(status, version_, r.shared_body));
    }
    auto res = std::make_shared<http::response<http::string_body>>(status, version_);
    res->body() = std::move(r.body);
    Finish(r, now, keep, std::move(res));
  }

  template <class Message>
  void Finish(const HttpResponse& r, TimePoint now, bool keep,
              std::shared_ptr<Message> res) {
    CopyHeaders(r, now, *res);
    if (r.status != 304 && r.status != 204) res->prepare_payload();
    res->keep_alive(keep);
    Write(std::move(res));
  }

  template <class Message>
  void Write(std::shared_ptr<Message> msg) {
    bool close = msg->need_eof();
    response_ = msg;
    beast::get_lowest_layer(derived().stream()).expires_after(timeouts().write);
    http::async_write(
        derived().stream(), *msg,
        [self = derived().shared_from_this(), close](beast::error_code ec, std::size_t) {
          self->OnWrite(close, ec);
        });
  }

  void OnWrite(bool close, beast::error_code ec) {
    response_.reset();
    busy_ = false;
    if (ec) return Fail(logger(), ec, "write", remote_);
    if (close) {
      shared_.connections.SetClosing(id_);
      return derived().DoClose();
    }
    shared_.connections.SetIdle(id_);
    DoRead();
  }

  void Cancel() { derived().Cancel(); }

  ServerShared& shared_;
  ListenerKind kind_;
  std::string remote_;
  uint64_t id_ = 0;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<void> response_;  // kept alive while it is written
  std::shared_ptr<void> continue_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  bool head_ = false;
  bool busy_ = false;      // a request is being answered
  bool reserved_ = false;  // holds a reserved slot: see ConnectionLimits
  bool shed_ = false;      // told to make room: close after this request

 protected:
  ServerShared& shared() { return shared_; }
  const std::string& remote() const { return remote_; }
  bool shed() const { return shed_; }
};

class PlainSession : public HttpSession<PlainSession>,
                     public std::enable_shared_from_this<PlainSession> {
 public:
  PlainSession(tcp::socket&& socket, ServerShared& shared, ListenerKind kind,
               std::string remote)
      : HttpSession(shared, kind, std::move(remote)), stream_(std::move(socket)) {}

  beast::tcp_stream& stream() { return stream_; }

  void OnStart() { DoRead(); }
  void DoClose() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }
  void Cancel() { stream_.cancel(); }

 private:
  beast::tcp_stream stream_;
};

class TlsSession : public HttpSession<TlsSession>,
                   public std::enable_shared_from_this<TlsSession> {
 public:
  TlsSession(tcp::socket&& socket, ServerShared& shared, ListenerKind kind,
             std::string remote, std::shared_ptr<ssl::context> ctx)
      : HttpSession(shared, kind, std::move(remote)),
        ctx_(std::move(ctx)),
        stream_(std::move(socket), *ctx_) {}

  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }

  void OnStart() {
    // Shed before it started (another accept needed the slot) or draining.
    if (shed() || shared().app.readiness().draining()) return;
    beast::get_lowest_layer(stream_).expires_after(timeouts().handshake);
    stream_.async_handshake(
        ssl::stream_base::server,
        beast::bind_front_handler(&TlsSession::OnHandshake, shared_from_this()));
  }
  void DoClose() {
    beast::get_lowest_layer(stream_).expires_after(timeouts().shutdown);
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
  }
  void Cancel() { beast::get_lowest_layer(stream_).cancel(); }

 private:
  void OnHandshake(beast::error_code ec) {
    if (ec) {
      if (ec == net::error::operation_aborted) return;  // drained
      // Port scanners, health probes speaking plain TCP and clients that do
      // not trust the certificate fail here all day: count them for
      // /metrics and keep them out of the log unless debugging.
      shared().app.metrics().CountConnectionError("api", "tls_handshake");
      shared().app.logger()->debug("{} TLS handshake: {}", remote(), ec.message());
      return;
    }
    DoRead();
  }

  std::shared_ptr<ssl::context> ctx_;  // before stream_: the stream uses it
  beast::ssl_stream<beast::tcp_stream> stream_;
};

std::string RemoteOf(const tcp::socket& socket) {
  beast::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return "?";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

}  // namespace

void Fail(const std::shared_ptr<spdlog::logger>& logger, const beast::error_code& ec,
          const char* what, const std::string& remote) {
  if (ec == net::error::operation_aborted || ec == beast::error::timeout ||
      ec == net::error::eof || ec == http::error::end_of_stream ||
      ec == net::error::connection_reset || ec == net::error::broken_pipe ||
      ec == net::error::not_connected || ec == ssl::error::stream_truncated) {
    return;
  }
  // A client can provoke these at will (malformed requests, TLS garbage), so
  // they share one budget: at most 20 lines a second, the rest counted.
  static LogRateLimiter lines(20, std::chrono::seconds(1));
  uint64_t suppressed = 0;
  if (!lines.Allow(suppressed)) return;
  if (suppressed > 0) {
    logger->warn("{} {}: {} ({} similar lines suppressed)", remote, what, ec.message(),
                 suppressed);
  } else {
    logger->warn("{} {}: {}", remote, what, ec.message());
  }
}

// A refused session is dropped here, closing its socket.
void StartPlainSession(tcp::socket&& socket, ServerShared& shared, ListenerKind kind) {
  std::string remote = RemoteOf(socket);
  std::make_shared<PlainSession>(std::move(socket), shared, kind, std::move(remote))
      ->Admit();
}

void StartTlsSession(tcp::socket&& socket, ServerShared& shared, ListenerKind kind,
                     std::shared_ptr<ssl::context> ctx) {
  std::string remote = RemoteOf(socket);
  std::make_shared<TlsSession>(std::move(socket), shared, kind, std::move(remote),
                               std::move(ctx))
      ->Admit();
}

}  // namespace certctl::daemon
