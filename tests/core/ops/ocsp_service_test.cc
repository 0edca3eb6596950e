// OcspService: answers checked with the openssl CLI, caches, the revoke/sign
// race, the database outage and invalidation.
#include <sys/stat.h>

#include <filesystem>
#include <pqxx/pqxx>
#include <thread>

#include "certctl/pki/ca.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/ocsp.h"
#include "certctl/util/identifiers.h"
#include "certctl/util/time_format.h"
#include "ops/ocsp_service_testing.h"
#include "ops/ocsp_test_helpers.h"
#include "store/invalidation.h"
#include "store/ocsp_repo.h"
#include "support/eventually.h"

namespace certctl {
namespace {

using testing::CliCheck;
using testing::CliRequest;
using testing::Sql;

class OcspServiceTest : public testing::OcspFixture {};

bool Has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

TEST_F(OcspServiceTest, GoodRevokedAndUnknownVerifyWithTheOpensslCli) {
  auto service = NewService();
  auto leaf = Issue("good.example");
  auto answer = Ask(*service, leaf.serial);
  EXPECT_EQ(answer.response_status, 0);
  EXPECT_EQ(answer.cert_status, "good");
  std::string text = Check(answer);
  EXPECT_TRUE(Has(text, "Response verify OK")) << text;
  EXPECT_TRUE(Has(text, ": good")) << text;
  EXPECT_TRUE(Has(text, "This Update:") && Has(text, "Next Update:")) << text;
  // The responder certificate is in the response.
  EXPECT_TRUE(Has(text, "iss-local OCSP Responder g1")) << text;
  ASSERT_TRUE(answer.this_update && answer.next_update);
  EXPECT_EQ(*answer.next_update - *answer.this_update, config_.ocsp_response_validity);

  Revoke(leaf.serial, "keyCompromise");
  service->Invalidate({"ocsp", kLocalIssuerId, leaf.serial});
  answer = Ask(*service, leaf.serial);
  EXPECT_EQ(answer.cert_status, "revoked");
  text = Check(answer);
  EXPECT_TRUE(Has(text, "Response verify OK")) << text;
  EXPECT_TRUE(Has(text, ": revoked")) << text;
  EXPECT_TRUE(Has(text, "Reason: keyCompromise")) << text;
  EXPECT_TRUE(Has(text, "Revocation Time:")) << text;

  // A serial this issuer never issued is unknown, never good.
  answer = Ask(*service, "0123456789abcdef");
  EXPECT_EQ(answer.cert_status, "unknown");
  text = Check(answer);
  EXPECT_TRUE(Has(text, "Response verify OK")) << text;
  EXPECT_TRUE(Has(text, ": unknown")) << text;
}

// The attack of issue 8: "iss-local\0x" reached PostgreSQL as "iss-local"
// (libpq cuts text at a NUL) while the memory cache keyed it apart, so a
// revocation invalidated one and not the other and "good" was served on.
TEST_F(OcspServiceTest, NonCanonicalIssuerIdsNeverReachTheCachesOrTheDatabase) {
  using namespace std::string_literals;
  auto service = NewService();
  auto leaf = Issue("nul.example");
  std::string request = CliRequest(*work_, ca_cert_path_, {leaf.serial});
  for (const std::string& issuer :
       {"iss-local\0x"s, "iss-local\0"s, "iss-local\n"s, "ISS-LOCAL"s, "iss-local\xff"s,
        ""s, std::string(64, 'a')}) {
    auto answer = service->Respond(issuer, request);
    EXPECT_EQ(answer.response_status, 6) << Printable(issuer);
    EXPECT_EQ(answer.cert_status, "");
    auto by_serial = service->RespondForSerial(issuer, leaf.serial);
    ASSERT_TRUE(by_serial.ok());
    EXPECT_EQ(by_serial->response_status, 6);
  }
  EXPECT_EQ(service->MemoryEntries(), 0u);
  EXPECT_EQ(Sql(url_, "SELECT count(*) FROM ocsp_response_cache"), "0");

  // The canonical id still answers, and a revocation is seen at once.
  EXPECT_EQ(Ask(*service, leaf.serial).cert_status, "good");
  Revoke(leaf.serial, "keyCompromise");
  service->Invalidate({"ocsp", kLocalIssuerId, leaf.serial});
  EXPECT_EQ(service->Respond("iss-local\0x"s, request).response_status, 6);
  EXPECT_EQ(Ask(*service, leaf.serial).cert_status, "revoked");
}

TEST_F(OcspServiceTest, Sha256CertIdsAreAnsweredAndCachedSeparately) {
  auto service = NewService();
  auto leaf = Issue();
  auto sha1 = Ask(*service, leaf.serial);
  std::string sha1_request = last_request_;
  auto sha256 = Ask(*service, leaf.serial, {"-sha256", "-no_nonce"});
  std::string text = Check(sha256);
  EXPECT_TRUE(Has(text, "Response verify OK")) << text;
  EXPECT_TRUE(Has(text, ": good")) << text;
  EXPECT_EQ(Sql(url_,
                "SELECT string_agg(cert_id_hash, ',' ORDER BY cert_id_hash) FROM "
                "ocsp_response_cache"),
            "sha1,sha256");
  // Each cached answer carries the CertID its client sent.
  auto again = service->Respond(kLocalIssuerId, sha1_request);
  EXPECT_TRUE(again.cache_hit);
  EXPECT_TRUE(Has(CliCheck(*work_, ca_cert_path_, sha1_request, again.der), ": good"));
  EXPECT_NE(again.der, sha256.der);
}

TEST_F(OcspServiceTest, NonceIsEchoedInResponseExtensionsAndBypassesEveryCache) {
  auto service = NewService();
  auto leaf = Issue();
  auto first = Ask(*service, leaf.serial, {"-nonce"});
  EXPECT_TRUE(first.nonce);
  EXPECT_FALSE(first.cache_hit);
  std::string text = Check(first);
  EXPECT_TRUE(Has(text, "Response verify OK")) << text;
  EXPECT_FALSE(Has(text, "WARNING: no nonce in response")) << text;
  // In responseExtensions ("Response Extensions:" in -resp_text), not in the
  // single response's extensions ("Response Single Extensions:").
  size_t extensions = text.find("Response Extensions:");
  size_t nonce = text.find("OCSP Nonce");
  ASSERT_NE(extensions, std::string::npos) << text;
  ASSERT_NE(nonce, std::string::npos) << text;
  EXPECT_GT(nonce, extensions) << text;
  EXPECT_EQ(text.find("Single Extensions"), std::string::npos) << text;
  auto parsed = ParseOcspResponse(first.der);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->nonce.has_value());
  EXPECT_EQ(OCSP_SINGLERESP_get_ext_count(OCSP_resp_get0(parsed->basic.get(), 0)), 0);
  auto second = Ask(*service, leaf.serial, {"-nonce"});
  EXPECT_FALSE(second.cache_hit);
  EXPECT_EQ(service->MemoryEntries(), 0u);
  EXPECT_EQ(Count("ocsp_response_cache"), 0);
}

TEST_F(OcspServiceTest, EveryRequestInOneOcspRequestIsAnswered) {
  auto service = NewService();
  auto a = Issue("a.example");
  auto b = Issue("b.example");
  Revoke(b.serial, "superseded");
  std::string req = CliRequest(*work_, ca_cert_path_, {a.serial, b.serial, "7777"});
  auto answer = service->Respond(kLocalIssuerId, req);
  EXPECT_EQ(answer.cert_status, "mixed");
  auto parsed = ParseOcspResponse(answer.der);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->singles.size(), 3u);
  EXPECT_EQ(parsed->singles[0].status, OcspCertStatus::kGood);
  EXPECT_EQ(parsed->singles[1].status, OcspCertStatus::kRevoked);
  EXPECT_EQ(parsed->singles[2].status, OcspCertStatus::kUnknown);
  std::string text = CliCheck(*work_, ca_cert_path_, req, answer.der);
  EXPECT_TRUE(Has(text, "Response verify OK")) << text;
  EXPECT_TRUE(Has(text, "Reason: superseded")) << text;
  EXPECT_EQ(Count("ocsp_response_cache"), 0);  // multi-CertID answers are not cached
}

