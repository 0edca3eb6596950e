// `certctl-admin ca backup` of a running system, checked the way an operator
// checks a backup before carrying it off-site: openssl on the certificates
// and keys, sha256sum on the manifest's digests, stat on the modes.
#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "certctl/util/files.h"
#include "e2e/e2e_fixture.h"

namespace certctl::e2e {
namespace {

class CaBackupE2eTest : public E2eTest {
 protected:
  // certctl-admin configured like the running certctld (environment only).
  Output Admin(const Instance& d, std::vector<std::string> args) {
    std::vector<std::string> env;
    for (const auto& [k, v] : Environment(d.api_port, d.pki_port))
      env.push_back(k + "=" + v);
    args.insert(args.begin(), CERTCTL_ADMIN_PATH);
    return Exec(args, env);
  }

  std::string OpensslOut(const std::vector<std::string>& args) {
    Output o = Exec(args);
    EXPECT_EQ(o.exit_code, 0) << args[1] << ": " << o.text;
    return o.text;
  }

  std::string Mode(const std::string& path) {
    Output o = Exec({"stat", "-c", "%a", path});
    EXPECT_EQ(o.exit_code, 0) << o.text;
    return o.text.substr(0, o.text.find('\n'));
  }

  // The key's public half and the certificate's, as openssl prints them.
  void ExpectKeyOfCertificate(const std::string& key, const std::string& cert) {
    std::string from_key = OpensslOut({"openssl", "pkey", "-in", key, "-pubout"});
    std::string from_cert =
        OpensslOut({"openssl", "x509", "-in", cert, "-noout", "-pubkey"});
    EXPECT_FALSE(from_key.empty());
    EXPECT_EQ(from_key, from_cert) << key << " is not the key of " << cert;
  }

  // `sha256sum -c` over the manifest's digests, as the man page shows.
  Output Sha256sumCheck(const std::string& dir) {
    return Exec({"sh", "-c",
                 "cd '" + dir +
                     "' && jq -r '.files[] | \"\\(.sha256)  \\(.name)\"' manifest.json "
                     "| sha256sum -c"});
  }
};

TEST_F(CaBackupE2eTest, BackupOfARunningSystemChecksOutWithOpenssl) {
  Instance d = Start();
  ASSERT_TRUE(d.process->Running());
  ASSERT_FALSE(Issue(d, "leaf").empty());
  // An OCSP answer makes certctld bootstrap the responder the backup holds.
  Output ocsp = Ocsp(d.pki + "/.well-known/pki/ocsp/iss-local", Path("leaf.crt"));
  ASSERT_NE(ocsp.text.find("Response verify OK"), std::string::npos) << ocsp.text;

  std::string dir = Path("offsite/ca-backup");
  ASSERT_TRUE(std::filesystem::create_directory(Path("offsite")));
  Output backup = Admin(d, {"ca", "backup", "iss-local", "--to", dir});
  ASSERT_EQ(backup.exit_code, 0) << backup.text;
  EXPECT_EQ(backup.text.find("PRIVATE KEY"), std::string::npos) << backup.text;

  // Modes: the directory 0700, every file 0600.
  EXPECT_EQ(Mode(dir), "700");
  for (const char* f : {"ca-g1.crt", "ca-g1.key", "ocsp-responder-g1.crt",
                        "ocsp-responder-g1.key", "manifest.json"}) {
    EXPECT_EQ(Mode(dir + "/" + f), "600") << f;
  }

  // The CA: the very certificate certctld runs with, and its key.
  std::string ca_copy = dir + "/ca-g1.crt";
  EXPECT_EQ(OpensslOut(
                {"openssl", "x509", "-in", ca_copy, "-noout", "-fingerprint", "-sha256"}),
            OpensslOut({"openssl", "x509", "-in", ca_cert_, "-noout", "-fingerprint",
                        "-sha256"}));
  ExpectKeyOfCertificate(dir + "/ca-g1.key", ca_copy);
  EXPECT_EQ(Exec({"cmp", dir + "/ca-g1.key", ca_key_}).exit_code, 0);
  // It verifies what certctld issued, and the responder it certified.
  EXPECT_NE(OpensslOut({"openssl", "verify", "-CAfile", ca_copy, Path("leaf.crt")})
                .find(": OK"),
            std::string::npos);
  EXPECT_NE(OpensslOut(
                {"openssl", "verify", "-CAfile", ca_copy, dir + "/ocsp-responder-g1.crt"})
                .find(": OK"),
            std::string::npos);
  ExpectKeyOfCertificate(dir + "/ocsp-responder-g1.key", dir + "/ocsp-responder-g1.crt");

  // The manifest: its fingerprint is openssl's, and sha256sum agrees with
  // every digest it lists.
  auto manifest = nlohmann::json::parse(*ReadFile(dir + "/manifest.json"));
  std::string fp = OpensslOut(
      {"openssl", "x509", "-in", ca_copy, "-noout", "-fingerprint", "-sha256"});
  fp = fp.substr(fp.find('=') + 1);
  std::string plain;
  for (char c : fp) {
    if (std::isxdigit(static_cast<unsigned char>(c))) {
      plain += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  EXPECT_EQ(manifest["generations"][0]["fingerprint_sha256"], plain);
  Output sums = Sha256sumCheck(dir);
  EXPECT_EQ(sums.exit_code, 0) << sums.text;
  for (const auto& f : manifest["files"]) {
    EXPECT_NE(sums.text.find(f["name"].get<std::string>() + ": OK"), std::string::npos)
        << sums.text;
  }
  EXPECT_EQ(manifest["files"].size(), 4u);

  // certctl agrees, and records it.
  Output verified = Admin(d, {"ca", "backup", "--verify", dir});
  EXPECT_EQ(verified.exit_code, 0) << verified.text;
  Output status = Admin(d, {"-o", "json", "ca", "status", "iss-local"});
  auto doc =
      nlohmann::json::parse(status.text.substr(status.text.find('{')), nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << status.text;
  EXPECT_EQ(doc["data"]["issuers"][0]["generations"][0]["backup"]["directory"], dir);

  // A changed byte: sha256sum and certctl both see it.
  {
    std::ofstream f(dir + "/ocsp-responder-g1.crt", std::ios::app);
    f << "\n";
  }
  Output changed = Sha256sumCheck(dir);
  EXPECT_NE(changed.exit_code, 0);
  EXPECT_NE(changed.text.find("ocsp-responder-g1.crt: FAILED"), std::string::npos)
      << changed.text;
  EXPECT_EQ(Admin(d, {"ca", "backup", "--verify", dir}).exit_code, 1);
}

}  // namespace
}  // namespace certctl::e2e
