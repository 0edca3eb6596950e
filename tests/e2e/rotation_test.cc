// Issue 10's "done when": a running certctld's CA is rotated with
// `certctl-admin ca rotate` (generate mode, and import mode), and every
// certificate stays checkable the way a relying party checks it: `openssl
// ocsp` at the URL each certificate carries, verified against its own CA,
// and `openssl crl` of the CRL at its distribution point. certctld is not
// restarted; then it is, with its configuration unchanged, and all of it
// still holds.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <cctype>

#include "certctl/util/files.h"
#include "e2e/e2e_fixture.h"

namespace certctl::e2e {
namespace {

bool Has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

std::string Upper(std::string hex) {
  for (auto& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return hex;
}

class RotationTest : public E2eTest {
 protected:
  // certctl-admin with certctld's environment (the same configuration).
  Output Admin(const Instance& d, std::vector<std::string> args) {
    std::vector<std::string> env;
    for (const auto& [k, v] : Environment(d.api_port, d.pki_port))
      env.push_back(k + "=" + v);
    args.insert(args.begin(), CERTCTL_ADMIN_PATH);
    return Exec(args, env);
  }

  // Stops `d` and starts certctld again on the same ports with the same
  // environment: the URLs in issued certificates keep pointing at it.
  void Restart(Instance& d) {
    ASSERT_EQ(Stop(d), 0) << d.process->Log();
    d.log_path = Path("certctld-restarted.log");
    d.process = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{CERTCTLD_PATH}, Environment(d.api_port, d.pki_port),
        d.log_path);
    ASSERT_TRUE(d.process->Start().ok());
    ASSERT_TRUE(WaitReady(d)) << d.process->Log();
  }

  // A URL the certificate carries: "ocsp" (AIA) or "crl" (the CDP).
  std::string UrlIn(const std::string& cert, const std::string& which) {
    if (which == "ocsp") {
      Output o = Exec({"openssl", "x509", "-in", cert, "-noout", "-ocsp_uri"});
      std::string url = o.text.substr(0, o.text.find('\n'));
      return url;
    }
    Output o =
        Exec({"openssl", "x509", "-in", cert, "-noout", "-ext", "crlDistributionPoints"});
    size_t uri = o.text.find("URI:");
    if (uri == std::string::npos) return "";
    size_t end = o.text.find_first_of("\n ", uri);
    return o.text.substr(uri + 4, end - uri - 4);
  }

  // `openssl ocsp` at the certificate's own OCSP URL says revoked, with an
  // answer that verifies against `ca` (and not against `other`).
  void ExpectRevokedVerifiedBy(const std::string& cert, const std::string& ca,
                               const std::string& other) {
    std::string url = UrlIn(cert, "ocsp");
    ASSERT_FALSE(url.empty()) << cert;
    Output o = Exec({"openssl", "ocsp", "-issuer", ca, "-cert", cert, "-url", url,
                     "-CAfile", ca, "-timeout", "20"});
    EXPECT_TRUE(Has(o.text, "Response verify OK")) << o.text;
    EXPECT_TRUE(Has(o.text, cert + ": revoked")) << o.text;
    Output wrong = Exec({"openssl", "ocsp", "-issuer", ca, "-cert", cert, "-url", url,
                         "-CAfile", other, "-timeout", "20"});
    EXPECT_FALSE(Has(wrong.text, "Response verify OK")) << wrong.text;
  }

  // The CRL at the certificate's distribution point verifies with `ca` and
  // lists `serial`, once certctld has regenerated it after the revocation
  // (its scheduler does a few seconds after one).
  void ExpectCrlListsIt(const std::string& cert, const std::string& ca,
                        const std::string& serial) {
    std::string url = UrlIn(cert, "crl");
    ASSERT_FALSE(url.empty()) << cert;
    std::string der = Path("fetched.crl");
    Output crl;
    bool listed = Eventually(
        [&] {
          Output got = Curl({"-f", "-o", der, url});
          if (got.exit_code != 0) {
            crl = got;
            return false;
          }
          crl = Exec({"openssl", "crl", "-inform", "DER", "-in", der, "-CAfile", ca,
                      "-noout", "-text"});
          return crl.exit_code == 0 && Has(crl.text, "verify OK") &&
                 Has(crl.text, Upper(serial));  // (openssl pads an odd length with a 0)
        },
        std::chrono::seconds(60));
    EXPECT_TRUE(listed) << url << "\n" << crl.text;
  }

  // Issue 10's checks for A (old CA) and B (new CA), both revoked.
  void ExpectBothCheckable(const std::string& new_ca) {
    ExpectRevokedVerifiedBy(Path("a.crt"), ca_cert_, new_ca);
    ExpectRevokedVerifiedBy(Path("b.crt"), new_ca, ca_cert_);
    ExpectCrlListsIt(Path("a.crt"), ca_cert_, a_);
    ExpectCrlListsIt(Path("b.crt"), new_ca, b_);
    EXPECT_NE(UrlIn(Path("a.crt"), "crl"), UrlIn(Path("b.crt"), "crl"));
  }

  // Issue A, rotate with `rotate_args`, issue B, revoke both, check; restart
  // with the same configuration and check again.
  void RotateOnARunningCertctld(const std::vector<std::string>& rotate_args) {
    Instance d = Start();
    pid_t pid = d.process->pid();
    a_ = Issue(d, "a");
    ASSERT_FALSE(a_.empty());
    std::vector<std::string> args = {
        "-o",           "json",          "ca",   "rotate", "iss-local",
        "--backup-dir", Path("backups"), "--yes"};
    args.insert(args.end(), rotate_args.begin(), rotate_args.end());
    Output rotated = Admin(d, args);
    ASSERT_EQ(rotated.exit_code, 0) << rotated.text;
    auto report = nlohmann::json::parse(rotated.text, nullptr, false);
    ASSERT_FALSE(report.is_discarded()) << rotated.text;
    ASSERT_EQ(report["data"]["state"], "completed") << rotated.text;
    std::string new_ca = report["data"]["cert_path"];
    b_ = Issue(d, "b");
    ASSERT_FALSE(b_.empty());
    for (const auto& serial : {a_, b_}) {
      HttpResult r = Api(d, "POST", "/api/v1/certificates/" + serial + "/revoke",
                         R"({"reason":"keyCompromise"})");
      ASSERT_EQ(r.status, 200) << r.body;
    }
    // B was issued by the new generation, without a restart.
    Output chain = Exec({"openssl", "verify", "-CAfile", new_ca, Path("b.crt")});
    EXPECT_EQ(chain.exit_code, 0) << chain.text;
    ExpectBothCheckable(new_ca);
    if (HasFailure()) ADD_FAILURE() << "certctld's log:\n" << d.process->Log();
    EXPECT_TRUE(d.process->Running());
    EXPECT_EQ(d.process->pid(), pid);  // never restarted

    // The configuration names generation 1's files still: it must start.
    Restart(d);
    if (HasFatalFailure()) return;
    std::string log = d.process->Log();
    EXPECT_TRUE(Has(log, "the active CA generation is 2")) << log;
    EXPECT_TRUE(Has(log, "the retired generation 1")) << log;
    ExpectBothCheckable(new_ca);
    Stop(d);
  }

  std::string a_, b_;
};

TEST_F(RotationTest, GenerateModeOnARunningCertctld) {
  RotateOnARunningCertctld({"--key-type", "ec-p384"});
}

TEST_F(RotationTest, ImportModeOnARunningCertctld) {
  std::string key = Path("offline.key"), crt = Path("offline.crt");
  Output made = Exec({"openssl",  "req",
                      "-x509",    "-newkey",
                      "rsa:3072", "-nodes",
                      "-keyout",  key,
                      "-out",     crt,
                      "-days",    "3650",
                      "-subj",    "/CN=certctl e2e CA G2/O=certctl",
                      "-addext",  "basicConstraints=critical,CA:TRUE",
                      "-addext",  "keyUsage=critical,keyCertSign,cRLSign",
                      "-addext",  "subjectKeyIdentifier=hash"});
  ASSERT_EQ(made.exit_code, 0) << made.text;
  ::chmod(key.c_str(), 0600);
  RotateOnARunningCertctld({"--cert", crt, "--key", key});
}

}  // namespace
}  // namespace certctl::e2e
