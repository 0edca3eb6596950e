// Helpers for the OCSP and cache tests: the `openssl ocsp` command line as an
// operator runs it, and a fixture with an OcspService.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "certctl/log/logging.h"
#include "certctl/ops/ocsp_ops.h"
#include "certctl/util/files.h"
#include "certctl/util/process.h"
#include "support/ops_fixture.h"

namespace certctl::testing {

inline std::string RunOpenssl(const std::vector<std::string>& args,
                              int* exit_code = nullptr) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = RunProcess(argv);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return "";
  if (exit_code) {
    *exit_code = r->exit_code;
  } else {
    EXPECT_EQ(r->exit_code, 0) << r->output;
  }
  return r->output;
}

inline std::string ReadBytes(const std::string& path) {
  auto r = ReadFile(path);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : "";
}

inline void WriteBytes(const std::string& path, const std::string& data) {
  WriteOptions o;
  o.mode = 0644;
  o.keep_backup = false;
  ASSERT_TRUE(WriteFileAtomic(path, data, o).ok());
}

// `openssl ocsp -issuer ca.pem -serial 0x<hex> -reqout req.der` plus `extra`
// (e.g. "-sha256", "-nonce", "-no_nonce"); returns the request DER.
inline std::string CliRequest(const TempDir& dir, const std::string& ca_pem_path,
                              const std::vector<std::string>& serials,
                              const std::vector<std::string>& extra = {"-no_nonce"}) {
  std::string out = dir / "req.der";
  // The CLI wants a digest option before the -serial it applies to.
  std::vector<std::string> args = {"ocsp", "-issuer", ca_pem_path};
  args.insert(args.end(), extra.begin(), extra.end());
  for (const auto& s : serials) {
    args.push_back("-serial");
    args.push_back("0x" + s);
  }
  args.push_back("-reqout");
  args.push_back(out);
  RunOpenssl(args);
  return ReadBytes(out);
}

// `openssl ocsp -reqin req.der -respin resp.der -CAfile ca.pem -issuer ca.pem
// -resp_text`: the operator's view of an answer (output, stdout and stderr).
inline std::string CliCheck(const TempDir& dir, const std::string& ca_pem_path,
                            const std::string& request_der,
                            const std::string& response_der) {
  std::string req = dir / "check-req.der", resp = dir / "check-resp.der";
  WriteBytes(req, request_der);
  WriteBytes(resp, response_der);
  int code = 0;
  return RunOpenssl({"ocsp", "-reqin", req, "-respin", resp, "-CAfile", ca_pem_path,
                     "-issuer", ca_pem_path, "-resp_text"},
                    &code);
}

class OcspFixture : public OpsTest {
 protected:
  void SetUp() override {
    OpsTest::SetUp();
    work_ = std::make_unique<TempDir>();
  }

  std::unique_ptr<ops::OcspService> NewService(size_t entries = 1000) {
    return std::make_unique<ops::OcspService>(Context(), entries);
  }

  ops::OcspService::ServedResponse Ask(ops::OcspService& service,
                                       const std::string& serial,
                                       const std::vector<std::string>& extra = {
                                           "-no_nonce"}) {
    last_request_ = CliRequest(*work_, ca_cert_path_, {serial}, extra);
    return service.Respond(kLocalIssuerId, last_request_);
  }

  // The openssl CLI's verdict on `answer` for the last request.
  std::string Check(const ops::OcspService::ServedResponse& answer) {
    return CliCheck(*work_, ca_cert_path_, last_request_, answer.der);
  }

  // The key file the generation's responder row names ("" without a row).
  std::string KeyPath(int generation = 1) {
    return Sql(url_, "SELECT key_path FROM ocsp_responder_certs WHERE generation = " +
                         std::to_string(generation));
  }

  std::unique_ptr<TempDir> work_;
  std::string last_request_;
};

}  // namespace certctl::testing
