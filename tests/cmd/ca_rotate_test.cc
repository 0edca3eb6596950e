// `certctl-admin ca rotate` as an operator runs it: import mode's refusals
// (exit 2, every row and file unchanged), the sub-CA flow with a parent CA
// made by the openssl CLI, and generate mode's output.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "certctl/pki/ca.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/util/files.h"
#include "cmd/admin_fixture.h"

namespace certctl::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;

bool Has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

// The "state:" line of the text output says `state`.
bool StateIs(const std::string& out, const std::string& state) {
  size_t at = out.find("\nstate:");
  if (at == std::string::npos) return false;
  size_t value = out.find_first_not_of(' ', at + 7);
  return value != std::string::npos &&
         out.compare(value, state.size() + 1, state + "\n") == 0;
}

e2e::Output Openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  return e2e::Exec(argv);
}

class CaRotateCommandTest : public AdminTest {
 protected:
  std::string Backups() const { return *dir_ / "backups"; }

  // A certificate for `key` issued as `r` says, self-signed, written with its
  // key under `name`.crt/.key in an "offline" directory.
  std::pair<std::string, std::string> Made(const std::string& name, IssueRequest r,
                                           EVP_PKEY* key, EVP_PKEY* signer = nullptr) {
    std::string offline = *dir_ / "offline";
    fs::create_directories(offline);
    std::string cert_path = offline + "/" + name + ".crt";
    std::string key_path = offline + "/" + name + ".key";
    r.public_key = key;
    auto cert = IssueCertificate(r, *Serial::Random(), nullptr, signer ? signer : key);
    EXPECT_TRUE(cert.ok()) << cert.status().ToString();
    EXPECT_TRUE(
        WriteFileAtomic(cert_path, CertificateToPem(cert->get()), {.mode = 0644}).ok());
    EXPECT_TRUE(WritePrivateKeyFile(key_path, key).ok());
    return {cert_path, key_path};
  }

  static IssueRequest Ca(const std::string& cn, TimePoint from, TimePoint to,
                         std::string usage = "keyCertSign,cRLSign", bool is_ca = true) {
    IssueRequest r;
    r.common_name = cn;
    r.not_before = from;
    r.not_after = to;
    r.is_ca = is_ca;
    r.key_usage = std::move(usage);
    return r;
  }

  AdminRun Import(const std::string& cert, const std::string& key) {
    return Admin({"ca", "rotate", "iss-local", "--backup-dir", Backups(), "--cert", cert,
                  "--key", key, "--yes"});
  }
};

// Each bad input of issue 10 is refused with its reason and exit 2, and
// nothing changes: every table's rows and every file are compared.
TEST_F(CaRotateCommandTest, ImportRefusesEachBadInputChangingNothing) {
  auto now = std::chrono::system_clock::now();
  auto year = hours(24 * 365);
  auto key = GenerateKey(KeyAlgorithm::kEcdsaP256);
  auto other = GenerateKey(KeyAlgorithm::kEcdsaP256);
  ASSERT_TRUE(key.ok() && other.ok());
  EVP_PKEY* k = key->get();
  struct Case {
    std::string what;
    std::pair<std::string, std::string> files;
    std::string reason;
  };
  std::vector<Case> cases;
  cases.push_back(
      {"not a CA",
       Made("leaf", Ca("Leaf", now, now + year, "digitalSignature", false), k),
       "is not a CA: basicConstraints CA:TRUE is missing"});
  cases.push_back({"no keyCertSign",
                   Made("no-kcs", Ca("No KCS", now, now + year, "cRLSign"), k),
                   "keyUsage lacks keyCertSign"});
  cases.push_back({"no cRLSign",
                   Made("no-crl", Ca("No CRL", now, now + year, "keyCertSign"), k),
                   "keyUsage lacks cRLSign"});
  auto good = Made("good", Ca("Good CA", now - hours(1), now + 10 * year), k);
  auto stranger = Made("stranger", Ca("Stranger", now, now + year), other->get());
  cases.push_back({"key mismatch",
                   {good.first, stranger.second},
                   "the CA private key does not match"});
  cases.push_back({"expired",
                   Made("expired", Ca("Expired", now - 2 * year, now - year), k),
                   "has expired"});
  cases.push_back({"not yet valid",
                   Made("future", Ca("Future", now + year, now + 2 * year), k),
                   "is not yet valid"});
  cases.push_back({"expires before a leaf",
                   Made("short", Ca("Short", now - hours(1), now + hours(24 * 10)), k),
                   "before a certificate issued now would"});
  cases.push_back({"already generation 1",
                   {ca_cert_path_, ca_key_path_},
                   "it is already CA generation 1 of iss-local"});
  auto g1_key = LoadPrivateKeyFile(ca_key_path_);
  ASSERT_TRUE(g1_key.ok());
  cases.push_back({"the key of generation 1",
                   Made("recertified", Ca("Recertified", now - hours(1), now + 10 * year),
                        g1_key->get()),
                   "its key is the key of CA generation 1"});
  std::string loose = *dir_ / "offline/loose.key";
  ASSERT_TRUE(WritePrivateKeyFile(loose, k).ok());
  ASSERT_EQ(::chmod(loose.c_str(), 0644), 0);
  cases.push_back({"key readable by others", {good.first, loose}, "cannot use the key"});
  cases.push_back(
      {"missing certificate", {*dir_ / "offline/none.crt", good.second}, "cannot use"});

  auto before = Snapshot();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto run = Import(c.files.first, c.files.second);
    EXPECT_EQ(run.exit_code, 2) << run.Both();
    EXPECT_TRUE(Has(run.err, c.reason)) << run.err;
    EXPECT_EQ(Snapshot(), before) << c.what << " changed something";
  }
  // The control: the good one is imported.
  auto ok = Import(good.first, good.second);
  EXPECT_EQ(ok.exit_code, 0) << ok.Both();
  EXPECT_TRUE(StateIs(ok.out, "completed")) << ok.out;
  EXPECT_EQ(Sql(url_, "SELECT subject FROM ca_generations WHERE state = 'active'"),
            "CN=Good CA");
  // The imported key was copied next to the old one, 0600; the original stays.
  std::string copied = *dir_ / "iss-local-ca-g2.key";
  EXPECT_EQ(Openssl({"pkey", "-in", copied, "-pubout"}).text,
            Openssl({"pkey", "-in", good.second, "-pubout"}).text);
  EXPECT_EQ(*FileMode(copied), 0600u);
  EXPECT_TRUE(fs::exists(good.second));
}

