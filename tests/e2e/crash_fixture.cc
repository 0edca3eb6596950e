#include "e2e/crash_fixture.h"

#include <algorithm>
#include <filesystem>
#include <thread>

#include "certctl/util/encoding.h"
#include "certctl/util/fail_point.h"
#include "certctl/util/files.h"
#include "certctl/util/process.h"

namespace certctl::testing {
namespace {

e2e::Output Openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "openssl");
  return e2e::Exec(args);
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// "7A3B..." or "serial=00AB.." -> lowercase hex without leading zeros.
std::string CanonicalHex(std::string hex) {
  std::string out;
  for (char c : hex) {
    if (std::isxdigit(static_cast<unsigned char>(c)))
      out += static_cast<char>(std::tolower(c));
  }
  size_t nz = out.find_first_not_of('0');
  return nz == std::string::npos ? "0" : out.substr(nz);
}

// The first PEM certificate in `text`, or "".
std::string FirstCertificatePem(const std::string& text) {
  size_t begin = text.find("-----BEGIN CERTIFICATE-----");
  std::string end_marker = "-----END CERTIFICATE-----";
  size_t end = text.find(end_marker, begin);
  if (begin == std::string::npos || end == std::string::npos) return "";
  return text.substr(begin, end + end_marker.size() - begin) + "\n";
}

}  // namespace

const std::vector<std::string> kReset = {"ocsp",  "reset-responder", "iss-local",
                                         "--yes", "--wait",          "20s"};

void CrashResponderTest::SetUp() {
  CrashTest::SetUp();
  if (HasFatalFailure()) return;
  auto first = Admin(kReset);
  ASSERT_EQ(first.exit_code, 0) << first.Both();
  daemon_ = StartDaemon();
  ASSERT_NE(daemon_, nullptr);
  ExpectResponderConsistent(*daemon_);
}

void CrashResponderTest::RestartDaemon() {
  daemon_.reset();
  daemon_ = StartDaemon();
  ASSERT_NE(daemon_, nullptr);
  ExpectNoTempFiles();
}

void CrashResponderTest::ExpectRerunRepairs(
    const std::map<std::string, std::string>& before,
    const std::set<std::string>& unused) {
  std::string old_serial = RowSerial();
  auto rerun = Admin(kReset);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.Both();
  EXPECT_NE(RowSerial(), old_serial);
  ExpectNothingLost(before);
  ExpectResponderConsistent(*daemon_);
  ExpectKeyDirectoryTidy(unused);
}

std::vector<std::string> FailPointsOf(const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& p : kFailPoints) {
    if (p.name.substr(0, prefix.size()) == prefix) out.emplace_back(p.name);
  }
  return out;
}

void CrashTest::SetUp() {
  AdminTest::SetUp();
  if (HasFatalFailure()) return;
  auto good = Issue("good.example");
  auto revoked = Issue("revoked.example");
  Revoke(revoked.serial, "keyCompromise");
  revoked_serial_ = revoked.serial;
  good_crt_ = *dir_ / "good.crt";
  revoked_crt_ = *dir_ / "revoked.crt";
  ASSERT_TRUE(WriteFileAtomic(good_crt_, good.certificate_pem, {.mode = 0644}).ok());
  ASSERT_TRUE(
      WriteFileAtomic(revoked_crt_, revoked.certificate_pem, {.mode = 0644}).ok());
}

AdminRun CrashTest::AdminArmed(const std::vector<std::string>& args,
                               const std::string& arming) {
  return Admin(args, {"CERTCTL_FAILPOINTS=" + arming});
}

std::unique_ptr<e2e::BackgroundProcess> CrashTest::StartAdmin(
    const std::vector<std::string>& args, const std::string& arming,
    const std::string& log) {
  auto env = Environment();
  env["CERTCTL_FAILPOINTS"] = arming;
  std::vector<std::string> argv = {CERTCTL_ADMIN_PATH, "--config", empty_config_};
  argv.insert(argv.end(), args.begin(), args.end());
  auto p = std::make_unique<e2e::BackgroundProcess>(argv, env, log);
  Status s = p->Start();
  EXPECT_TRUE(s.ok()) << s.ToString();
  return p;
}

