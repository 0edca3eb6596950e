// Fixture for the end-to-end tests: a database of the harness PostgreSQL
// prepared by `certctl-admin db migrate`, a CA and a TLS certificate made
// with the openssl CLI, and certctld processes started with environment
// variables only (the interface contract of issue 3).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "e2e/e2e_support.h"
#include "support/eventually.h"
#include "support/pg_harness.h"

namespace certctl::e2e {

using testing::Eventually;

struct Instance {
  std::unique_ptr<BackgroundProcess> process;
  int api_port = 0;
  int pki_port = 0;
  std::string api;  // https://127.0.0.1:<port>
  std::string pki;  // http://127.0.0.1:<port>
  std::string log_path;
};

struct HttpResult {
  int status = 0;
  std::string body;
  nlohmann::json json;  // null unless the body is JSON
};

class E2eTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  std::string Path(const std::string& name) const { return dir_->path() + "/" + name; }
  // The environment of the interface contract for listeners on these ports.
  std::map<std::string, std::string> Environment(int api_port, int pki_port) const;
  // Starts certctld (extra arguments, e.g. --config) and waits for /readyz.
  Instance Start(const std::vector<std::string>& args = {});
  // SIGTERM and wait (bounded); the exit code, -1 when it had to be killed.
  static int Stop(Instance& d,
                  std::chrono::milliseconds limit = std::chrono::seconds(30));
  bool WaitReady(const Instance& d, int want_status = 200,
                 std::chrono::milliseconds limit = std::chrono::seconds(30));

  // curl with the CA, silent, errors shown, bounded; more arguments appended.
  Output Curl(std::vector<std::string> args);
  // An API call with the key sent from a 0600 header file (never in argv).
  HttpResult Api(const Instance& d, const std::string& method, const std::string& path,
                 const std::string& body = "");
  // An openssl-made CSR issued through the API; the certificate is written to
  // <name>.crt. Returns the serial.
  std::string Issue(const Instance& d, const std::string& name);
  // `openssl ocsp` against a URL for a certificate file (nonce unless
  // no_nonce); its output.
  Output Ocsp(const std::string& url, const std::string& cert_file,
              bool no_nonce = false);
  // The CRL of iss-local from a base URL, written to <name>.der; `openssl crl
  // -CAfile` output with -text.
  Output FetchCrl(const std::string& base, const std::string& name);
  std::string Sql(const std::string& statement) const {
    return testing::Sql(url_, statement);
  }
  static std::string UpperHex(std::string serial);

  std::unique_ptr<testing::TempDir> dir_;
  std::string db_name_, url_;
  std::string ca_cert_, ca_key_, tls_cert_, tls_key_, api_key_, key_header_;
};

}  // namespace certctl::e2e