// Sub-CA mode: the CSR goes to the parent (an offline root made with the
// openssl CLI), the signed certificate comes back with the chain.
TEST_F(CaRotateCommandTest, SubCaWaitsForItsSignatureThenFinishes) {
  std::string root_key = *dir_ / "root.key", root_crt = *dir_ / "root.crt";
  auto root = Openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt",
                       "ec_paramgen_curve:P-256", "-nodes", "-keyout", root_key, "-out",
                       root_crt, "-subj", "/CN=Offline Root", "-days", "7300", "-addext",
                       "basicConstraints=critical,CA:TRUE", "-addext",
                       "keyUsage=critical,keyCertSign,cRLSign"});
  ASSERT_EQ(root.exit_code, 0) << root.text;
  std::string csr = *dir_ / "g2.csr";
  auto first = Admin({"ca", "rotate", "iss-local", "--backup-dir", Backups(), "--csr-out",
                      csr, "--subject", "CN=certctl Issuing CA G2,O=example", "--yes"});
  ASSERT_EQ(first.exit_code, 0) << first.Both();
  EXPECT_TRUE(StateIs(first.out, "awaiting-signature")) << first.out;
  EXPECT_TRUE(Has(first.out, "--import-signed")) << first.out;
  auto req = Openssl({"req", "-in", csr, "-noout", "-text", "-verify"});
  EXPECT_TRUE(Has(req.text, "verify OK")) << req.text;
  EXPECT_TRUE(Has(req.text, "CA:TRUE")) << req.text;
  EXPECT_TRUE(Has(req.text, "Certificate Sign, CRL Sign")) << req.text;
  EXPECT_EQ(Sql(url_, "SELECT state FROM ca_rotations"), "awaiting-signature");
  // Still generation 1 issuing; a second rotation and --resume are refused.
  EXPECT_EQ(Sql(url_, "SELECT generation FROM ca_generations WHERE state = 'active'"),
            "1");
  auto again = Admin({"ca", "rotate", "iss-local", "--backup-dir", Backups(), "--yes"});
  EXPECT_EQ(again.exit_code, 1) << again.Both();
  EXPECT_TRUE(Has(again.err, "is unfinished")) << again.err;
  auto resume = Admin({"ca", "rotate", "iss-local", "--resume", "--yes"});
  EXPECT_EQ(resume.exit_code, 2) << resume.Both();
  EXPECT_TRUE(Has(resume.err, "waiting for its CSR to be signed")) << resume.err;

  // The parent signs; a certificate for another key and a wrong parent are
  // refused first.
  std::string ext = *dir_ / "ca.ext";
  ASSERT_TRUE(WriteFileAtomic(ext,
                              "basicConstraints=critical,CA:TRUE\n"
                              "keyUsage=critical,keyCertSign,cRLSign\n"
                              "subjectKeyIdentifier=hash\n"
                              "authorityKeyIdentifier=keyid\n",
                              {.mode = 0644})
                  .ok());
  std::string signed_crt = *dir_ / "g2.crt";
  auto sign =
      Openssl({"x509", "-req", "-in", csr, "-CA", root_crt, "-CAkey", root_key,
               "-CAcreateserial", "-days", "3650", "-extfile", ext, "-out", signed_crt});
  ASSERT_EQ(sign.exit_code, 0) << sign.text;
  auto wrong_root =
      Openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
               "-nodes", "-keyout", *dir_ / "other-root.key", "-out",
               *dir_ / "other-root.crt", "-subj", "/CN=Other Root", "-days", "7300"});
  ASSERT_EQ(wrong_root.exit_code, 0);
  auto before = Snapshot();
  auto refused = Admin({"ca", "rotate", "iss-local", "--import-signed", signed_crt,
                        "--chain", *dir_ / "other-root.crt", "--yes"});
  EXPECT_EQ(refused.exit_code, 2) << refused.Both();
  EXPECT_TRUE(Has(refused.err, "does not chain to the given parent")) << refused.err;
  auto not_ours = Admin({"ca", "rotate", "iss-local", "--import-signed", root_crt,
                         "--chain", root_crt, "--yes"});
  EXPECT_EQ(not_ours.exit_code, 2) << not_ours.Both();
  EXPECT_TRUE(Has(not_ours.err, "is not for the pending key")) << not_ours.err;
  EXPECT_EQ(Snapshot(), before);

  auto done = Admin({"ca", "rotate", "iss-local", "--import-signed", signed_crt,
                     "--chain", root_crt, "--yes"});
  ASSERT_EQ(done.exit_code, 0) << done.Both();
  EXPECT_TRUE(StateIs(done.out, "completed")) << done.out;
  EXPECT_EQ(Sql(url_,
                "SELECT generation || ':' || subject FROM ca_generations WHERE "
                "state = 'active'"),
            "2:CN=certctl Issuing CA G2,O=example");
  // A certificate issued now comes with the sub-CA and its root; openssl
  // verifies it against the offline root.
  auto ctx = Context();
  ops::IssueParams p;
  p.generate_key = KeyAlgorithm::kEcdsaP256;
  p.common_name = "leaf.example";
  auto leaf = ops::IssueCertificate(ctx, p);
  ASSERT_TRUE(leaf.ok()) << leaf.status().ToString();
  std::string leaf_file = *dir_ / "leaf.crt", chain_file = *dir_ / "chain.pem";
  ASSERT_TRUE(WriteFileAtomic(leaf_file, leaf->certificate_pem, {.mode = 0644}).ok());
  ASSERT_TRUE(WriteFileAtomic(chain_file, leaf->chain_pem, {.mode = 0644}).ok());
  auto verified =
      Openssl({"verify", "-CAfile", root_crt, "-untrusted", chain_file, leaf_file});
  EXPECT_EQ(verified.exit_code, 0) << verified.text;
}

