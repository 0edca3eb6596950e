// certctl-admin audit verify and audit anchor as an operator meets them: the
// exit status, the text, the JSON, a missing or wrong key, anchor files.
#include <gtest/gtest.h>

#include <filesystem>

#include "certctl/util/files.h"
#include "cmd/admin_fixture.h"

namespace certctl {
namespace {

using testing::Sql;

class AuditCommandTest : public testing::AdminTest {
 protected:
  void Tamper(const std::string& sql) {
    Sql(url_, "ALTER TABLE audit_events DISABLE TRIGGER USER; " + sql +
                  "; ALTER TABLE audit_events ENABLE TRIGGER USER");
  }
  void Commands(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_EQ(Admin({"crl", "regenerate", "iss-local"}).exit_code, 0);
    }
  }
};

TEST_F(AuditCommandTest, VerifyReportsEveryBreakWithItsAnchors) {
  Commands(2);
  int64_t rows = Count("audit_events");
  auto intact = Admin({"audit", "verify"});
  EXPECT_EQ(intact.exit_code, 0) << intact.Both();
  EXPECT_NE(intact.out.find("intact: " + std::to_string(rows) + " audit events"),
            std::string::npos)
      << intact.out;
  EXPECT_NE(intact.out.find("anchor " + config_.audit_anchor_file), std::string::npos);
  EXPECT_EQ(*FileMode(config_.audit_anchor_file), 0600u);

  std::string copy = *dir_ / "host-b.anchor";
  ASSERT_TRUE(WriteFileAtomic(copy, *ReadFile(config_.audit_anchor_file)).ok());
  Tamper("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2");
  Tamper("DELETE FROM audit_events WHERE seq = (SELECT max(seq) FROM audit_events)");
  auto broken = Admin({"audit", "verify", "--anchor", copy});
  EXPECT_EQ(broken.exit_code, 1) << broken.Both();
  std::string summary =
      "broken: 2 breaks in " + std::to_string(rows - 1) + " audit events";
  for (const std::string& part :
       {summary, std::string("modified"), std::string("truncated"),
        std::string("host-b.anchor")}) {
    EXPECT_NE(broken.out.find(part), std::string::npos) << part << "\n" << broken.out;
  }
  auto json = Admin({"-o", "json", "audit", "verify"});
  EXPECT_EQ(json.exit_code, 1);
  ASSERT_EQ(json.json["data"]["breaks"].size(), 2u) << json.out;
  EXPECT_EQ(json.json["data"]["breaks"][0]["kind"], "modified");
  EXPECT_EQ(json.json["data"]["breaks"][1]["kind"], "truncated");
  EXPECT_EQ(json.json["data"]["first_broken_id"], 2);
  EXPECT_EQ(json.json["findings"].size(), 2u);
  EXPECT_EQ(json.json["findings"][0]["code"], "audit.chain_broken");

  // An anchor file that is not there, or is not an anchor: usage errors.
  auto missing = Admin({"audit", "verify", "--anchor", *dir_ / "nope.anchor"});
  EXPECT_EQ(missing.exit_code, 2) << missing.Both();
  EXPECT_NE(missing.err.find("nope.anchor"), std::string::npos) << missing.err;
  auto junk = Admin({"audit", "verify", "--anchor", empty_config_});
  EXPECT_EQ(junk.exit_code, 2) << junk.Both();
  EXPECT_NE(junk.err.find("not a certctl audit anchor"), std::string::npos) << junk.err;
}

TEST_F(AuditCommandTest, AMissingOrWrongKeyIsSaidPlainly) {
  Commands(1);
  int64_t rows = Count("audit_events");
  auto none = Admin({"audit", "verify"}, {"CERTCTL_AUDIT_KEY="});
  EXPECT_EQ(none.exit_code, 78) << none.Both();
  EXPECT_NE(none.err.find("no audit key"), std::string::npos) << none.err;
  EXPECT_EQ(none.out.find("broken"), std::string::npos) << none.out;
  auto wrong = Admin({"audit", "verify"}, {"CERTCTL_AUDIT_KEY=" + std::string(64, 'w')});
  EXPECT_EQ(wrong.exit_code, 78) << wrong.Both();
  EXPECT_NE(wrong.err.find("not the key the audit log was written with"),
            std::string::npos)
      << wrong.err;
  EXPECT_EQ(wrong.out.find("broken"), std::string::npos) << wrong.out;
  // Without the key nothing that writes an event runs.
  auto refused = Admin({"crl", "regenerate", "iss-local"}, {"CERTCTL_AUDIT_KEY="});
  EXPECT_EQ(refused.exit_code, 78) << refused.Both();
  EXPECT_EQ(Count("audit_events"), rows);
  // Too short a key is a configuration error that does not show the key.
  auto short_key = Admin({"audit", "verify"}, {"CERTCTL_AUDIT_KEY=tooshortsecret"});
  EXPECT_EQ(short_key.exit_code, 78) << short_key.Both();
  EXPECT_NE(short_key.err.find("CERTCTL_AUDIT_KEY"), std::string::npos);
  EXPECT_EQ(short_key.err.find("tooshortsecret"), std::string::npos) << short_key.err;
}

TEST_F(AuditCommandTest, AnchorAcknowledgesABreakSoTheLogVerifiesAgain) {
  Commands(2);
  Tamper("DELETE FROM audit_events WHERE seq > 3");  // as a restore from backup would
  EXPECT_EQ(Admin({"audit", "verify"}).exit_code, 1);
  auto before = Snapshot();
  auto dry = Admin({"audit", "anchor", "--reason", "restored, incident 7", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.Both();
  EXPECT_NE(dry.out.find("truncated"), std::string::npos) << dry.out;
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(Admin({"audit", "anchor", "--yes"}).exit_code, 2);  // --reason is required

  auto done = Admin(
      {"-o", "json", "audit", "anchor", "--reason", "restored, incident 7", "--yes"});
  EXPECT_EQ(done.exit_code, 0) << done.Both();
  EXPECT_EQ(done.json["data"]["acknowledged"].size(), 1u);
  EXPECT_EQ(done.json["data"]["anchors"][0], config_.audit_anchor_file);
  EXPECT_EQ(*FileMode(config_.audit_anchor_file), 0600u);
  EXPECT_EQ(Sql(url_, "SELECT detail FROM audit_events WHERE action = 'audit.anchor'"),
            "restored, incident 7");

  auto verified = Admin({"audit", "verify"});
  EXPECT_EQ(verified.exit_code, 0) << verified.Both();
  EXPECT_NE(verified.out.find("intact"), std::string::npos) << verified.out;
  // The history is there to read; it is not reported as an error.
  auto nothing = Admin({"audit", "anchor", "--reason", "again", "--yes"});
  EXPECT_EQ(nothing.exit_code, 0) << nothing.Both();
  EXPECT_NE(nothing.out.find("nothing to acknowledge"), std::string::npos) << nothing.out;
}

}  // namespace
}  // namespace certctl
