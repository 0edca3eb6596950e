// Issue 8's hostile input against a running certctld, as clients send it:
// every OCSP request class (and, with --api, every hostile CSR and a wrong
// Content-Type) sent --repeat times. Prints per class the HTTP status, the
// OCSP responseStatus, the median and 99th percentile latency, then
// certctld's resident memory before and after (--pid), the OCSP answer for
// --serial after it all (must still be good) and how many certificates the
// API lists before and after (must not change). The assertions live in
// tests/daemon/hostile_{ocsp,api}_test.cc; this measures, for
// docs/reliability.md.
//
//   hostile_input --pki http://127.0.0.1:8080 --issuer iss-local
//       --ca-cert var/dev/ca/ca.crt --serial 5a3c... --pid 1234
//       --api https://127.0.0.1:8443 --api-key-file var/dev/api-key
//       --explicit-ec-key explicit.pem --repeat 1000
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "certctl/net/http_client.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/pki/ocsp.h"
#include "certctl/pki/serial.h"
#include "certctl/util/encoding.h"
#include "certctl/util/files.h"
#include "support/test_pki.h"

namespace {

using certctl::net::HttpClient;
using certctl::net::HttpRequest;

struct Case {
  std::string name;
  HttpRequest request;
};

long RssKb(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

HttpRequest Post(const std::string& url, const std::string& type, std::string body) {
  HttpRequest r;
  r.method = "POST";
  r.url = url;
  r.content_type = type;
  r.body = std::move(body);
  return r;
}

// The CertIDs' SHA-1 OID replaced by one naming no digest (same length).
std::string WithUnknownHashOid(std::string der) {
  const std::string sha1("\x06\x05\x2b\x0e\x03\x02\x1a", 7);
  for (size_t at; (at = der.find(sha1)) != std::string::npos;) der[at + 6] = '\x63';
  return der;
}

std::vector<Case> OcspCases(const std::string& base, X509* ca,
                            const certctl::Serial& serial) {
  using namespace certctl::testing;
  auto req = [&](int n, const EVP_MD* md = nullptr) {
    return certctl::MakeOcspRequestDer(ca, std::vector<certctl::Serial>(n, serial), md)
        .value();
  };
  const std::string plain = req(1), type = "application/ocsp-request";
  const std::string null_value("\x05\x00", 2), oid = "1.3.6.1.4.1.55555.1";
  auto post = [&](const std::string& body) { return Post(base, type, body); };
  HttpRequest get_critical;
  get_critical.url = base + "/" +
                     certctl::Base64Encode(OcspRequestWithExtension(
                         plain, oid.c_str(), true, false, null_value));
  return {
      {"plain (cached)", post(plain)},
      {"nonce 0 octets", post(OcspRequestWithNonce(plain, 0))},
      {"nonce 16 octets", post(OcspRequestWithNonce(plain, 16))},
      {"nonce 33 octets", post(OcspRequestWithNonce(plain, 33))},
      {"nonce 128 octets", post(OcspRequestWithNonce(plain, 128))},
      {"nonce 129 octets", post(OcspRequestWithNonce(plain, 129))},
      {"MD5 CertID", post(req(1, EVP_md5()))},
      {"SHA3-256 CertID", post(req(1, EVP_sha3_256()))},
      {"CertID hash OID no digest", post(WithUnknownHashOid(plain))},
      {"critical request extension",
       post(OcspRequestWithExtension(plain, oid.c_str(), true, false, null_value))},
      {"critical CertID extension",
       post(OcspRequestWithExtension(plain, oid.c_str(), true, true, null_value))},
      {"64 CertIDs", post(req(64))},
      {"65 CertIDs", post(req(65))},
      {"1000 CertIDs", post(req(1000))},
      {"not DER", post("hello")},
      {"Content-Type text/plain", Post(base, "text/plain", plain)},
      {"GET, critical extension", get_critical},
      {"issuer id with %00", Post(base + "%00x", type, plain)},
  };
}

std::vector<Case> ApiCases(const std::string& api, const std::string& key,
                           const std::string& explicit_key_pem) {
  using namespace certctl::testing;
  const std::string url = api + "/api/v1/certificates";
  auto csr = [&](const CsrSpec& spec) {
    HttpRequest r =
        Post(url, "application/json", nlohmann::json{{"csr", CsrPem(spec)}}.dump());
    r.headers = {{"Authorization", "Bearer " + key}};
    return r;
  };
  CsrSpec ous{.subject = {Cn("ous.example")}}, sans{.subject = {Cn("sans.example")}};
  for (int i = 0; i < 1000; ++i)
    ous.subject.push_back(
        {NID_organizationalUnitName, V_ASN1_UTF8STRING, "u" + std::to_string(i)});
  for (int i = 0; i < 2000; ++i)
    sans.sans.push_back({GEN_DNS, "n" + std::to_string(i) + ".example"});
  auto key_pem = certctl::ParsePrivateKeyPem(explicit_key_pem);
  HttpRequest healthz;  // the TLS connection alone: each case makes a new one
  healthz.url = api + "/healthz";
  std::vector<Case> out = {
      {"baseline: GET /healthz (TLS)", healthz},
      {"CSR e-mail SAN with 0xFF",
       csr({.subject = {Cn("ff.example")}, .sans = {{GEN_EMAIL, "a\xff@example.com"}}})},
      {"CSR CN with NUL (UTF8String)",
       csr({.subject = {Cn(std::string("a\0b.example", 11))}})},
      {"CSR CN with NUL (BMPString)",
       csr({.subject = {{NID_commonName, V_ASN1_BMPSTRING,
                         Bmp("a") + std::string(2, '\0') + Bmp("b.example")}}})},
      {"CSR CN of 10000 characters", csr({.subject = {Cn(std::string(10000, 'a'))}})},
      {"CSR with 1000 OUs", csr(ous)},
      {"CSR with 2000 SANs", csr(sans)},
      {"CSR for *.com",
       csr({.subject = {Cn("c.example")}, .sans = {{GEN_DNS, "*.com"}}})},
  };
  if (key_pem.ok()) {
    out.push_back({"CSR, EC explicit parameters",
                   csr({.subject = {Cn("x.example")}, .key = key_pem->get()})});
  }
  HttpRequest text = csr({.subject = {Cn("t.example")}});
  text.content_type = "text/plain";
  out.push_back({"issue with text/plain", text});
  return out;
}

// Runs `c` `repeat` times; prints one row.
void Run(const HttpClient& client, const Case& c, int repeat) {
  std::vector<double> ms;
  int status = 0, ocsp = -1, failures = 0;
  for (int i = 0; i < repeat; ++i) {
    auto started = std::chrono::steady_clock::now();
    auto r = client.Send(c.request);
    ms.push_back(std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - started)
                     .count());
    if (!r.ok()) {
      ++failures;
      continue;
    }
    status = r->status;
    if (r->Header("content-type") == "application/ocsp-response") {
      auto parsed = certctl::ParseOcspResponse(r->body);
      ocsp = parsed.ok() ? parsed->response_status : -2;
    }
  }
  std::sort(ms.begin(), ms.end());
  std::printf("| %-30s | %3d | %4s | %7.2f | %7.2f | %5d | %d |\n", c.name.c_str(),
              status, ocsp >= 0 ? std::to_string(ocsp).c_str() : "-", ms[ms.size() / 2],
              ms[std::min(ms.size() - 1, ms.size() * 99 / 100)], repeat, failures);
}

}  // namespace

