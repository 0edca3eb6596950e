// The disaster-recovery runbook's symptoms, each reproduced and fixed by its
// certctl-admin command, checked the way an operator would (openssl CLI).
#include <gtest/gtest.h>

#include <filesystem>

#include "certctl/ops/crl_ops.h"
#include "certctl/ops/ocsp_ops.h"
#include "certctl/pki/ca.h"
#include "certctl/pki/certificate.h"
#include "certctl/util/encoding.h"
#include "certctl/util/files.h"
#include "certctl/util/process.h"
#include "cmd/admin_fixture.h"
#include "support/test_pki.h"

namespace certctl {
namespace {

using testing::Sql;

using std::chrono::hours;

class RunbookTest : public testing::AdminTest {
 protected:
  ProcessResult Openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    auto r = RunProcess(args);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ProcessResult{};
  }
  // The cached CRL of iss-local written to a file, as an operator would dump it.
  std::string DumpCachedCrl() {
    std::string path = *dir_ / "cached.crl";
    auto der = Base64Decode(Sql(url_,
                                "SELECT encode(crl_der, 'base64') FROM crl_cache "
                                "WHERE issuer_id = 'iss-local'"));
    EXPECT_TRUE(der.ok());
    EXPECT_TRUE(WriteFileAtomic(path, der.ok() ? *der : "", {.mode = 0644}).ok());
    return path;
  }
  std::string CaPem(const std::string& cn, TimePoint not_before, TimePoint not_after) {
    return testing::SelfSignedCaPem(cn, not_before, not_after);
  }
};

// "CRL cache recovery": a corrupt crl_cache row.
TEST_F(RunbookTest, CorruptCrlRowIsFoundAndRegenerated) {
  std::string serial = Issue("gone.example").serial;
  Revoke(serial);
  ASSERT_EQ(Admin({"crl", "regenerate", "iss-local"}).exit_code, 0);
  Sql(url_, "UPDATE crl_cache SET crl_der = '\\xdeadbeef' WHERE issuer_id = 'iss-local'");

  auto found = Admin({"crl", "status", "iss-local"});
  EXPECT_EQ(found.exit_code, 1) << found.Both();
  EXPECT_NE(found.out.find("corrupt"), std::string::npos) << found.out;
  auto json = Admin({"-o", "json", "crl", "status", "iss-local"});
  EXPECT_EQ(json.json["findings"][0]["code"], "crl.corrupt") << json.out;
  EXPECT_EQ(json.json["data"]["issuers"][0]["generations"][0]["verdict"], "corrupt");

  auto fixed = Admin({"crl", "regenerate", "iss-local"});
  EXPECT_EQ(fixed.exit_code, 0) << fixed.Both();
  auto after = Admin({"crl", "status", "iss-local"});
  EXPECT_EQ(after.exit_code, 0) << after.Both();
  EXPECT_NE(after.out.find("generation 1: ok"), std::string::npos) << after.out;

  // As the runbook verifies: openssl parses it, the signature checks with
  // the CA, and the revoked serial is listed.
  auto crl = Openssl({"crl", "-inform", "DER", "-in", DumpCachedCrl(), "-CAfile",
                      ca_cert_path_, "-noout", "-text"});
  EXPECT_EQ(crl.exit_code, 0) << crl.output;
  EXPECT_NE(crl.output.find("verify OK"), std::string::npos) << crl.output;
  std::string upper = serial;
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_NE(crl.output.find(upper.size() % 2 ? "0" + upper : upper), std::string::npos)
      << crl.output;

  // --invalidate-only is the runbook's literal step: the row goes.
  auto dropped = Admin({"crl", "regenerate", "iss-local", "--invalidate-only", "--yes"});
  EXPECT_EQ(dropped.exit_code, 0) << dropped.Both();
  EXPECT_NE(dropped.out.find("next fetch"), std::string::npos) << dropped.out;
  EXPECT_EQ(Count("crl_cache"), 0);
  EXPECT_EQ(Admin({"crl", "status", "iss-local"}).exit_code, 1);  // missing
}

// "OCSP responder cert recovery": responder row and key file both gone.
TEST_F(RunbookTest, MissingResponderRowAndKeyAreReset) {
  ASSERT_EQ(Admin({"ocsp", "reset-responder", "iss-local", "--yes"}).exit_code, 0);
  EXPECT_EQ(Admin({"ocsp", "status", "iss-local"}).exit_code, 0);
  std::string key_path = Sql(url_, "SELECT key_path FROM ocsp_responder_certs");
  ASSERT_TRUE(std::filesystem::exists(key_path));
  Sql(url_, "DELETE FROM ocsp_responder_certs WHERE issuer_id = 'iss-local'");
  std::filesystem::remove(key_path);

  auto found = Admin({"-o", "json", "ocsp", "status", "iss-local"});
  EXPECT_EQ(found.exit_code, 1) << found.Both();
  std::string codes;
  for (const auto& f : found.json["findings"])
    codes += f["code"].get<std::string>() + " ";
  EXPECT_NE(codes.find("ocsp.responder_missing"), std::string::npos) << codes;
  auto text = Admin({"ocsp", "status", "iss-local"});
  EXPECT_NE(text.out.find("ocsp.responder_missing"), std::string::npos) << text.out;

  auto fixed = Admin({"-o", "json", "ocsp", "reset-responder", "iss-local", "--yes"});
  EXPECT_EQ(fixed.exit_code, 0) << fixed.Both();
  EXPECT_EQ(fixed.json["data"]["verified"], true);
  EXPECT_EQ(Admin({"ocsp", "status", "iss-local"}).exit_code, 0);
  // The new key has a file of its own (the responder's serial in its name).
  std::string new_key = Sql(url_, "SELECT key_path FROM ocsp_responder_certs");
  EXPECT_EQ(fixed.json["data"]["key_path"], new_key);
  EXPECT_NE(new_key, key_path);
  auto mode = FileMode(new_key);
  ASSERT_TRUE(mode.ok()) << mode.status().ToString();
  EXPECT_EQ(*mode, 0600u);

  // The operator's view: the new responder certificate chains to the CA and
  // carries OCSPSigning and ocsp-nocheck.
  std::string pem = *dir_ / "responder.pem";
  ASSERT_TRUE(WriteFileAtomic(pem, Sql(url_, "SELECT cert_pem FROM ocsp_responder_certs"),
                              {.mode = 0644})
                  .ok());
  auto verify =
      Openssl({"verify", "-CAfile", ca_cert_path_, "-purpose", "ocsphelper", pem});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  auto text_out = Openssl({"x509", "-in", pem, "-noout", "-text"});
  EXPECT_NE(text_out.output.find("OCSP Signing"), std::string::npos) << text_out.output;
  EXPECT_NE(text_out.output.find("OCSP No Check"), std::string::npos) << text_out.output;
  EXPECT_GE(Count("ocsp_responder_cert_history"), 1);  // the first one, kept
}

// "OCSP response cache recovery": a stale cached "good" after a revoke.
TEST_F(RunbookTest, StaleCachedGoodAfterRevokeIsTruncated) {
  std::string serial = Issue("stale.example").serial;
  {
    ops::OcspService ocsp(Context());
    auto answer = ocsp.RespondForSerial(kLocalIssuerId, serial);
    ASSERT_TRUE(answer.ok()) << answer.status().ToString();
    ASSERT_EQ(answer->cert_status, "good");
  }
  ASSERT_EQ(Count("ocsp_response_cache"), 1);
  EXPECT_EQ(Admin({"ocsp", "check", "iss-local", serial}).exit_code, 0);
  // The invalidation "fails to fire": the good answer is put back after the
  // revocation, as if it had never been dropped.
  Sql(url_, "CREATE TABLE saved_answer AS SELECT * FROM ocsp_response_cache");
  Revoke(serial, "keyCompromise");
  Sql(url_, "INSERT INTO ocsp_response_cache SELECT * FROM saved_answer");
  Sql(url_,
      "UPDATE ocsp_response_cache SET revocation_epoch = (SELECT revocation_epoch FROM "
      "issuers WHERE id = 'iss-local')");
  Sql(url_, "DROP TABLE saved_answer");

  auto stale = Admin({"-o", "json", "ocsp", "check", "iss-local", serial});
  EXPECT_EQ(stale.exit_code, 1) << stale.Both();
  EXPECT_EQ(stale.json["data"]["responder"]["status"], "good") << stale.out;
  EXPECT_EQ(stale.json["data"]["database"]["status"], "revoked");
  EXPECT_EQ(stale.json["findings"][0]["code"], "ocsp.disagreement");
  auto text = Admin({"ocsp", "check", "iss-local", serial});
  EXPECT_NE(text.out.find("cache truncate --ocsp"), std::string::npos) << text.out;

  auto truncated = Admin({"-o", "json", "cache", "truncate", "--ocsp", "--issuer",
                          "iss-local", "--serial", serial, "--yes"});
  EXPECT_EQ(truncated.exit_code, 0) << truncated.Both();
  EXPECT_EQ(truncated.json["data"]["ocsp_rows_deleted"], 1);

  auto fresh = Admin({"-o", "json", "ocsp", "check", "iss-local", serial});
  EXPECT_EQ(fresh.exit_code, 0) << fresh.Both();
  EXPECT_EQ(fresh.json["data"]["responder"]["status"], "revoked");
  EXPECT_EQ(fresh.json["data"]["responder"]["reason"], "keyCompromise");
  EXPECT_EQ(Admin({"cache", "verify"}).exit_code, 0);
}

// cache verify finds the same stale answer and --fix removes it.
TEST_F(RunbookTest, CacheVerifyFindsAndFixesAStaleAnswer) {
  std::string serial = Issue("v.example").serial;
  {
    ops::OcspService ocsp(Context());
    ASSERT_TRUE(ocsp.RespondForSerial(kLocalIssuerId, serial).ok());
  }
  Sql(url_, "CREATE TABLE saved_answer AS SELECT * FROM ocsp_response_cache");
  Revoke(serial);
  Sql(url_, "INSERT INTO ocsp_response_cache SELECT * FROM saved_answer");
  auto found = Admin({"-o", "json", "cache", "verify"});
  EXPECT_EQ(found.exit_code, 1) << found.Both();
  EXPECT_EQ(found.json["findings"][0]["code"], "cache.stale_good") << found.out;
  // A fix that worked is a success for cron: exit 0, the answer it removed a
  // warning, no "error:" anywhere; its dry run says the same before.
  auto planned = Admin({"cache", "verify", "--fix", "--dry-run"});
  EXPECT_EQ(planned.exit_code, 0) << planned.Both();
  EXPECT_NE(planned.out.find("would remove 1 bad cached answer"), std::string::npos)
      << planned.out;
  EXPECT_EQ(Count("ocsp_response_cache"), 1);
  auto fixed = Admin({"-o", "json", "cache", "verify", "--fix", "--yes"});
  EXPECT_EQ(fixed.exit_code, 0) << fixed.Both();
  EXPECT_EQ(fixed.json["data"]["fixed"], 1);
  EXPECT_EQ(fixed.json["findings"][0]["code"], "cache.stale_good") << fixed.out;
  EXPECT_EQ(fixed.json["findings"][0]["severity"], "warning") << fixed.out;
  EXPECT_EQ(fixed.json["ok"], true) << fixed.out;
  EXPECT_EQ(Count("ocsp_response_cache"), 0);
  EXPECT_EQ(Admin({"cache", "verify"}).exit_code, 0);
  // The same in text.
  Sql(url_, "INSERT INTO ocsp_response_cache SELECT * FROM saved_answer");
  auto text = Admin({"cache", "verify", "--fix", "--yes"});
  EXPECT_EQ(text.exit_code, 0) << text.Both();
  EXPECT_EQ(text.out.find("error"), std::string::npos) << text.out;
  EXPECT_TRUE(text.err.empty()) << text.err;
  EXPECT_NE(text.out.find("removed 1 bad cached answer"), std::string::npos) << text.out;
}

// "Trust-bundle reload semantics": a bad bundle is refused with the exact
// reason before it is installed.
TEST_F(RunbookTest, TrustCheckRefusesABadBundleWithTheReason) {
  auto now = std::chrono::system_clock::now();
  std::string good = *dir_ / "good.pem", expired = *dir_ / "expired.pem",
              garbage = *dir_ / "garbage.pem", empty = *dir_ / "empty.pem";
  ASSERT_TRUE(WriteFileAtomic(good,
                              CaPem("first", now - hours(1), now + hours(24)) +
                                  CaPem("second", now - hours(1), now + hours(24)),
                              {.mode = 0644})
                  .ok());
  ASSERT_TRUE(WriteFileAtomic(expired,
                              CaPem("ok", now - hours(1), now + hours(24)) +
                                  CaPem("old", now - hours(48), now - hours(24)),
                              {.mode = 0644})
                  .ok());
  ASSERT_TRUE(WriteFileAtomic(garbage,
                              "-----BEGIN CERTIFICATE-----\nnope\n"
                              "-----END CERTIFICATE-----\n",
                              {.mode = 0644})
                  .ok());
  ASSERT_TRUE(WriteFileAtomic(empty, "\n", {.mode = 0644}).ok());

  auto ok = Admin({"trust", "check", good});
  EXPECT_EQ(ok.exit_code, 0) << ok.Both();
  EXPECT_NE(ok.out.find("CN=first"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("CN=second"), std::string::npos) << ok.out;

  auto old = Admin({"-o", "json", "trust", "check", expired});
  EXPECT_EQ(old.exit_code, 1) << old.Both();
  EXPECT_EQ(old.json["data"]["problem"], "expired");
  EXPECT_NE(old.json["data"]["message"].get<std::string>().find(
                "certificate 2 (CN=old) expired"),
            std::string::npos)
      << old.out;
  EXPECT_EQ(Admin({"-o", "json", "trust", "check", garbage}).json["data"]["problem"],
            "garbage");
  EXPECT_EQ(Admin({"-o", "json", "trust", "check", empty}).json["data"]["problem"],
            "empty");
  auto missing = Admin({"-o", "json", "trust", "check", *dir_ / "nope.pem"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.json["data"]["problem"], "unreadable");
  // trust check needs no database.
  EXPECT_EQ(Admin({"trust", "check", good}, {"CERTCTL_DATABASE_URL=host=/nonexistent"})
                .exit_code,
            0);
}

// Audit evidence: the list shows what the commands did, and verify detects
// a row changed behind the log's back.
TEST_F(RunbookTest, AuditListAndVerify) {
  ASSERT_EQ(Admin({"--actor", "alice", "crl", "regenerate", "iss-local"}).exit_code, 0);
  ASSERT_EQ(Admin({"--actor", "bob", "cache", "truncate", "--crl", "--yes"}).exit_code,
            0);
  auto list = Admin({"-o", "json", "audit", "list", "--actor", "alice", "--since", "1h"});
  EXPECT_EQ(list.exit_code, 0) << list.Both();
  EXPECT_EQ(list.json["data"]["count"], 2);
  EXPECT_EQ(list.json["data"]["events"][0]["action"], "crl.regenerate");
  auto text = Admin({"audit", "list", "--action", "cache.truncate"});
  EXPECT_NE(text.out.find("bob"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("alice"), std::string::npos) << text.out;
  EXPECT_EQ(Admin({"audit", "list", "--since", "yesterday-ish"}).exit_code, 2);

  auto intact = Admin({"audit", "verify"});
  EXPECT_EQ(intact.exit_code, 0) << intact.Both();
  EXPECT_NE(intact.out.find("intact"), std::string::npos);
  std::string id = Sql(url_, "SELECT min(id) + 1 FROM audit_events");
  Sql(url_, "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update");
  Sql(url_, "UPDATE audit_events SET actor = 'mallory' WHERE id = " + id);
  Sql(url_, "ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update");
  auto broken = Admin({"-o", "json", "audit", "verify"});
  EXPECT_EQ(broken.exit_code, 1) << broken.Both();
  EXPECT_EQ(broken.json["data"]["first_broken_id"], std::stoll(id));
  EXPECT_EQ(broken.json["findings"][0]["code"], "audit.chain_broken");
}

}  // namespace
}  // namespace certctl
