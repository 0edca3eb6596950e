// The chain verifier on rows built in memory: every kind of break it names,
// that all of them are reported, and how acknowledgements apply.
#include "certctl/audit/chain_verifier.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "certctl/audit/chain.h"

namespace certctl::audit {
namespace {

AuditKey Key(const std::string& secret = std::string(64, 'k')) {
  auto key = AuditKey::Derive(secret);
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return std::move(key).value();
}

// Builds a log the way the append path does: positions from 1, each row
// linked to the one before and signed.
class Log {
 public:
  explicit Log(const AuditKey& key) : key_(key) {}

  AuditEvent& Add(const std::string& action = "crl.regenerate") {
    AuditEvent e;
    e.id = ++next_id_;
    e.seq = static_cast<int64_t>(keyed_) + unkeyed_ + 1;
    e.occurred_at = TimePoint(std::chrono::microseconds(1'790'000'000'000'000 + e.id));
    e.actor = "alice";
    e.host = "host-a";
    e.action = action;
    e.target = "iss-local";
    e.parameters_json = R"({"issuer": "iss-local"})";
    e.duration_ms = 7;
    e.prev_hash = rows.empty() ? "" : rows.back().hash;
    e.key_id = key_.id();
    Sign(e);
    ++keyed_;
    rows.push_back(e);
    return rows.back();
  }
  // A row as schema 1's trigger wrote it.
  AuditEvent& AddUnkeyed() {
    AuditEvent e;
    e.id = ++next_id_;
    e.chain_version = kUnkeyedChain;
    e.occurred_at = TimePoint(std::chrono::microseconds(1'700'000'000'000'000 + e.id));
    e.actor = "bob";
    e.host = "host-b";
    e.action = "db.migrate";
    e.prev_hash = rows.empty() ? "" : rows.back().hash;
    e.hash = UnkeyedDigest(e);
    ++unkeyed_;
    rows.push_back(e);
    return rows.back();
  }
  void Sign(AuditEvent& e) { e.hash = *KeyedDigest(key_, e); }
  void SkipId() { ++next_id_; }  // a rolled-back append
  AuditEvent& Row(int64_t id) {
    for (auto& r : rows)
      if (r.id == id) return r;
    ADD_FAILURE() << "no row " << id;
    return rows.front();
  }
  void Erase(int64_t id) {
    std::erase_if(rows, [id](const AuditEvent& r) { return r.id == id; });
  }
  AnchorHead Anchor() const {
    const auto& h = rows.back();
    return {*h.seq, h.id, h.hash, h.occurred_at};
  }
  std::vector<AuditEvent> rows;

 private:
  const AuditKey& key_;
  int64_t next_id_ = 0;
  int keyed_ = 0, unkeyed_ = 0;
};

ChainReport Walk(const AuditKey& key, const std::vector<AuditEvent>& rows,
                 std::vector<NamedAnchor> anchors = {}) {
  ChainVerifier verifier(key, std::move(anchors));
  for (const auto& r : rows) EXPECT_TRUE(verifier.Add(r).ok());
  return verifier.Finish();
}

// "kind@id" for each break, in order: what the tests compare.
std::string Kinds(const ChainReport& report) {
  std::string out;
  for (const auto& b : report.breaks) {
    out += (out.empty() ? "" : " ") + b.kind + "@" + std::to_string(b.id);
    if (b.count != 1) out += "x" + std::to_string(b.count);
    if (b.acknowledged_by) out += "(ack)";
  }
  return out;
}

class ChainVerifierTest : public ::testing::Test {
 protected:
  AuditKey key_ = Key();
  Log log_{key_};
  void Build(int n) {
    for (int i = 0; i < n; ++i) log_.Add();
  }
};

TEST_F(ChainVerifierTest, AnIntactLogHasNoBreaks) {
  Build(5);
  auto report = Walk(key_, log_.rows);
  EXPECT_TRUE(report.intact());
  EXPECT_EQ(Kinds(report), "");
  EXPECT_EQ(report.rows, 5);
  EXPECT_EQ(report.keyed_rows, 5);
  EXPECT_EQ(report.rows_with_key, 5);
  ASSERT_TRUE(report.head.has_value());
  EXPECT_EQ(report.head->seq, 5);
  EXPECT_EQ(report.head->hash, log_.rows.back().hash);
}

TEST_F(ChainVerifierTest, AnEditedRowIsModified) {
  Build(5);
  log_.Row(3).actor = "mallory";  // hash left as it was
  auto report = Walk(key_, log_.rows);
  EXPECT_FALSE(report.intact());
  EXPECT_EQ(Kinds(report), "modified@3");
}

TEST_F(ChainVerifierTest, RecomputedHashesDoNotHideAnEdit) {
  Build(5);
  // Without the key an attacker can only re-link with some other digest:
  // the unkeyed one, or an HMAC under a key of their own naming ours.
  log_.Row(3).actor = "mallory";
  AuditKey theirs = Key(std::string(64, 'm'));
  std::string prev = log_.Row(2).hash;
  for (int64_t id = 3; id <= 5; ++id) {
    auto& r = log_.Row(id);
    r.prev_hash = prev;
    r.hash = id == 4 ? UnkeyedDigest(r) : *KeyedDigest(theirs, r);
    prev = r.hash;
  }
  auto report = Walk(key_, log_.rows);
  EXPECT_EQ(Kinds(report), "modified@3 modified@4 modified@5");
}

TEST_F(ChainVerifierTest, DeletedRowsAreMissing) {
  Build(8);
  log_.Erase(3);
  log_.Erase(6);
  log_.Erase(7);
  auto report = Walk(key_, log_.rows);
  EXPECT_EQ(Kinds(report), "missing@4 missing@8x2");
  EXPECT_NE(report.breaks[1].message.find("positions 6 to 7"), std::string::npos)
      << report.breaks[1].message;
}

TEST_F(ChainVerifierTest, ARowInsertedBetweenLinkedRowsIsInserted) {
  Build(2);
  log_.SkipId();
  Build(2);
  AuditEvent forged = log_.Row(2);
  forged.id = 3;
  forged.action = "certificate.revoke";
  log_.rows.insert(log_.rows.begin() + 2, forged);
  auto report = Walk(key_, log_.rows);
  EXPECT_EQ(Kinds(report), "inserted@3");
}

TEST_F(ChainVerifierTest, TruncationShowsOnlyThroughAnAnchor) {
  Build(6);
  AnchorHead anchor = log_.Anchor();
  log_.Erase(6);
  log_.Erase(5);
  // What the log alone cannot tell: a shorter chain is valid in itself.
  EXPECT_TRUE(Walk(key_, log_.rows).intact());
  auto report = Walk(key_, log_.rows, {{"host-a.anchor", anchor}});
  EXPECT_EQ(Kinds(report), "truncated@0x2");
  EXPECT_NE(report.breaks[0].message.find("host-a.anchor"), std::string::npos);
}

TEST_F(ChainVerifierTest, ARewrittenAnchoredRowIsReported) {
  Build(4);
  AnchorHead anchor = log_.Anchor();
  anchor.hash[0] ^= 1;
  auto report = Walk(key_, log_.rows, {{"a", anchor}});
  EXPECT_EQ(Kinds(report), "anchor@4");
  AnchorHead gone{9, 9, std::string(32, 'x'), {}};
  EXPECT_EQ(Kinds(Walk(key_, log_.rows, {{"a", log_.Anchor()}, {"b", gone}})),
            "truncated@0x5");
}

TEST_F(ChainVerifierTest, RowsOfAnotherKeyAndUnkeyedRowsAfterTheKeyAreBreaks) {
  Build(3);
  AuditKey other = Key(std::string(64, 'o'));
  log_.Row(2).key_id = other.id();
  log_.Row(2).hash = *KeyedDigest(other, log_.Row(2));
  AuditEvent& unkeyed = log_.AddUnkeyed();
  unkeyed.hash = UnkeyedDigest(unkeyed);
  Build(1);
  auto report = Walk(key_, log_.rows);
  EXPECT_EQ(Kinds(report), "other_key@2 unkeyed@4");
  EXPECT_EQ(report.other_keys.at(other.id()), 1);
}

TEST_F(ChainVerifierTest, TheKeyedChainSealsTheUnkeyedHistory) {
  for (int i = 0; i < 3; ++i) log_.AddUnkeyed();
  Build(2);
  auto intact = Walk(key_, log_.rows);
  EXPECT_TRUE(intact.intact()) << Kinds(intact);
  EXPECT_EQ(intact.unkeyed_rows, 3);
  EXPECT_EQ(log_.Row(4).seq, 4);

  // Changed without re-hashing: the unkeyed digest shows it.
  auto edited = log_.rows;
  edited[1].actor = "mallory";
  EXPECT_EQ(Kinds(Walk(key_, edited)), "unkeyed_modified@2");
  // Changed and re-hashed to the end of the unkeyed rows: the seal shows it.
  edited[1].hash = UnkeyedDigest(edited[1]);
  edited[2].prev_hash = edited[1].hash;
  edited[2].hash = UnkeyedDigest(edited[2]);
  EXPECT_EQ(Kinds(Walk(key_, edited)), "sealed@4");
  // An unkeyed row deleted.
  auto shorter = log_.rows;
  shorter.erase(shorter.begin() + 1);
  EXPECT_EQ(Kinds(Walk(key_, shorter)), "unkeyed_relinked@3 missing@4");
}

TEST_F(ChainVerifierTest, AVerifyingRowThatDoesNotFollowIsAFork) {
  Build(3);
  AuditEvent twin = log_.Row(3);  // a second row 3, as a restored database would write
  twin.id = 4;
  twin.action = "ocsp.reset_responder";
  log_.Sign(twin);
  log_.rows.push_back(twin);
  EXPECT_EQ(Kinds(Walk(key_, log_.rows)), "forked@4");
}

TEST_F(ChainVerifierTest, EveryBreakIsReportedNotOnlyTheFirst) {
  Build(10);
  log_.Row(2).detail = "nothing to see";
  log_.Erase(5);
  AuditEvent forged = log_.Row(8);
  forged.id = 11;
  forged.seq = 11;
  forged.prev_hash = log_.rows.back().hash;
  forged.hash = std::string(32, 'f');
  log_.rows.push_back(forged);
  AnchorHead anchor = log_.Anchor();
  anchor.id = 12;
  anchor.seq = 12;
  auto report = Walk(key_, log_.rows, {{"a", anchor}});
  EXPECT_EQ(Kinds(report), "modified@2 missing@6 modified@11 truncated@0");
  EXPECT_EQ(report.unacknowledged(), 4);
}

TEST_F(ChainVerifierTest, AnAcknowledgementCoversTheBreaksItListsBeforeIt) {
  Build(5);
  log_.Row(2).actor = "mallory";
  log_.Erase(4);
  auto broken = Walk(key_, log_.rows);
  ASSERT_EQ(Kinds(broken), "modified@2 missing@5");
  AuditEvent& ack = log_.Add(kAcknowledgeAction);
  ack.parameters_json =
      nlohmann::json{{"reason", "restored after incident 7"},
                     {"acknowledged", {broken.breaks[0].key, broken.breaks[1].key}}}
          .dump();
  log_.Sign(ack);
  int64_t ack_id = ack.id;
  Build(1);
  auto report = Walk(key_, log_.rows);
  EXPECT_TRUE(report.intact()) << Kinds(report);
  EXPECT_EQ(Kinds(report), "modified@2(ack) missing@5(ack)");
  EXPECT_EQ(report.breaks[0].acknowledged_by, ack_id);
  EXPECT_EQ(report.breaks[0].acknowledged_reason, "restored after incident 7");

  // The same row changed again is a new break; so is any other.
  auto again = log_.rows;
  again[1].actor = "mallory2";
  again[1].hash = std::string(32, 'z');
  EXPECT_EQ(Kinds(Walk(key_, again)), "modified@2 missing@5(ack)");
  again = log_.rows;
  again[2].target = "elsewhere";
  EXPECT_EQ(Kinds(Walk(key_, again)), "modified@2(ack) modified@3 missing@5(ack)");
}

TEST_F(ChainVerifierTest, AnAcknowledgementThatDoesNotVerifyCountsForNothing) {
  Build(3);
  log_.Row(2).actor = "mallory";
  std::string key = Walk(key_, log_.rows).breaks.at(0).key;
  AuditEvent& ack = log_.Add(kAcknowledgeAction);
  ack.parameters_json = nlohmann::json{{"acknowledged", {key}}}.dump();  // not re-signed
  auto report = Walk(key_, log_.rows);
  EXPECT_EQ(Kinds(report), "modified@2 modified@4");
}

TEST_F(ChainVerifierTest, ListsAtMostTheCapAndCountsTheRest) {
  for (size_t i = 0; i < kMaxListedBreaks + 5; ++i) log_.Add().actor = "mallory";
  auto report = Walk(key_, log_.rows);
  EXPECT_EQ(report.breaks.size(), kMaxListedBreaks);
  EXPECT_EQ(report.unlisted_breaks, 5);
  EXPECT_EQ(report.unacknowledged(), static_cast<int64_t>(kMaxListedBreaks) + 5);
}

TEST(AuditChainTest, TheKeyedMessageFramesEveryField) {
  AuditEvent a, b;
  a.seq = b.seq = 1;
  a.actor = "ab";
  a.host = "c";
  b.actor = "a";
  b.host = "bc";
  EXPECT_NE(KeyedMessage(a), KeyedMessage(b));
  b = a;
  b.duration_ms = 0;  // present and zero is not absent
  EXPECT_NE(KeyedMessage(a), KeyedMessage(b));
}

TEST(AuditKeyTest, DerivesAStableKeyAndIdAndRefusesShortSecrets) {
  AuditKey a = Key(std::string(40, 'a')), a2 = Key(std::string(40, 'a'));
  AuditKey b = Key(std::string(40, 'b'));
  EXPECT_EQ(a.id().size(), 16u);
  EXPECT_EQ(a.id(), a2.id());
  EXPECT_NE(a.id(), b.id());
  EXPECT_EQ(*a.Mac("m"), *a2.Mac("m"));
  EXPECT_NE(*a.Mac("m"), *b.Mac("m"));
  EXPECT_EQ(a.Mac("m")->size(), 32u);
  EXPECT_EQ(AuditKey::Derive(std::string(31, 'a')).status().code(),
            StatusCode::kInvalidArgument);
  Config none;
  auto missing = AuditKey::FromConfig(none);
  EXPECT_EQ(missing.status().code(), StatusCode::kConfiguration);
  EXPECT_NE(missing.status().message().find("CERTCTL_AUDIT_KEY"), std::string::npos);
}

}  // namespace
}  // namespace certctl::audit