bool CrashTest::WaitStopped(pid_t pid) {
  return Eventually(
      [&] {
        auto stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
        if (!stat.ok()) return false;
        size_t paren = stat->rfind(')');  // the command name may hold spaces
        return paren != std::string::npos && stat->size() > paren + 2 &&
               (*stat)[paren + 2] == 'T';
      },
      std::chrono::seconds(20));
}

std::map<std::string, std::string> CrashTest::KeyFiles() {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(KeyDir(), ec)) {
    auto mode = FileMode(e.path());
    auto content = ReadFile(e.path());
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", mode.ok() ? *mode : 07777);
    out[e.path().filename().string()] =
        std::string(octal) + " " + (content.ok() ? Sha256Hex(*content) : "unreadable");
  }
  return out;
}

void CrashTest::ExpectNothingLost(const std::map<std::string, std::string>& before) {
  auto after = KeyFiles();
  std::set<std::string> contents;
  for (const auto& [name, v] : after) {
    contents.insert(v.substr(5));
    EXPECT_EQ(v.substr(0, 4), "0600") << name << " in the key directory";
  }
  for (const auto& [name, v] : before) {
    if (TempFileTarget(name)) continue;  // an interrupted write's leftover
    EXPECT_TRUE(contents.count(v.substr(5))) << "the content of " << name << " is gone";
    auto same = after.find(name);
    if (same != after.end()) {
      EXPECT_EQ(same->second.substr(5), v.substr(5)) << name << " was overwritten";
    }
  }
}

std::string CrashTest::RowSerial() {
  return Sql(url_, "SELECT serial_number FROM ocsp_responder_certs");
}

std::string CrashTest::RowKeyPath() {
  return Sql(url_, "SELECT key_path FROM ocsp_responder_certs");
}

OcspAnswer CrashTest::Ask(const RunningDaemon& d,
                          const std::vector<std::string>& cert_files, bool nonce) {
  std::string resp = *dir_ / "ocsp.der";
  std::vector<std::string> args = {"ocsp",
                                   "-issuer",
                                   ca_cert_path_,
                                   "-url",
                                   d.pki + "/.well-known/pki/ocsp/iss-local",
                                   "-CAfile",
                                   ca_cert_path_,
                                   "-respout",
                                   resp};
  for (const auto& f : cert_files) args.insert(args.end(), {"-cert", f});
  if (!nonce) args.push_back("-no_nonce");
  OcspAnswer a;
  e2e::Output o = Openssl(args);
  a.text = o.text;
  a.verified = o.text.find("Response verify OK") != std::string::npos;
  for (const auto& f : cert_files) {
    for (std::string s : {"good", "revoked", "unknown"}) {
      if (o.text.find(f + ": " + s) != std::string::npos) a.status[f] = s;
    }
  }
  if (!nonce) return a;
  e2e::Output r = Openssl({"ocsp", "-respin", resp, "-resp_text", "-noverify"});
  std::string pem = FirstCertificatePem(r.text);
  std::string pem_file = *dir_ / "signer.pem";
  if (!pem.empty() &&
      WriteFileAtomic(pem_file, pem, {.mode = 0644, .keep_backup = false}).ok()) {
    a.signer_serial = CanonicalHex(
        Openssl({"x509", "-in", pem_file, "-noout", "-serial"}).text.substr(7));
  }
  return a;
}