TEST_F(OcspServiceTest, ForeignCertIdsAreUnknownOrUnauthorized) {
  auto service = NewService();
  auto leaf = Issue();
  auto other = CreateSelfSignedCa({.common_name = "Someone Else CA"},
                                  SystemClock::Instance().Now());
  ASSERT_TRUE(other.ok());
  auto serial = Serial::Parse(leaf.serial);
  ASSERT_TRUE(serial.ok());
  auto foreign = MakeOcspRequestDer(other->cert.get(), {*serial});
  ASSERT_TRUE(foreign.ok());
  auto answer = service->Respond(kLocalIssuerId, *foreign);
  EXPECT_EQ(answer.response_status, 6);
  auto parsed = ParseOcspResponse(answer.der);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->response_status, 6);

  // One of ours and one foreign in the same request: ours is answered, the
  // foreign one is unknown.
  UniquePtr<OCSP_REQUEST> req(OCSP_REQUEST_new());
  auto ca = LoadCertificateFile(ca_cert_path_);
  ASSERT_TRUE(ca.ok());
  auto asn1 = serial->ToAsn1();
  ASSERT_TRUE(asn1.ok());
  OCSP_request_add0_id(req.get(),
                       OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(ca->get()),
                                        X509_get0_pubkey_bitstr(ca->get()), asn1->get()));
  OCSP_request_add0_id(
      req.get(),
      OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(other->cert.get()),
                       X509_get0_pubkey_bitstr(other->cert.get()), asn1->get()));
  unsigned char* buf = nullptr;
  int len = i2d_OCSP_REQUEST(req.get(), &buf);
  std::string mixed(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
  OPENSSL_free(buf);
  answer = service->Respond(kLocalIssuerId, mixed);
  EXPECT_EQ(answer.response_status, 0);
  parsed = ParseOcspResponse(answer.der);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->singles.size(), 2u);
  EXPECT_EQ(parsed->singles[0].status, OcspCertStatus::kGood);
  EXPECT_EQ(parsed->singles[1].status, OcspCertStatus::kUnknown);

  // An issuer that does not exist.
  EXPECT_EQ(
      service->Respond("iss-nowhere", CliRequest(*work_, ca_cert_path_, {leaf.serial}))
          .response_status,
      6);
}

