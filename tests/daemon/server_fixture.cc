#include "daemon/server_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <thread>

#include "certctl/config/config.h"
#include "certctl/pki/ca.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/util/files.h"
#include "support/test_pki.h"

namespace certctl::testing {

RawClient::RawClient(const std::string& host_port) {
  auto hp = ParseHostPort(host_port);
  if (!hp.ok()) return;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(hp->port);
  ::inet_pton(AF_INET, hp->host.c_str(), &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return;
  }
  fd_ = fd;
}

RawClient::~RawClient() {
  if (tls_) SSL_free(tls_);
  if (tls_ctx_) SSL_CTX_free(tls_ctx_);
  if (fd_ >= 0) ::close(fd_);
}

bool RawClient::StartTls(const std::string& ca_file) {
  if (fd_ < 0 || tls_) return false;
  std::signal(SIGPIPE, SIG_IGN);
  tls_ctx_ = SSL_CTX_new(TLS_client_method());
  if (!tls_ctx_ || SSL_CTX_load_verify_locations(tls_ctx_, ca_file.c_str(), nullptr) != 1)
    return false;
  SSL_CTX_set_verify(tls_ctx_, SSL_VERIFY_PEER, nullptr);
  tls_ = SSL_new(tls_ctx_);
  if (!tls_ || X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(tls_), "127.0.0.1") != 1 ||
      SSL_set_fd(tls_, fd_) != 1) {
    return false;
  }
  return SSL_connect(tls_) == 1;
}

bool RawClient::Send(const std::string& bytes) {
  size_t done = 0;
  while (fd_ >= 0 && done < bytes.size()) {
    long n = 0;
    if (tls_) {
      size_t step = std::min<size_t>(bytes.size() - done, 1 << 20);
      n = SSL_write(tls_, bytes.data() + done, static_cast<int>(step));
    } else {
      n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    }
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return fd_ >= 0;
}

void RawClient::HalfClose() {
  if (tls_) {
    SSL_shutdown(tls_);
  } else if (fd_ >= 0) {
    ::shutdown(fd_, SHUT_WR);
  }
}

namespace {

// Waits for the socket to be readable; false at `deadline`.
bool Readable(int fd, std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() < 0) left = std::chrono::milliseconds(0);
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(left.count())) > 0;
}

}  // namespace

long RawClient::Receive(char* buf, size_t size,
                        std::chrono::steady_clock::time_point deadline) {
  if (fd_ < 0) return -1;
  if (closed_) return 0;
  // TLS may hold decrypted bytes the socket no longer shows.
  if (!(tls_ && SSL_pending(tls_) > 0) && !Readable(fd_, deadline)) return -1;
  if (!tls_) {
    long n = ::recv(fd_, buf, size, 0);
    closed_ = n <= 0;
    return n;
  }
  int n = SSL_read(tls_, buf, static_cast<int>(size));
  if (n > 0) return n;
  int error = SSL_get_error(tls_, n);
  // A close_notify or a plain EOF: closed; a record without application
  // data (a session ticket) only wants another read.
  if (error == SSL_ERROR_ZERO_RETURN || error == SSL_ERROR_SYSCALL ||
      error == SSL_ERROR_SSL) {
    closed_ = true;
    return 0;
  }
  return Receive(buf, size, deadline);
}

std::string RawClient::ReadUntilClosed(std::chrono::milliseconds limit) {
  std::string out = std::move(pending_);
  pending_.clear();
  auto deadline = std::chrono::steady_clock::now() + limit;
  char buf[4096];
  for (long n; (n = Receive(buf, sizeof buf, deadline)) > 0;) {
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string RawClient::ReadResponse(std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  char buf[4096];
  for (;;) {
    size_t end = pending_.find("\r\n\r\n");
    if (end != std::string::npos) {
      size_t length = 0;
      std::string head = pending_.substr(0, end);
      for (auto& c : head) c = static_cast<char>(std::tolower(c));
      if (size_t at = head.find("\r\ncontent-length:"); at != std::string::npos) {
        length = std::stoul(head.substr(at + 17));
      }
      if (pending_.size() >= end + 4 + length) {
        std::string response = pending_.substr(0, end + 4 + length);
        pending_.erase(0, end + 4 + length);
        return response;
      }
    }
    long n = Receive(buf, sizeof buf, deadline);
    if (n <= 0) return "";
    pending_.append(buf, static_cast<size_t>(n));
  }
}

bool RawClient::ClosedByServer(std::chrono::milliseconds limit) {
  if (fd_ < 0 || closed_) return true;
  auto deadline = std::chrono::steady_clock::now() + limit;
  char buf[4096];
  for (;;) {
    if (!(tls_ && SSL_pending(tls_) > 0) && !Readable(fd_, deadline)) return false;
    long n = Receive(buf, sizeof buf, deadline);
    if (n <= 0) return true;  // EOF, reset or close_notify
    pending_.append(buf, static_cast<size_t>(n));
  }
}

void ServerTest::SetUp() {
  DaemonTest::SetUp();
  if (HasFatalFailure()) return;
  auto ca = LoadCa(ca_cert_path_, ca_key_path_, std::chrono::system_clock::now());
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  ServerCertificate server = LocalhostServerCertificate(ca->cert.get(), ca->key.get());
  tls_cert_ = WriteFile("server.crt", server.cert_pem);
  tls_key_ = *dir_ / "server.key";
  ASSERT_TRUE(WritePrivateKeyFile(tls_key_, server.key.get()).ok());
  tls_ = std::make_unique<daemon::TlsContextHolder>(tls_cert_, tls_key_);
  ASSERT_TRUE(tls_->Reload().ok());
  Restart(DefaultOptions());
}

void ServerTest::TearDown() {
  server_.reset();
  DaemonTest::TearDown();
}

daemon::ServerOptions ServerTest::DefaultOptions() {
  daemon::ServerOptions options;
  options.drain_timeout = std::chrono::seconds(10);
  return options;
}

void ServerTest::Restart(const daemon::ServerOptions& options) {
  if (server_) {
    server_.reset();
    NewApp();  // the old one is draining for good
  }
  server_ = std::make_unique<daemon::Server>(*app_, *tls_, options);
  Status s = server_->Open("127.0.0.1:0", "127.0.0.1:0");
  ASSERT_TRUE(s.ok()) << s.ToString();
  server_->Start(nullptr);
  api_ = "https://" + server_->api_address();
  pki_ = "http://" + server_->pki_address();
}

std::string ServerTest::HttpCode(std::vector<std::string> args) {
  std::vector<std::string> argv = {"curl",     "-s",           "-o",         "/dev/null",
                                   "-w",       "%{http_code}", "--max-time", "20",
                                   "--cacert", ca_cert_path_};
  argv.insert(argv.end(), args.begin(), args.end());
  return Command(argv).output;
}

double ServerTest::Metric(const std::string& name, const daemon::Labels& labels) {
  return app_->metrics().Value(name, labels);
}

}  // namespace certctl::testing