TEST_F(CaRotateCommandTest, AbortedSubCaRotationKeepsItsFiles) {
  std::string csr = *dir_ / "g2.csr";
  ASSERT_EQ(Admin({"ca", "rotate", "iss-local", "--backup-dir", Backups(), "--csr-out",
                   csr, "--yes"})
                .exit_code,
            0);
  auto aborted = Admin({"-o", "json", "ca", "rotate", "iss-local", "--abort", "--yes"});
  ASSERT_EQ(aborted.exit_code, 0) << aborted.Both();
  EXPECT_EQ(aborted.json["data"]["state"], "aborted");
  EXPECT_TRUE(fs::exists(csr));
  EXPECT_TRUE(fs::exists(*dir_ / "iss-local-ca-g2.key"));
  EXPECT_EQ(Sql(url_,
                "SELECT string_agg(generation || ':' || state, ',') FROM "
                "ca_generations"),
            "1:active");
  EXPECT_EQ(AuditOutcomes("ca.rotate"), "started,succeeded,started,succeeded");
  auto nothing = Admin({"ca", "rotate", "iss-local", "--abort", "--yes"});
  EXPECT_EQ(nothing.exit_code, 2) << nothing.Both();
  EXPECT_TRUE(Has(nothing.err, "no unfinished rotation")) << nothing.err;
}

// A dry run starts nothing: its plan must not send the operator to --resume
// or --abort, which would answer "no unfinished rotation".
TEST_F(CaRotateCommandTest, DryRunPlanOffersNoResume) {
  auto before = Snapshot();
  auto plan =
      Admin({"ca", "rotate", "iss-local", "--backup-dir", Backups(), "--dry-run"});
  ASSERT_EQ(plan.exit_code, 0) << plan.Both();
  EXPECT_TRUE(Has(plan.out, "planned")) << plan.out;
  EXPECT_FALSE(Has(plan.out, "--resume")) << plan.out;
  EXPECT_FALSE(Has(plan.out, "next:")) << plan.out;
  auto json = Admin({"-o", "json", "ca", "rotate", "iss-local", "--backup-dir", Backups(),
                     "--dry-run"});
  EXPECT_EQ(json.json["data"]["next"], "") << json.out;
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(CaRotateCommandTest, FlagsThatDoNotGoTogetherAreUsageErrors) {
  auto before = Snapshot();
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--resume", "--abort"},
           {"--cert", "a", "--key", "b", "--csr-out", "c"},
           {"--resume", "--key-type", "ed25519"},
           {"--chain", "x"},
           {"--abort", "--backup-dir", "x"},
           {"--key-type", "rsa-1024"}}) {
    std::vector<std::string> full = {"ca", "rotate", "iss-local", "--yes"};
    full.insert(full.end(), args.begin(), args.end());
    auto run = Admin(full);
    EXPECT_EQ(run.exit_code, 2) << args[0] << run.Both();
  }
  EXPECT_EQ(Snapshot(), before);
}

}  // namespace
}  // namespace certctl::testing
