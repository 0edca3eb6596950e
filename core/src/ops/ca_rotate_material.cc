// The new CA material of each mode of `ca rotate`, and the checks it must
// pass before a rotation may write anything.
#include <charconv>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/util/files.h"
#include "certctl/util/time_format.h"
#include "ops/ca_rotate_internal.h"

namespace certctl::ops::rotation {
namespace {

constexpr auto kDay = std::chrono::hours(24);

// Reads a file the operator named; InvalidArgument naming it when it cannot
// be used (a missing input is bad input here, not "not found").
Result<UniquePtr<X509>> OperatorCertificate(const std::string& path) {
  auto cert = LoadCertificateFile(path);
  if (!cert.ok()) {
    return Status::InvalidArgument("cannot use " + path + ": " + cert.status().message());
  }
  return cert;
}

Result<UniquePtr<EVP_PKEY>> OperatorKey(const std::string& path) {
  auto key = LoadPrivateKeyFile(path);
  if (!key.ok()) {
    return Status::InvalidArgument("cannot use the key " + path + ": " +
                                   key.status().message());
  }
  return key;
}

}  // namespace

std::string MakeSpec::ToJson() const {
  return nlohmann::json{
      {"key_type", key_type}, {"validity", validity}, {"subject", subject}}
      .dump();
}

Result<MakeSpec> MakeSpec::FromJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Corruption("rotation parameters are not a JSON object: " + text);
  }
  MakeSpec spec;
  spec.key_type = j.value("key_type", spec.key_type);
  spec.validity = j.value("validity", spec.validity);
  spec.subject = j.value("subject", spec.subject);
  return spec;
}

Result<KeyAlgorithm> ParseKeyType(std::string_view name) {
  if (name == "ec-p256") return KeyAlgorithm::kEcdsaP256;
  if (name == "ec-p384") return KeyAlgorithm::kEcdsaP384;
  if (name == "rsa-3072") return KeyAlgorithm::kRsa3072;
  if (name == "rsa-4096") return KeyAlgorithm::kRsa4096;
  if (name == "ed25519") return KeyAlgorithm::kEd25519;
  return Status::InvalidArgument("key type \"" + std::string(name) +
                                 "\" is not one of ec-p256, ec-p384, rsa-3072, "
                                 "rsa-4096, ed25519");
}

Result<std::chrono::seconds> ParseCaValidity(std::string_view text) {
  if (text.size() >= 2 && text.back() == 'y') {
    int years = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, years);
    if (ec == std::errc() && p == text.data() + text.size() - 1 && years >= 1 &&
        years <= 100 && text[0] != '0') {
      return std::chrono::duration_cast<std::chrono::seconds>(kDay * 365 * years);
    }
    return Status::InvalidArgument("validity \"" + std::string(text) +
                                   "\": years must be 1y to 100y");
  }
  auto d = ParseDuration(text);
  if (!d.ok()) {
    return Status::InvalidArgument("validity \"" + std::string(text) +
                                   "\" is not a duration like 10y, 3650d or 24h");
  }
  return *d;
}

Result<MakeSpec> CheckMakeSpec(const RotateRequest& request, const Config& config) {
  MakeSpec spec{request.key_type, request.validity, request.subject};
  RETURN_IF_ERROR(ParseKeyType(spec.key_type).status());
  ASSIGN_OR_RETURN(auto validity, ParseCaValidity(spec.validity));
  auto leaf = kDay * config.certificate_default_validity_days;
  if (request.mode == RotationMode::kGenerate && validity <= leaf) {
    return Status::InvalidArgument(
        "validity " + spec.validity + " is not longer than a certificate issued now (" +
        std::to_string(config.certificate_default_validity_days) +
        " days, certificate_default_validity_days): the CA would expire first");
  }
  if (spec.subject.empty()) return spec;
  auto subject = ParseDistinguishedName(spec.subject);
  if (!subject.ok()) {
    return Status::InvalidArgument("subject \"" + spec.subject +
                                   "\": " + subject.status().message());
  }
  return spec;
}

Status CheckNewCa(OpContext& ctx, X509* cert, EVP_PKEY* key,
                  const std::vector<CaGenerationRecord>& generations,
                  const std::string& what) {
  TimePoint now = ctx.clock.Now();
  Status valid = ValidateCa(cert, key, now);
  if (!valid.ok()) {
    return Status::InvalidArgument("refusing " + what + ": " + valid.message());
  }
  int days = ctx.config.certificate_default_validity_days;
  TimePoint leaf_not_after = now + kDay * days;
  if (NotAfter(cert) < leaf_not_after) {
    return Status::InvalidArgument(
        "refusing " + what + ": it expires " + FormatRfc3339(NotAfter(cert)) +
        ", before a certificate issued now would (" + std::to_string(days) +
        " days, certificate_default_validity_days, until " +
        FormatRfc3339(leaf_not_after) + ")");
  }
  std::string fingerprint = FingerprintSha256(cert);
  for (const auto& g : generations) {
    if (g.cert_sha256 == fingerprint) {
      return Status::InvalidArgument("refusing " + what +
                                     ": it is already CA generation " +
                                     std::to_string(g.generation) + " of " + g.issuer_id);
    }
    auto existing = ParseCertificatePem(g.cert_pem);
    if (existing.ok() && SamePublicKey(key, X509_get0_pubkey(existing->get()))) {
      return Status::InvalidArgument("refusing " + what +
                                     ": its key is the key of CA generation " +
                                     std::to_string(g.generation) + " of " + g.issuer_id +
                                     "; a rotation needs a new key");
    }
  }
  return Status::Ok();
}

