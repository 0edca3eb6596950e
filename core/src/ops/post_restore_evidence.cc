// The published CRLs `db post-restore` takes as evidence
// (ops/post_restore_internal.h).
#include <openssl/pem.h>

#include "certctl/pki/certificate.h"
#include "certctl/pki/crl_reader.h"
#include "certctl/util/files.h"
#include "certctl/util/identifiers.h"
#include "ops/crl_published.h"
#include "ops/post_restore_internal.h"

namespace certctl::ops::internal {
namespace {

// DER as it is, or the first "X509 CRL" PEM block converted to DER.
Result<std::string> ToDer(const std::string& bytes, const std::string& source) {
  if (bytes.rfind("-----BEGIN", 0) != 0) return bytes;
  UniquePtr<BIO> bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
  if (!bio) return OpenSslError("BIO_new_mem_buf");
  UniquePtr<X509_CRL> crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  if (!crl) return OpenSslError(StatusCode::kInvalidArgument, source + ": not a PEM CRL");
  unsigned char* der = nullptr;
  int len = i2d_X509_CRL(crl.get(), &der);
  if (len <= 0) return OpenSslError(StatusCode::kInvalidArgument, source);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

// The generation whose CA certificate verifies the CRL, if any.
GenerationEvidence* Signer(const CrlView& view, Evidence& evidence) {
  for (auto& g : evidence.generations) {
    auto cert = ParseCertificatePem(g.generation.cert_pem);
    if (cert.ok() && view.VerifySignature(cert->get()).ok()) return &g;
  }
  return nullptr;
}

// Adds one verified CRL's entries and number to its generation.
Status Take(const CrlView& view, const std::string& source, GenerationEvidence& g,
            Evidence& evidence) {
  const CaGenerationRecord& gen = g.generation;
  int64_t number = view.crl_number().value_or(0);
  g.highest = std::max(g.highest, number);
  evidence.seen.push_back({source, gen.issuer_id, gen.generation, number,
                           view.entry_count(), view.this_update()});
  return view.ForEachEntry([&](const CrlEntry& e) -> Status {
    g.listed.try_emplace(
        e.serial, ProvenRevocation{gen.issuer_id, gen.generation, e.serial, e.reason,
                                   e.revoked_at, source});
    return Status::Ok();
  });
}

// The generation's own record beside its CA key; problems are findings.
void TakeRecorded(GenerationEvidence& g, Evidence& evidence, OpReport& report) {
  const CaGenerationRecord& gen = g.generation;
  std::string subject = GenerationLabel(gen.issuer_id, gen.generation);
  auto floor = PublishedCrlNumberFloor(gen);
  if (floor.ok()) {
    g.highest = std::max(g.highest, *floor);
  } else {
    report.AddFinding("error", "post_restore.published_crl_unusable", subject,
                      floor.status().ToString());
  }
  std::string path = PublishedCrlPath(gen);
  auto der = ReadPublishedCrl(gen);
  if (der.ok() && !*der) return;  // never published on this host
  Status s = der.ok() ? Status::Ok() : der.status();
  if (s.ok()) {
    auto view = CrlView::Parse(**der);
    s = view.ok() ? view->VerifySignature(ParseCertificatePem(gen.cert_pem)->get())
                  : view.status();
    if (s.ok()) s = Take(*view, path, g, evidence);
  }
  if (!s.ok()) {
    report.AddFinding("error", "post_restore.published_crl_unusable", subject,
                      path + ": " + s.ToString());
  }
}

Status TakeOperatorFile(const std::string& file, Evidence& evidence) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(file));
  ASSIGN_OR_RETURN(std::string der, ToDer(bytes, file));
  auto view = CrlView::Parse(der);
  if (!view.ok()) {
    return Status::InvalidArgument(file + " is not a CRL: " + view.status().message());
  }
  GenerationEvidence* g = Signer(*view, evidence);
  if (!g) {
    return Status::InvalidArgument(
        file + " is not signed by the CA of any generation in this database (issuer " +
        view->issuer() + ")");
  }
  return Take(*view, file, *g, evidence);
}

}  // namespace

Result<Evidence> GatherEvidence(const std::vector<CaGenerationRecord>& generations,
                                const std::vector<std::string>& crl_files,
                                OpReport& report) {
  Evidence evidence;
  for (const auto& gen : generations) {
    if (!ParseCertificatePem(gen.cert_pem).ok()) {
      return Status::Corruption("the CA certificate of " +
                                GenerationLabel(gen.issuer_id, gen.generation) +
                                " in the database does not parse");
    }
    evidence.generations.push_back({gen, 0, {}});
  }
  for (auto& g : evidence.generations) TakeRecorded(g, evidence, report);
  for (const auto& file : crl_files) {
    Status s = TakeOperatorFile(file, evidence);
    if (!s.ok()) {
      return s.code() == StatusCode::kNotFound ||
                     s.code() == StatusCode::kPermissionDenied
                 ? Status::InvalidArgument("--crl " + s.message())
                 : s;
    }
  }
  return evidence;
}

}  // namespace certctl::ops::internal