TEST_F(OcspServiceTest, MalformedRequestsGetMalformedRequestNotAnError) {
  auto service = NewService();
  auto leaf = Issue();
  std::string good = CliRequest(*work_, ca_cert_path_, {leaf.serial});
  auto ca = LoadCertificateFile(ca_cert_path_);
  ASSERT_TRUE(ca.ok());
  auto serial = Serial::Parse(leaf.serial);
  auto too_long_nonce =
      MakeOcspRequestDer(ca->get(), {*serial}, nullptr, std::string(129, 'n'));
  ASSERT_TRUE(too_long_nonce.ok());
  std::vector<std::string> bad = {"",
                                  "garbage",
                                  std::string("\x30\x03\x02\x01\x00", 5),
                                  good + "x",
                                  good.substr(0, good.size() / 2),
                                  *too_long_nonce};
  for (const auto& der : bad) {
    auto answer = service->Respond(kLocalIssuerId, der);
    EXPECT_EQ(answer.response_status, 1);
    auto parsed = ParseOcspResponse(answer.der);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed->response_status, 1);
  }
  // The longest nonce accepted is 128 octets (RFC 9654).
  auto max_nonce =
      MakeOcspRequestDer(ca->get(), {*serial}, nullptr, std::string(128, 'n'));
  auto answer = service->Respond(kLocalIssuerId, *max_nonce);
  EXPECT_EQ(answer.response_status, 0);
  EXPECT_TRUE(answer.nonce);
  auto parsed = ParseOcspResponse(answer.der);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->nonce, std::string(128, 'n'));
  // Nothing was cached or changed by the bad requests.
  EXPECT_EQ(Count("ocsp_response_cache"), 0);
}

TEST_F(OcspServiceTest, DeletedResponderRowAndKeyAreBootstrappedOnTheNextRequest) {
  auto service = NewService();
  auto leaf = Issue();
  EXPECT_EQ(Count("ocsp_responder_certs"), 0);
  auto answer = Ask(*service, leaf.serial);
  EXPECT_TRUE(Has(Check(answer), "Response verify OK"));
  std::string first_serial = Sql(url_, "SELECT serial_number FROM ocsp_responder_certs");
  ASSERT_FALSE(first_serial.empty());
  auto mode = FileMode(KeyPath());
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ(*mode, 0600u);
  EXPECT_EQ(*FileMode(config_.ocsp_responder_key_dir), 0700u);

  // The runbook's recovery: delete the row and the key file, send a request.
  std::string first_key = KeyPath();
  Sql(url_, "DELETE FROM ocsp_responder_certs WHERE issuer_id = 'iss-local'");
  std::filesystem::remove(first_key);
  Sql(url_, "DELETE FROM ocsp_response_cache");
  auto other = Issue("other.example");
  answer = Ask(*service, other.serial);
  std::string text = Check(answer);
  EXPECT_TRUE(Has(text, "Response verify OK")) << text;
  EXPECT_TRUE(Has(text, ": good")) << text;
  std::string second_serial = Sql(url_, "SELECT serial_number FROM ocsp_responder_certs");
  EXPECT_FALSE(second_serial.empty());
  EXPECT_NE(second_serial, first_serial);
  EXPECT_TRUE(std::filesystem::exists(KeyPath()));
  EXPECT_EQ(*FileMode(KeyPath()), 0600u);
  // History kept both, the vanished one marked replaced.
  EXPECT_EQ(Count("ocsp_responder_cert_history"), 2);
  EXPECT_EQ(Sql(url_,
                "SELECT replaced_reason FROM ocsp_responder_cert_history WHERE "
                "serial_number = '" +
                    first_serial + "'"),
            "no responder certificate row");
}