namespace {

// The subject the spec names, or a copy of `previous`'s.
Result<UniquePtr<X509_NAME>> SubjectFor(const MakeSpec& spec, X509* previous) {
  if (!spec.subject.empty()) return ParseDistinguishedName(spec.subject);
  if (!previous)
    return Status::Internal("no previous CA certificate to take a subject from");
  UniquePtr<X509_NAME> copy(X509_NAME_dup(X509_get_subject_name(previous)));
  if (!copy) return OpenSslError("copy the subject");
  return copy;
}

}  // namespace

Result<NewMaterial> GenerateMaterial(OpContext& ctx, const MakeSpec& spec,
                                     X509* previous) {
  NewMaterial m;
  ASSIGN_OR_RETURN(KeyAlgorithm algorithm, ParseKeyType(spec.key_type));
  ASSIGN_OR_RETURN(auto validity, ParseCaValidity(spec.validity));
  ASSIGN_OR_RETURN(auto subject, SubjectFor(spec, previous));
  ASSIGN_OR_RETURN(m.key, GenerateKey(algorithm));
  ASSIGN_OR_RETURN(m.cert, SelfSignCaCertificate(m.key.get(), subject.get(),
                                                 ctx.clock.Now(), validity));
  return m;
}

Result<NewMaterial> GenerateRequest(const MakeSpec& spec, X509* previous) {
  NewMaterial m;
  ASSIGN_OR_RETURN(KeyAlgorithm algorithm, ParseKeyType(spec.key_type));
  ASSIGN_OR_RETURN(auto subject, SubjectFor(spec, previous));
  ASSIGN_OR_RETURN(m.key, GenerateKey(algorithm));
  ASSIGN_OR_RETURN(m.csr_pem, MakeCaCsrPem(m.key.get(), subject.get()));
  return m;
}

Result<NewMaterial> ImportMaterial(OpContext& ctx, const RotateRequest& request,
                                   const std::vector<CaGenerationRecord>& generations) {
  if (request.cert_file.empty() || request.key_file.empty()) {
    return Status::InvalidArgument("import needs both --cert and --key");
  }
  NewMaterial m;
  ASSIGN_OR_RETURN(m.cert, OperatorCertificate(request.cert_file));
  ASSIGN_OR_RETURN(m.key, OperatorKey(request.key_file));
  RETURN_IF_ERROR(CheckNewCa(ctx, m.cert.get(), m.key.get(), generations,
                             "to import " + request.cert_file));
  return m;
}

Result<NewMaterial> CheckSignedCertificate(
    OpContext& ctx, const RotateRequest& request, const std::string& key_path,
    const std::vector<CaGenerationRecord>& generations, OpReport& report) {
  if (request.signed_cert_file.empty()) {
    return Status::InvalidArgument("--import-signed needs the signed certificate");
  }
  NewMaterial m;
  ASSIGN_OR_RETURN(m.cert, OperatorCertificate(request.signed_cert_file));
  auto key = LoadPrivateKeyFile(key_path);
  if (!key.ok()) {
    return key.status().WithContext("the pending key of this rotation");
  }
  m.key = std::move(key).value();
  std::string what = "the signed certificate " + request.signed_cert_file;
  if (!SamePublicKey(m.key.get(), X509_get0_pubkey(m.cert.get()))) {
    return Status::InvalidArgument("refusing " + what +
                                   ": it is not for the pending key " + key_path +
                                   " (was another CSR signed?)");
  }
  RETURN_IF_ERROR(CheckNewCa(ctx, m.cert.get(), m.key.get(), generations, what));
  std::vector<X509*> issuers;
  if (!request.chain_file.empty()) {
    auto pem = ReadFile(request.chain_file);
    if (!pem.ok()) {
      return Status::InvalidArgument("cannot use " + request.chain_file + ": " +
                                     pem.status().message());
    }
    auto chain = ParseCertificateBundlePem(*pem);
    if (!chain.ok()) {
      return Status::InvalidArgument("cannot use " + request.chain_file + ": " +
                                     chain.status().message());
    }
    m.chain = std::move(chain).value();
    for (const auto& c : m.chain) {
      issuers.push_back(c.get());
      m.chain_pem += CertificateToPem(c.get());
    }
  } else if (X509_self_signed(m.cert.get(), 0) != 1) {
    report.AddFinding("warning", "ca.chain_not_checked", request.issuer,
                      "no --chain given: whether " + request.signed_cert_file +
                          " was signed by its parent CA was not checked, and issued "
                          "certificates come with this CA's certificate only");
    return m;
  }
  Status chained = VerifyChain(m.cert.get(), issuers, ctx.clock.Now());
  if (!chained.ok()) {
    return Status::InvalidArgument(
        "refusing " + what +
        ": it does not chain to the given parent: " + chained.message());
  }
  return m;
}

std::string NewKeyPath(const std::string& active_key_path, const std::string& issuer,
                       int n) {
  auto dir = std::filesystem::absolute(active_key_path).parent_path();
  return (dir / (issuer + "-ca-g" + std::to_string(n) + ".key")).string();
}

std::string NewCertPath(const std::string& active_key_path, const std::string& issuer,
                        int n) {
  auto dir = std::filesystem::absolute(active_key_path).parent_path();
  return (dir / (issuer + "-ca-g" + std::to_string(n) + ".crt")).string();
}

Status WriteOnce(const std::string& path, const std::string& content, mode_t mode) {
  if (std::filesystem::exists(path)) {
    auto there = ReadFile(path);
    if (there.ok() && *there == content) return Status::Ok();
    return Status::AlreadyExists(path +
                                 " exists with other content; it is not this rotation's "
                                 "and is never replaced: move it away, then --resume");
  }
  return WriteFileAtomic(path, content, {.mode = mode, .allow_overwrite = false});
}

}  // namespace certctl::ops::rotation