void CrashTest::ExpectRowMatchesKeyFile() {
  std::string key_path = RowKeyPath();
  ASSERT_FALSE(key_path.empty()) << "no responder row";
  std::string cert = *dir_ / "row-responder.pem";
  ASSERT_TRUE(WriteFileAtomic(cert,
                              Sql(url_, "SELECT cert_pem FROM ocsp_responder_certs"),
                              {.mode = 0644, .keep_backup = false})
                  .ok());
  e2e::Output from_key = Openssl({"pkey", "-in", key_path, "-pubout"});
  e2e::Output from_cert = Openssl({"x509", "-in", cert, "-noout", "-pubkey"});
  EXPECT_EQ(from_key.exit_code, 0) << from_key.text;
  EXPECT_EQ(from_key.text, from_cert.text)
      << "the row's key file " << key_path << " does not belong to its certificate";
  auto mode = FileMode(key_path);
  EXPECT_TRUE(mode.ok() && *mode == 0600u) << key_path;
}

void CrashTest::ExpectResponderConsistent(const RunningDaemon& d) {
  ExpectRowMatchesKeyFile();
  auto status = Admin({"ocsp", "status", "iss-local"});
  EXPECT_EQ(status.exit_code, 0) << status.Both();

  // Signed now (a nonce): by the responder the row names.
  OcspAnswer now = Ask(d, {good_crt_, revoked_crt_}, /*nonce=*/true);
  EXPECT_EQ(now.status[good_crt_], "good") << now.text;
  EXPECT_EQ(now.status[revoked_crt_], "revoked") << now.text;
  EXPECT_TRUE(now.verified) << now.text;
  EXPECT_EQ(now.signer_serial, CanonicalHex(RowSerial())) << now.text;
  // Without a nonce, one certificate a request: what the caches serve.
  for (const auto& [file, want] : std::map<std::string, std::string>{
           {good_crt_, "good"}, {revoked_crt_, "revoked"}}) {
    OcspAnswer cached = Ask(d, {file}, /*nonce=*/false);
    EXPECT_EQ(cached.status[file], want) << cached.text;
    EXPECT_TRUE(cached.verified) << cached.text;
  }
  EXPECT_EQ(Sql(url_, "SELECT count(*) FROM ocsp_response_cache WHERE serial = '" +
                          revoked_serial_ + "' AND cert_status <> 1"),
            "0");
}

void CrashTest::ExpectKeyDirectoryTidy(const std::set<std::string>& unused) {
  std::string live = std::filesystem::path(RowKeyPath()).filename().string();
  for (const auto& [name, v] : KeyFiles()) {
    EXPECT_FALSE(TempFileTarget(name).has_value()) << "temporary file left: " << name;
    bool is_key = name.size() > 4 && name.substr(name.size() - 4) == ".key";
    if (is_key && !unused.count(name)) {
      EXPECT_EQ(name, live) << "a second live key file";
    }
  }
}

void CrashTest::ExpectNoTempFiles() {
  for (const auto& [name, v] : KeyFiles()) {
    EXPECT_FALSE(TempFileTarget(name).has_value()) << "temporary file left: " << name;
  }
}

std::vector<std::string> CrashTest::UnusedNewKeys(
    const std::map<std::string, std::string>& before) {
  std::string live = std::filesystem::path(RowKeyPath()).filename();
  std::vector<std::string> out;
  for (const auto& [name, v] : KeyFiles()) {
    bool is_key = name.size() > 4 && name.substr(name.size() - 4) == ".key";
    if (is_key && name != live && !before.count(name)) out.push_back(name);
  }
  return out;
}