TEST_F(OcspServiceTest, AnswersAreCachedInMemoryAndInTheDatabase) {
  auto service = NewService();
  auto leaf = Issue();
  auto first = Ask(*service, leaf.serial);
  EXPECT_FALSE(first.cache_hit);
  EXPECT_EQ(Count("ocsp_response_cache"), 1);
  EXPECT_EQ(service->MemoryEntries(), 1u);
  auto second = service->Respond(kLocalIssuerId, last_request_);
  EXPECT_TRUE(second.cache_hit);
  EXPECT_TRUE(second.from_memory);
  EXPECT_EQ(second.der, first.der);
  // Another replica (fresh memory) is served from ocsp_response_cache.
  auto replica = NewService();
  auto third = replica->Respond(kLocalIssuerId, last_request_);
  EXPECT_TRUE(third.cache_hit);
  EXPECT_FALSE(third.from_memory);
  EXPECT_EQ(third.der, first.der);
  // The runbook: the deleted row rebuilds with the next answer.
  Sql(url_, "DELETE FROM ocsp_response_cache");
  auto fourth = NewService()->Respond(kLocalIssuerId, last_request_);
  EXPECT_FALSE(fourth.cache_hit);
  EXPECT_TRUE(Has(Check(fourth), ": good"));
  EXPECT_EQ(Count("ocsp_response_cache"), 1);
}

TEST_F(OcspServiceTest, MemoryIsBounded) {
  auto service = NewService(2);
  for (int i = 0; i < 4; ++i)
    Ask(*service, Issue("n" + std::to_string(i) + ".example").serial);
  EXPECT_EQ(service->MemoryEntries(), 2u);
  EXPECT_EQ(Count("ocsp_response_cache"), 4);
}

TEST_F(OcspServiceTest, CorruptOrStaleDatabaseRowsAreNotServed) {
  auto service = NewService();
  auto leaf = Issue();
  Ask(*service, leaf.serial);
  // Garbage bytes in the row: signed afresh and written back.
  Sql(url_, "UPDATE ocsp_response_cache SET response_der = '\\x3000'");
  auto answer = NewService()->Respond(kLocalIssuerId, last_request_);
  EXPECT_FALSE(answer.cache_hit);
  EXPECT_TRUE(Has(Check(answer), "Response verify OK"));
  EXPECT_NE(Sql(url_, "SELECT length(response_der) FROM ocsp_response_cache"), "2");
  // A "good" row left behind a revocation is not served either.
  std::string good_row =
      Sql(url_, "SELECT encode(response_der, 'hex') FROM ocsp_response_cache");
  Revoke(leaf.serial);
  Sql(url_,
      "INSERT INTO ocsp_response_cache (issuer_id, serial, cert_id_hash, generation, "
      "cert_status, response_der, this_update, next_update, responder_serial, "
      "revocation_epoch) SELECT 'iss-local', '" +
          leaf.serial +
          "', 'sha1', 1, 0, "
          "decode('" +
          good_row +
          "', 'hex'), now(), now() + interval '4 days', "
          "serial_number, 0 FROM ocsp_responder_certs");
  answer = NewService()->Respond(kLocalIssuerId, last_request_);
  EXPECT_EQ(answer.cert_status, "revoked");
  EXPECT_TRUE(Has(Check(answer), ": revoked"));
}

