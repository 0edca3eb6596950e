// The verify step of `ca rotate`: the new generation checked the way a
// relying party meets it. A short-lived test certificate is issued (by the
// active generation, which must now be the new one), its chain verified, its
// OCSP answer checked (good, signed by the new generation's responder), then
// it is revoked, and the new generation's CRL and OCSP must say so.
#include "certctl/ops/certificate_ops.h"
#include "certctl/ops/crl_ops.h"
#include "certctl/ops/ocsp_ops.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/crl_reader.h"
#include "certctl/pki/ocsp.h"
#include "ops/ca_rotate_internal.h"

namespace certctl::ops::rotation {
namespace {

// The CA of the new generation and the issuers above it.
struct NewCa {
  UniquePtr<X509> cert;
  std::vector<UniquePtr<X509>> chain;
};

Result<NewCa> ReadNewCa(const RotationRecord& record) {
  NewCa ca;
  ASSIGN_OR_RETURN(ca.cert, ParseCertificatePem(record.new_cert_pem));
  if (!record.new_chain_pem.empty()) {
    ASSIGN_OR_RETURN(ca.chain, ParseCertificateBundlePem(record.new_chain_pem));
  }
  return ca;
}

// A fresh OCSP service's answer about `serial` (nothing cached in memory),
// checked as a relying party checks it: it verifies with the new CA, and
// says `want`. Returns the responder certificate's subject.
Result<std::string> CheckOcsp(OpContext& ctx, const std::string& issuer,
                              const std::string& serial, X509* ca,
                              const std::string& want) {
  OcspService service(ctx, 1);
  ASSIGN_OR_RETURN(auto answer, service.RespondForSerial(issuer, serial));
  if (answer.response_status != 0) {
    return Status::Internal("the OCSP answer for the test certificate has status " +
                            std::to_string(answer.response_status));
  }
  ASSIGN_OR_RETURN(auto parsed, ParseOcspResponse(answer.der));
  Status verified = VerifyOcspResponse(parsed, ca);
  if (!verified.ok()) {
    return verified.WithContext("the OCSP answer does not verify with the new CA");
  }
  if (answer.cert_status != want) {
    return Status::Internal("OCSP says " + answer.cert_status +
                            " for the test certificate, not " + want);
  }
  return parsed.signer ? SubjectOf(parsed.signer) : std::string("the CA");
}

// The new generation's CRL, signed now, lists `serial` and verifies.
Result<int64_t> CheckCrl(OpContext& ctx, const RotationRecord& record,
                         const std::string& serial, X509* ca) {
  OpContext inner = ctx;
  inner.dry_run = false;
  inner.lock_wait =
      std::max<std::chrono::milliseconds>(ctx.lock_wait, std::chrono::seconds(30));
  std::vector<CrlArtifact> artifacts;
  RegenerateOptions options;
  options.generation = record.to_generation;
  options.artifacts = &artifacts;
  OpReport sub;
  RETURN_IF_ERROR(
      RegenerateCrl(inner, record.issuer_id, CrlTrigger::kRotation, options, sub)
          .status());
  if (artifacts.empty()) return Status::Internal("no CRL was signed");
  const std::string& der = artifacts[0].der;
  ASSIGN_OR_RETURN(CrlView view, CrlView::Parse(der));
  RETURN_IF_ERROR(view.VerifySignature(ca).WithContext("the new generation's CRL"));
  bool listed = false;
  RETURN_IF_ERROR(view.ForEachEntry([&](const CrlEntry& e) {
    listed |= e.serial == serial;
    return Status::Ok();
  }));
  if (!listed) {
    return Status::Internal(
        "the new generation's CRL does not list the revoked test "
        "certificate " +
        serial);
  }
  return artifacts[0].crl_number;
}

}  // namespace

std::string TestSubjectCn(const RotationRecord& record) {
  return "certctl rotation check " + record.issuer_id + " g" +
         std::to_string(record.to_generation) + " r" + std::to_string(record.id);
}

Result<int> RevokeTestCertificates(OpContext& ctx, const RotationRecord& record) {
  ASSIGN_OR_RETURN(
      auto serials, ctx.db.Query<std::vector<std::string>>([&](Transaction& tx) {
        return RotationRepo::UnrevokedWithSubject(
            tx, record.issuer_id, record.to_generation, "CN=" + TestSubjectCn(record));
      }));
  for (const auto& serial : serials) {
    auto revoked = RevokeCertificate(ctx, {record.issuer_id, serial, "superseded"});
    if (!revoked.ok() && revoked.status().code() != StatusCode::kAlreadyExists) {
      return revoked.status().WithContext("revoke the test certificate " + serial);
    }
  }
  return static_cast<int>(serials.size());
}

Result<std::string> VerifyNewGeneration(OpContext& ctx, RotationRecord& record,
                                        OpReport& report) {
  ASSIGN_OR_RETURN(int leftovers, RevokeTestCertificates(ctx, record));
  if (leftovers > 0) {
    report.steps.push_back("revoked " + std::to_string(leftovers) +
                           " test certificate(s) an interrupted attempt left");
  }
  ASSIGN_OR_RETURN(NewCa ca, ReadNewCa(record));
  IssueParams p;
  p.issuer = record.issuer_id;
  p.generate_key = KeyAlgorithm::kEcdsaP256;
  p.common_name = TestSubjectCn(record);
  p.validity_days = 1;  // the shortest the profile allows; it is revoked at once
  ASSIGN_OR_RETURN(auto issued, IssueCertificate(ctx, p));
  RETURN_IF_ERROR(ctx.db.Run([&](Transaction& tx) {
    return RotationRepo::AddTestSerial(tx, record.id, issued.serial);
  }));
  record.test_serials.push_back(issued.serial);
  if (issued.generation != record.to_generation) {
    return Status::Internal("the test certificate was issued by generation " +
                            std::to_string(issued.generation) + ", not " +
                            std::to_string(record.to_generation));
  }
  ASSIGN_OR_RETURN(auto leaf, ParseCertificatePem(issued.certificate_pem));
  std::vector<X509*> issuers = {ca.cert.get()};
  for (const auto& c : ca.chain) issuers.push_back(c.get());
  RETURN_IF_ERROR(VerifyChain(leaf.get(), issuers, ctx.clock.Now())
                      .WithContext("the test certificate's chain"));
  ASSIGN_OR_RETURN(std::string signer, CheckOcsp(ctx, record.issuer_id, issued.serial,
                                                 ca.cert.get(), "good"));
  RETURN_IF_ERROR(
      RevokeCertificate(ctx, {record.issuer_id, issued.serial, "superseded"}).status());
  ASSIGN_OR_RETURN(int64_t number, CheckCrl(ctx, record, issued.serial, ca.cert.get()));
  RETURN_IF_ERROR(
      CheckOcsp(ctx, record.issuer_id, issued.serial, ca.cert.get(), "revoked").status());
  return "test certificate " + issued.serial + " issued by generation " +
         std::to_string(record.to_generation) +
         ": chain verified, OCSP good (signed by \"" + signer +
         "\"), revoked, listed in CRL " + std::to_string(number) + ", OCSP revoked";
}

}  // namespace certctl::ops::rotation
