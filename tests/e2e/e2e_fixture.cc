#include "e2e/e2e_fixture.h"

#include <signal.h>
#include <sys/stat.h>

#include <thread>

#include "certctl/util/encoding.h"
#include "certctl/util/files.h"

namespace certctl::e2e {
namespace {

void MustRun(const std::vector<std::string>& argv,
             const std::vector<std::string>& env = {}) {
  Output o = Exec(argv, env);
  ASSERT_EQ(o.exit_code, 0) << argv[0] << " " << (argv.size() > 1 ? argv[1] : "") << ": "
                            << o.text;
}

}  // namespace

void E2eTest::SetUp() {
  dir_ = std::make_unique<testing::TempDir>();
  ::chmod(dir_->path().c_str(), 0700);
  auto& cluster = testing::TestCluster::Get();
  db_name_ = cluster.CreateEmptyDatabase();
  url_ = cluster.Url(db_name_);
  // As an operator prepares a database.
  MustRun({CERTCTL_ADMIN_PATH, "db", "migrate"},
          {"CERTCTL_DATABASE_URL=" + url_,
           std::string("CERTCTL_AUDIT_KEY=") + testing::kTestAuditKey});
  if (HasFatalFailure()) return;

  ca_cert_ = Path("ca.crt");
  ca_key_ = Path("ca.key");
  MustRun({"openssl",
           "req",
           "-x509",
           "-newkey",
           "ec",
           "-pkeyopt",
           "ec_paramgen_curve:P-256",
           "-nodes",
           "-keyout",
           ca_key_,
           "-out",
           ca_cert_,
           "-days",
           "3650",
           "-subj",
           "/CN=certctl e2e CA/O=certctl",
           "-addext",
           "basicConstraints=critical,CA:TRUE",
           "-addext",
           "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
           "-addext",
           "subjectKeyIdentifier=hash"});
  ::chmod(ca_key_.c_str(), 0600);
  tls_cert_ = Path("tls.crt");
  tls_key_ = Path("tls.key");
  ASSERT_TRUE(
      WriteFileAtomic(Path("tls.ext"),
                      "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                      "extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n")
          .ok());
  MustRun({"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
           "ec_paramgen_curve:P-256", "-nodes", "-keyout", tls_key_, "-out",
           Path("tls.csr"), "-subj", "/CN=localhost"});
  MustRun({"openssl", "x509", "-req", "-in", Path("tls.csr"), "-CA", ca_cert_, "-CAkey",
           ca_key_, "-CAcreateserial", "-days", "30", "-extfile", Path("tls.ext"), "-out",
           tls_cert_});
  ::chmod(tls_key_.c_str(), 0600);

  auto raw = RandomBytes(16);
  ASSERT_TRUE(raw.ok());
  api_key_ = "e2e-" + HexEncode(*raw);
  key_header_ = Path("api-key.header");
  ASSERT_TRUE(WriteFileAtomic(key_header_, "Authorization: Bearer " + api_key_ + "\n",
                              {.mode = 0600})
                  .ok());
}

void E2eTest::TearDown() {
  (void)testing::TestCluster::Get().cluster().DropDatabase(db_name_);
}

std::map<std::string, std::string> E2eTest::Environment(int api_port,
                                                        int pki_port) const {
  std::string pki = "127.0.0.1:" + std::to_string(pki_port);
  return {{"CERTCTL_DATABASE_URL", url_},
          {"CERTCTL_CA_CERT_PATH", ca_cert_},
          {"CERTCTL_CA_KEY_PATH", ca_key_},
          {"CERTCTL_OCSP_RESPONDER_KEY_DIR", Path("ocsp-responder-keys")},
          {"CERTCTL_API_KEY", api_key_},
          {"CERTCTL_SERVER_TLS_CERT_PATH", tls_cert_},
          {"CERTCTL_SERVER_TLS_KEY_PATH", tls_key_},
          {"CERTCTL_LISTEN_API", "127.0.0.1:" + std::to_string(api_port)},
          {"CERTCTL_LISTEN_PKI", pki},
          {"CERTCTL_BASE_URL", "http://" + pki},
          {"CERTCTL_AUDIT_KEY", testing::kTestAuditKey},
          {"CERTCTL_AUDIT_ANCHOR_FILE", Path("audit.anchor")}};
}

Instance E2eTest::Start(const std::vector<std::string>& args) {
  static int counter = 0;
  Instance d;
  d.api_port = FreePort();
  d.pki_port = FreePort();
  d.api = "https://127.0.0.1:" + std::to_string(d.api_port);
  d.pki = "http://127.0.0.1:" + std::to_string(d.pki_port);
  d.log_path = Path("certctld-" + std::to_string(++counter) + ".log");
  std::vector<std::string> argv = {CERTCTLD_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  d.process = std::make_unique<BackgroundProcess>(
      argv, Environment(d.api_port, d.pki_port), d.log_path);
  Status s = d.process->Start();
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(WaitReady(d)) << "certctld did not become ready:\n" << d.process->Log();
  return d;
}

int E2eTest::Stop(Instance& d, std::chrono::milliseconds limit) {
  d.process->Signal(SIGTERM);
  return d.process->Wait(limit);
}

bool E2eTest::WaitReady(const Instance& d, int want_status,
                        std::chrono::milliseconds limit) {
  std::string want = std::to_string(want_status);
  return Eventually(
      [&] {
        if (!d.process->Running()) return false;
        Output o = Curl({"-o", "/dev/null", "-w", "%{http_code}", d.api + "/readyz"});
        return o.text == want;
      },
      limit);
}

Output E2eTest::Curl(std::vector<std::string> args) {
  std::vector<std::string> argv = {"curl", "-sS",      "--max-time",
                                   "20",   "--cacert", ca_cert_};
  argv.insert(argv.end(), args.begin(), args.end());
  return Exec(argv);
}

HttpResult E2eTest::Api(const Instance& d, const std::string& method,
                        const std::string& path, const std::string& body) {
  std::string out = Path("api-response.json");
  std::vector<std::string> args = {"-X", method, "-H", "@" + key_header_,
                                   "-o", out,    "-w", "%{http_code}"};
  if (!body.empty()) {
    std::string body_file = Path("api-request.json");
    EXPECT_TRUE(
        WriteFileAtomic(body_file, body, {.mode = 0600, .keep_backup = false}).ok());
    args.insert(args.end(), {"-H", "Content-Type: application/json", "--data-binary",
                             "@" + body_file});
  }
  args.push_back(d.api + path);
  Output o = Curl(args);
  HttpResult r;
  r.status = std::atoi(o.text.c_str());
  auto text = ReadFile(out);
  if (text.ok()) r.body = *text;
  r.json = nlohmann::json::parse(r.body, nullptr, false);
  if (r.json.is_discarded()) r.json = nullptr;
  return r;
}

std::string E2eTest::Issue(const Instance& d, const std::string& name) {
  std::string csr = Path(name + ".csr");
  Output made = Exec({"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                      "ec_paramgen_curve:P-256", "-nodes", "-keyout", Path(name + ".key"),
                      "-subj", "/CN=" + name + ".example", "-addext",
                      "subjectAltName=DNS:" + name + ".example", "-out", csr});
  EXPECT_EQ(made.exit_code, 0) << made.text;
  auto pem = ReadFile(csr);
  EXPECT_TRUE(pem.ok());
  HttpResult r = Api(d, "POST", "/api/v1/certificates",
                     nlohmann::json{{"csr", pem.ok() ? *pem : ""}}.dump());
  EXPECT_EQ(r.status, 201) << r.body;
  if (r.status != 201) return "";
  EXPECT_TRUE(WriteFileAtomic(Path(name + ".crt"),
                              r.json["certificate"].get<std::string>(),
                              {.mode = 0644, .keep_backup = false})
                  .ok());
  return r.json["serial"];
}

Output E2eTest::Ocsp(const std::string& url, const std::string& cert_file,
                     bool no_nonce) {
  std::vector<std::string> argv = {
      "openssl", "ocsp",    "-issuer", ca_cert_,     "-cert",    cert_file, "-url",
      url,       "-CAfile", ca_cert_,  "-resp_text", "-timeout", "20"};
  if (no_nonce) argv.push_back("-no_nonce");
  return Exec(argv);
}

Output E2eTest::FetchCrl(const std::string& base, const std::string& name) {
  std::string der = Path(name + ".der");
  Output got = Curl({"-f", "-o", der, base + "/.well-known/pki/crl/iss-local"});
  if (got.exit_code != 0) return got;
  return Exec({"openssl", "crl", "-inform", "DER", "-in", der, "-CAfile", ca_cert_,
               "-noout", "-text"});
}

std::string E2eTest::UpperHex(std::string serial) {
  for (auto& c : serial)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (serial.size() % 2) serial = "0" + serial;
  return serial;
}

}  // namespace certctl::e2e