TEST_F(OcspServiceTest, AnswersPastHalfTheirValidityAreResigned) {
  FakeClock clock(SystemClock::Instance().Now());
  ops::OpContext ctx = Context();
  ops::OpContext timed{ctx.db, ctx.config, clock, ctx.logger, ctx.keyring, ctx.actor};
  ops::OcspService service(timed);
  auto leaf = Issue();
  auto first = Ask(service, leaf.serial);
  clock.Advance(config_.ocsp_response_validity / 2 - std::chrono::minutes(1));
  auto cached = service.Respond(kLocalIssuerId, last_request_);
  EXPECT_TRUE(cached.from_memory);
  EXPECT_EQ(cached.this_update, first.this_update);
  clock.Advance(std::chrono::minutes(2));
  auto fresh = service.Respond(kLocalIssuerId, last_request_);
  EXPECT_FALSE(fresh.cache_hit);
  ASSERT_TRUE(fresh.this_update && first.this_update);
  EXPECT_GT(*fresh.this_update, *first.this_update);
  // The database row was replaced too.
  EXPECT_EQ(Sql(url_,
                "SELECT floor(extract(epoch from this_update))::bigint FROM "
                "ocsp_response_cache"),
            std::to_string(ToUnixSeconds(*fresh.this_update)));
}

// Restarts the harness cluster even when an assertion fails.
struct ClusterRestart {
  ~ClusterRestart() {
    Status s = testing::TestCluster::Get().Start();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
};

TEST_F(OcspServiceTest, ServesFromMemoryWhilePostgresIsDownAndTryLaterOnAMiss) {
  FakeClock clock(SystemClock::Instance().Now());
  ops::OpContext ctx = Context();
  ops::OpContext timed{ctx.db, ctx.config, clock, ctx.logger, ctx.keyring, ctx.actor};
  ops::OcspService service(timed);
  auto held = Issue("held.example");
  auto missed = Issue("missed.example");
  auto first = Ask(service, held.serial);
  std::string held_request = last_request_;
  std::string missed_request = CliRequest(*work_, ca_cert_path_, {missed.serial});
  // Past half its validity: would be re-signed if the database were there.
  clock.Advance(config_.ocsp_response_validity * 3 / 4);
  // The harness runs with synchronous_commit off: make the setup durable
  // before the immediate stop.
  Sql(url_, "CHECKPOINT");
  {
    ClusterRestart restart;
    ASSERT_TRUE(testing::TestCluster::Get().Stop().ok());
    auto answer = service.Respond(kLocalIssuerId, held_request);
    EXPECT_EQ(answer.response_status, 0);
    EXPECT_TRUE(answer.from_memory);
    EXPECT_EQ(answer.der, first.der);
    auto by_serial = service.RespondForSerial(kLocalIssuerId, held.serial);
    ASSERT_TRUE(by_serial.ok());
    EXPECT_TRUE(by_serial->from_memory);
    auto miss = service.Respond(kLocalIssuerId, missed_request);
    EXPECT_EQ(miss.response_status, 3);
    auto parsed = ParseOcspResponse(miss.der);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed->response_status, 3);
    // Past nextUpdate nothing is served from memory.
    clock.Advance(config_.ocsp_response_validity / 2);
    EXPECT_EQ(service.Respond(kLocalIssuerId, held_request).response_status, 3);
  }
  // Back again: answers are signed live (the pool first sheds the connections
  // the restart broke).
  for (int i = 0; i < 8 && !db().Ping().ok(); ++i) {
  }
  auto again = service.Respond(kLocalIssuerId, missed_request);
  EXPECT_EQ(again.response_status, 0);
  EXPECT_EQ(again.cert_status, "good");
}

TEST_F(OcspServiceTest, RevocationRacingALiveSigningNeverLeavesGoodCached) {
  auto service = NewService();
  auto leaf = Issue();
  int calls = 0;
  ops::OcspServiceTestPeer::SetBeforeWriteBackHook(*service, [&](const std::string&,
                                                                 const std::string&
                                                                     serial) {
    if (++calls > 1) return;
    ASSERT_EQ(serial, leaf.serial);
    // The revocation lands after the "good" answer was signed and before it
    // is written back.
    auto ctx = Context();
    auto revoked = ops::RevokeCertificate(ctx, {kLocalIssuerId, serial, "keyCompromise"});
    ASSERT_TRUE(revoked.ok()) << revoked.status().ToString();
    service->Invalidate({"ocsp", kLocalIssuerId, serial});
  });
  auto racing = Ask(*service, leaf.serial);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(racing.cert_status, "good");  // true when it was read
  EXPECT_EQ(Count("ocsp_response_cache"), 0);
  EXPECT_EQ(service->MemoryEntries(), 0u);
  auto next = service->Respond(kLocalIssuerId, last_request_);
  EXPECT_EQ(next.cert_status, "revoked");
  EXPECT_FALSE(next.cache_hit);
  EXPECT_TRUE(Has(Check(next), ": revoked"));
  EXPECT_EQ(Sql(url_, "SELECT cert_status FROM ocsp_response_cache"), "1");
}

