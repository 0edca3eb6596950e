#include "support/ops_fixture.h"

#include <algorithm>

#include "certctl/log/logging.h"
#include "certctl/ops/issuer_ops.h"
#include "certctl/pki/ca.h"
#include "certctl/pki/certificate.h"
#include "store/issuer_repo.h"

namespace certctl::testing {

std::string Keys(const nlohmann::json& object) {
  std::vector<std::string> keys;
  if (object.is_object()) {
    for (const auto& [k, v] : object.items()) keys.push_back(k);
  }
  std::sort(keys.begin(), keys.end());
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ",") + k;
  return out;
}

void OpsTest::SetUp() {
  DatabaseTest::SetUp();
  dir_ = std::make_unique<TempDir>();
  ca_cert_path_ = *dir_ / "ca.crt";
  ca_key_path_ = *dir_ / "ca.key";
  auto ca = CreateSelfSignedCa({}, std::chrono::system_clock::now());
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  ASSERT_TRUE(WriteCaFiles(*ca, ca_cert_path_, ca_key_path_).ok());
  ConfigLoadOptions load;
  load.path = "/nonexistent/certctl.yaml";
  load.environment = std::map<std::string, std::string>{
      {"CERTCTL_DATABASE_URL", url_},
      {"CERTCTL_CA_CERT_PATH", ca_cert_path_},
      {"CERTCTL_CA_KEY_PATH", ca_key_path_},
      {"CERTCTL_OCSP_RESPONDER_KEY_DIR", *dir_ / "ocsp-keys"},
      {"CERTCTL_AUDIT_KEY", kTestAuditKey},
      {"CERTCTL_AUDIT_ANCHOR_FILE", *dir_ / "audit.anchor"},
  };
  auto config = LoadConfig(load);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  config_ = std::move(config).value();
  keyring_ = std::make_unique<ops::CaKeyring>();
  auto ctx = Context();
  ops::OpReport report;
  auto registered =
      ops::RegisterConfiguredCa(ctx, kLocalIssuerId, ca_cert_path_, ca_key_path_, report);
  ASSERT_TRUE(registered.ok()) << registered.status().ToString();
}

ops::OpContext OpsTest::Context(bool dry_run) {
  ops::OpContext ctx{
      db(),
      config_,
      SystemClock::Instance(),
      NullLogger(),
      *keyring_,
      ops::Actor{"tester", "test-host", "certctl-test", "certctl-test --run"}};
  ctx.dry_run = dry_run;
  return ctx;
}

ops::IssuedCertificate OpsTest::Issue(const std::string& cn) {
  auto ctx = Context();
  ops::IssueParams p;
  p.generate_key = KeyAlgorithm::kEcdsaP256;
  p.common_name = cn;
  p.dns_names = {cn};
  auto issued = ops::IssueCertificate(ctx, p);
  EXPECT_TRUE(issued.ok()) << issued.status().ToString();
  return issued.ok() ? std::move(issued).value() : ops::IssuedCertificate{};
}

ops::RevokeResult OpsTest::Revoke(const std::string& serial, const std::string& reason) {
  auto ctx = Context();
  auto r = ops::RevokeCertificate(ctx, {"", serial, reason});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : ops::RevokeResult{};
}

OpsTest::HandRotation OpsTest::RotateByHand(const NewCaOptions& options) {
  HandRotation out;
  auto ca = CreateSelfSignedCa(options, std::chrono::system_clock::now());
  EXPECT_TRUE(ca.ok()) << ca.status().ToString();
  if (!ca.ok()) return out;
  out.ca = std::move(ca).value();
  out.generation = std::stoi(
      Sql(url_, "SELECT max(generation) + 1 FROM ca_generations WHERE issuer_id = '" +
                    std::string(kLocalIssuerId) + "'"));
  std::string name = "g" + std::to_string(out.generation);
  out.cert_path = *dir_ / (name + ".crt");
  out.key_path = *dir_ / (name + ".key");
  EXPECT_TRUE(WriteCaFiles(out.ca, out.cert_path, out.key_path).ok());
  X509* cert = out.ca.cert.get();
  CaGenerationRecord g;
  g.issuer_id = kLocalIssuerId;
  g.generation = out.generation;
  g.cert_pem = CertificateToPem(cert);
  g.cert_sha256 = FingerprintSha256(cert);
  g.key_path = out.key_path;
  g.subject = SubjectOf(cert);
  g.not_before = NotBefore(cert);
  g.not_after = NotAfter(cert);
  Status s = db().Run([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto active, IssuerRepo::ActiveGeneration(tx, kLocalIssuerId));
    if (active) {
      RETURN_IF_ERROR(
          IssuerRepo::RetireGeneration(tx, kLocalIssuerId, active->generation));
    }
    return IssuerRepo::InsertGeneration(tx, g);
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

int64_t OpsTest::Count(const std::string& table) {
  return std::stoll(Sql(url_, "SELECT count(*) FROM " + table));
}

}  // namespace certctl::testing