int main(int argc, char** argv) {
  std::string pki, issuer = "iss-local", ca_cert, serial_hex, api, api_key_file,
                   explicit_key;
  int pid = 0, repeat = 1000;
  CLI::App app{"Issue 8's hostile input against a running certctld"};
  app.add_option("--pki", pki, "PKI listener base URL")->required();
  app.add_option("--issuer", issuer)->capture_default_str();
  app.add_option("--ca-cert", ca_cert, "the issuer's CA certificate (PEM)")->required();
  app.add_option("--serial", serial_hex, "a certificate's serial (hex)")->required();
  app.add_option("--pid", pid, "certctld's pid, for its resident memory");
  app.add_option("--api", api, "API listener base URL (adds the issuance cases)");
  app.add_option("--api-key-file", api_key_file, "operator API key");
  app.add_option("--explicit-ec-key", explicit_key,
                 "PEM EC key with explicit parameters");
  app.add_option("--repeat", repeat, "requests per case")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  auto ca = certctl::LoadCertificateFile(ca_cert);
  auto serial = certctl::Serial::Parse(serial_hex);
  if (!ca.ok() || !serial.ok()) {
    std::fprintf(stderr, "bad --ca-cert or --serial\n");
    return 2;
  }
  HttpClient client({.timeout = std::chrono::seconds(30), .ca_file = ca_cert});
  const std::string base = pki + "/.well-known/pki/ocsp/" + issuer;
  std::vector<Case> cases = OcspCases(base, ca->get(), *serial);
  std::string key, listed = api + "/api/v1/certificates?limit=1000";
  if (!api.empty()) {
    auto read = certctl::ReadFile(api_key_file);
    key = read.ok() ? read->substr(0, read->find('\n')) : "";
    auto pem = certctl::ReadFile(explicit_key);
    auto more = ApiCases(api, key, pem.ok() ? *pem : "");
    cases.insert(cases.end(), more.begin(), more.end());
  }
  auto count = [&] {
    if (api.empty()) return -1;
    auto r = client.Get(listed, {{"Authorization", "Bearer " + key}});
    if (!r.ok()) return -1;
    return static_cast<int>(nlohmann::json::parse(r->body)["items"].size());
  };
  int certificates_before = count();
  long rss_before = pid ? RssKb(pid) : -1;
  std::printf("| case | HTTP | OCSP | p50 ms | p99 ms | sent | failed |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const auto& c : cases) Run(client, c, repeat);
  long rss_after = pid ? RssKb(pid) : -1;
  auto last = client.Send(cases.front().request);
  auto parsed = certctl::ParseOcspResponse(last.ok() ? last->body : "");
  bool good = parsed.ok() && parsed->singles.size() == 1 &&
              parsed->singles[0].status == certctl::OcspCertStatus::kGood;
  std::printf("certctld RSS: %ld kB before, %ld kB after\n", rss_before, rss_after);
  std::printf("OCSP for %s afterwards: %s\n", serial->hex().c_str(),
              good ? "good" : "NOT GOOD");
  std::printf("certificates listed: %d before, %d after\n", certificates_before, count());
  return good && certificates_before == count() ? 0 : 1;
}