// The write-back's epoch check when the revocation has bumped the epoch but
// not committed yet: the write waits for the issuer row, re-reads the epoch
// and writes nothing.
TEST_F(OcspServiceTest, WriteBackWaitsForAnUncommittedRevocation) {
  auto service = NewService();
  auto leaf = Issue();
  Ask(*service, leaf.serial);
  auto row = db().Query<std::optional<OcspCacheRecord>>([&](Transaction& tx) {
    return OcspCacheRepo::Find(tx, kLocalIssuerId, leaf.serial, "sha1");
  });
  ASSERT_TRUE(row.ok() && row->has_value());
  Sql(url_, "DELETE FROM ocsp_response_cache");

  pqxx::connection revoker(url_);
  pqxx::work revocation(revoker);
  revocation.exec(
      "UPDATE issuers SET revocation_epoch = revocation_epoch + 1 WHERE id = "
      "'iss-local'");
  Result<bool> written = Status::Internal("not run");
  std::thread writer([&] {
    written = db().Query<bool>(
        [&](Transaction& tx) { return OcspCacheRepo::PutIfEpochUnchanged(tx, **row); });
  });
  // Wait until the writer is blocked on the issuer row.
  EXPECT_TRUE(testing::Eventually([&] {
    return Sql(url_, "SELECT count(*) FROM pg_locks WHERE NOT granted") != "0";
  }));
  revocation.exec("DELETE FROM ocsp_response_cache WHERE issuer_id = 'iss-local'");
  revocation.commit();
  writer.join();
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_FALSE(*written);
  EXPECT_EQ(Count("ocsp_response_cache"), 0);

  // With the epoch unchanged the same write goes through.
  (*row)->revocation_epoch += 1;
  written = db().Query<bool>(
      [&](Transaction& tx) { return OcspCacheRepo::PutIfEpochUnchanged(tx, **row); });
  ASSERT_TRUE(written.ok());
  EXPECT_TRUE(*written);
  EXPECT_EQ(Count("ocsp_response_cache"), 1);
}

TEST_F(OcspServiceTest, InvalidateDropsMemoryEntriesByScope) {
  auto service = NewService();
  auto a = Issue("a.example");
  auto b = Issue("b.example");
  Ask(*service, a.serial);
  Ask(*service, b.serial);
  ASSERT_EQ(service->MemoryEntries(), 2u);
  service->Invalidate({"crl", kLocalIssuerId, ""});
  EXPECT_EQ(service->MemoryEntries(), 2u);
  service->Invalidate({"ocsp", "iss-other", ""});
  EXPECT_EQ(service->MemoryEntries(), 2u);
  service->Invalidate({"ocsp", kLocalIssuerId, a.serial});
  EXPECT_EQ(service->MemoryEntries(), 1u);
  service->Invalidate({"all", "", ""});
  EXPECT_EQ(service->MemoryEntries(), 0u);
  Ask(*service, b.serial);
  service->Invalidate({"ocsp", kLocalIssuerId, ""});
  EXPECT_EQ(service->MemoryEntries(), 0u);
}

TEST_F(OcspServiceTest, RespondForSerialTakesAnySpelling) {
  auto service = NewService();
  auto leaf = Issue();
  std::string upper = leaf.serial;
  for (char& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto canonical = service->RespondForSerial(kLocalIssuerId, leaf.serial);
  auto spelled = service->RespondForSerial(kLocalIssuerId, "000" + upper);
  ASSERT_TRUE(canonical.ok() && spelled.ok());
  EXPECT_EQ(canonical->cert_status, "good");
  EXPECT_TRUE(spelled->from_memory);
  EXPECT_EQ(spelled->der, canonical->der);
  std::string request = CliRequest(*work_, ca_cert_path_, {leaf.serial});
  EXPECT_TRUE(Has(CliCheck(*work_, ca_cert_path_, request, spelled->der), ": good"));
  auto bad = service->RespondForSerial(kLocalIssuerId, "not-hex");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  auto never = service->RespondForSerial(kLocalIssuerId, "abcdef");
  ASSERT_TRUE(never.ok());
  EXPECT_EQ(never->cert_status, "unknown");
}

}  // namespace
}  // namespace certctl