std::pair<int, std::string> CrashTest::RunDaemonUntilItDies(const std::string& arming) {
  auto env = Environment();
  int pki_port = e2e::FreePort();
  std::string pki = "http://127.0.0.1:" + std::to_string(pki_port);
  env["CERTCTL_FAILPOINTS"] = arming;
  env["CERTCTL_API_KEY"] = api_key_;
  // StartDaemon wrote them (every crash test has started a certctld before).
  env["CERTCTL_SERVER_TLS_CERT_PATH"] = *dir_ / "tls.crt";
  env["CERTCTL_SERVER_TLS_KEY_PATH"] = *dir_ / "tls.key";
  env["CERTCTL_LISTEN_API"] = "127.0.0.1:" + std::to_string(e2e::FreePort());
  env["CERTCTL_LISTEN_PKI"] = "127.0.0.1:" + std::to_string(pki_port);
  env["CERTCTL_BASE_URL"] = pki;
  env["CERTCTL_PID_FILE"] = *dir_ / "armed-certctld.pid";
  std::string log = *dir_ / "armed-certctld.log";
  std::filesystem::remove(log);
  e2e::BackgroundProcess p({CERTCTLD_PATH}, env, log);
  Status started = p.Start();
  EXPECT_TRUE(started.ok()) << started.ToString();
  // The scheduler replaces a due responder at start; a request needing a
  // signature now (a nonce) makes the request path do it otherwise.
  Eventually(
      [&] {
        if (!p.Running()) return true;
        e2e::Exec({"openssl", "ocsp", "-issuer", ca_cert_path_, "-cert", good_crt_,
                   "-url", pki + "/.well-known/pki/ocsp/iss-local", "-timeout", "5"});
        return !p.Running();
      },
      std::chrono::seconds(30));
  int code = p.Wait(std::chrono::seconds(1));
  return {code, p.Log()};
}

CrlSeen CrashTest::ReadCrl(const std::string& der_file) {
  CrlSeen c;
  auto der = ReadFile(der_file);
  if (!der.ok() || der->empty()) return c;
  c.sha256 = Sha256Hex(*der);
  e2e::Output o = Openssl({"crl", "-inform", "DER", "-in", der_file, "-CAfile",
                           ca_cert_path_, "-noout", "-text"});
  c.text = o.text;
  c.verified = o.exit_code == 0 && o.text.find("verify OK") != std::string::npos;
  e2e::Output n =
      Openssl({"crl", "-inform", "DER", "-in", der_file, "-noout", "-crlnumber"});
  size_t eq = n.text.find('=');
  if (n.exit_code == 0 && eq != std::string::npos) {
    c.number = std::stol(Trim(n.text.substr(eq + 1)), nullptr, 16);
  }
  return c;
}

CrlSeen CrashTest::CachedCrl() {
  std::string b64 = Sql(url_,
                        "SELECT encode(crl_der, 'base64') FROM crl_cache WHERE "
                        "issuer_id = 'iss-local' AND generation = 1");
  if (b64.empty()) return {};
  auto der = Base64Decode(b64);
  EXPECT_TRUE(der.ok());
  std::string path = *dir_ / "cached.der";
  EXPECT_TRUE(
      WriteFileAtomic(path, der.ok() ? *der : "", {.mode = 0644, .keep_backup = false})
          .ok());
  return ReadCrl(path);
}

CrlSeen CrashTest::FetchCrl(const std::string& pki_base) {
  std::string path = *dir_ / "fetched.der";
  std::filesystem::remove(path);
  e2e::Output o = e2e::Exec({"curl", "-sS", "--fail", "--max-time", "20", "-o", path,
                             pki_base + "/.well-known/pki/crl/iss-local"});
  EXPECT_EQ(o.exit_code, 0) << o.text;
  return ReadCrl(path);
}

void CrashTest::Published(const CrlSeen& crl, const std::string& where,
                          CrlSource source) {
  SCOPED_TRACE(where);
  EXPECT_TRUE(crl.verified) << crl.text;
  ASSERT_GT(crl.number, 0) << crl.text;
  long& last = last_seen_[source];
  EXPECT_GE(crl.number, last) << "CRL number went back";
  last = std::max(last, crl.number);
  auto [it, fresh] = crl_numbers_.emplace(crl.number, crl.sha256);
  EXPECT_TRUE(fresh || it->second == crl.sha256)
      << "CRL number " << crl.number << " was given to two different CRLs";
  std::string upper;
  for (char c : revoked_serial_) upper += static_cast<char>(std::toupper(c));
  EXPECT_NE(crl.text.find(upper), std::string::npos) << "the revoked serial is missing:\n"
                                                     << crl.text;
}

long CrashTest::HighestNumber() const {
  return crl_numbers_.empty() ? 0 : crl_numbers_.rbegin()->first;
}

}  // namespace certctl::testing
