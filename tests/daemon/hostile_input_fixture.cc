#include "daemon/hostile_input_fixture.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/pki/ocsp.h"
#include "certctl/util/files.h"
#include "support/test_pki.h"

namespace certctl::testing {

std::ostream& operator<<(std::ostream& os, const State& s) {
  return os << "{certificates " << s.certificates << ", revocations " << s.revocations
            << ", cached rows " << s.cached_rows << ", cached in memory "
            << s.cached_in_memory << ", audit events " << s.audit_events << ", epochs "
            << s.epochs << "}";
}

namespace {

Answer ParseAnswer(const std::string& raw) {
  Answer a;
  size_t end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return a;
  a.status = std::stoi(raw.substr(9, 3));
  a.head = raw.substr(0, end);
  a.body = raw.substr(end + 4);
  return a;
}

}  // namespace

std::string HttpRequestBytes(const std::string& method, const std::string& target,
                             const std::vector<std::string>& headers,
                             const std::string& body,
                             std::optional<size_t> content_length) {
  std::string out = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  bool chunked = false;
  for (const auto& h : headers) {
    out += h + "\r\n";
    chunked |= h.rfind("Transfer-Encoding:", 0) == 0;
  }
  if (method == "POST" && !chunked) {
    out += "Content-Length: " + std::to_string(content_length.value_or(body.size())) +
           "\r\n";
  }
  return out + "Connection: close\r\n\r\n" + body;
}

std::string ChunkedBody(size_t total) {
  std::string out;
  for (size_t sent = 0; sent < total;) {
    size_t n = std::min<size_t>(total - sent, 16384);
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", n);
    out += size + std::string(n, 'x') + "\r\n";
    sent += n;
  }
  return out + "0\r\n\r\n";
}

std::string WithUnknownHashOid(std::string der) {
  const std::string sha1("\x06\x05\x2b\x0e\x03\x02\x1a", 7);
  const std::string unknown("\x06\x05\x2b\x0e\x03\x02\x63", 7);
  for (size_t at; (at = der.find(sha1)) != std::string::npos;) {
    der.replace(at, sha1.size(), unknown);
  }
  return der;
}

void ExpectCleanError(const Answer& a, const std::string& reason) {
  auto j = nlohmann::json::parse(a.body, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << a.body;
  std::string message = j["error"]["message"].is_string() ? j["error"]["message"] : "";
  EXPECT_NE(message.find(reason), std::string::npos)
      << "\"" << message << "\" lacks \"" << reason << "\"";
  for (const char* leak :
       {"ERROR:", "SQLSTATE", "invalid byte sequence", "pqxx", "insert certificate"}) {
    EXPECT_EQ(a.body.find(leak), std::string::npos) << a.body;
  }
}

void HostileInputTest::SetUp() {
  ServerTest::SetUp();
  if (HasFatalFailure()) return;
  auto options = DefaultOptions();
  options.timeouts.read = std::chrono::milliseconds(500);  // the stalled rows' wait
  Restart(options);
  auto ca = LoadCertificateFile(ca_cert_path_);
  ASSERT_TRUE(ca.ok());
  ca_ = std::move(ca).value();
}

State HostileInputTest::Now() {
  // certctld writes answers back in batches: what was queued counts as done.
  app_->ocsp().FlushWriteBacks();
  State s;
  s.certificates = Count("certificates");
  s.revocations = Count("certificate_revocations");
  s.cached_rows = Count("ocsp_response_cache");
  s.cached_in_memory = app_->ocsp().MemoryEntries();
  s.audit_events = Count("audit_events");
  s.epochs = Sql(url_,
                 "SELECT string_agg(revocation_epoch::text, ',' ORDER BY id) "
                 "FROM issuers");
  return s;
}

Answer HostileInputTest::Exchange(bool api, const std::string& bytes, Ending ending) {
  RawClient client(api ? server_->api_address() : server_->pki_address());
  EXPECT_TRUE(client.connected());
  if (api) {
    EXPECT_TRUE(client.StartTls(ca_cert_path_));
  }
  client.Send(bytes);  // may fail part way when the server refuses early
  if (ending == Ending::kHalfClose) client.HalfClose();
  // Far longer than the read timeout: every row ends before.
  Answer a = ParseAnswer(client.ReadUntilClosed(std::chrono::seconds(20)));
  EXPECT_TRUE(client.ClosedByServer());
  return a;
}

std::string HostileInputTest::OcspRequest(const std::vector<Serial>& serials,
                                          const EVP_MD* md) {
  auto der = MakeOcspRequestDer(ca_.get(), serials, md);
  EXPECT_TRUE(der.ok()) << der.status().ToString();
  return der.ok() ? *der : "";
}

std::string HostileInputTest::CliKeyCsr(const std::vector<std::string>& args,
                                        const std::string& cn) {
  std::string path = *dir_ / "cli.key";
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"-out", path});
  EXPECT_EQ(Command(argv).exit_code, 0);
  auto pem = ReadFile(path);
  auto key = ParsePrivateKeyPem(pem.ok() ? *pem : "");
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  if (!key.ok()) return "";
  return CsrPem({.subject = {Cn(cn)}, .key = key->get()});
}

}  // namespace certctl::testing
