// Issued certificates and their revocations.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "certctl/model/records.h"
#include "certctl/store/database.h"

namespace certctl {

class CertificateRepo {
 public:
  // AlreadyExists when (issuer, serial) is taken.
  static Status Insert(Transaction& tx, const CertificateRecord& record);
  static Result<std::optional<CertificateStatusRecord>> Find(Transaction& tx,
                                                             const std::string& issuer,
                                                             const std::string& serial);
  // Every issuer's certificate with this serial (serials are random, so
  // usually zero or one).
  static Result<std::vector<CertificateStatusRecord>> FindBySerial(
      Transaction& tx, const std::string& serial);
  // Ordered by issue time, oldest first; `now` decides what is expired.
  static Result<CertificatePage> List(Transaction& tx,
                                      const CertificateListFilter& filter, TimePoint now);
  // Whether `generation` signed certificates still unexpired at `now`: a
  // retired generation keeps publishing CRLs and needs a responder until then.
  static Result<bool> GenerationHasUnexpired(Transaction& tx, const std::string& issuer,
                                             int generation, TimePoint now);
  // How many certificates `generation` signed are unexpired at `now` (revoked
  // or not: each still needs its CRL and OCSP answers), and the last notAfter
  // among them (unset when none).
  struct UnexpiredCount {
    int64_t count = 0;
    std::optional<TimePoint> last_not_after;
  };
  static Result<UnexpiredCount> CountUnexpired(Transaction& tx, const std::string& issuer,
                                               int generation, TimePoint now);
};

class RevocationRepo {
 public:
  // AlreadyExists when the certificate is already revoked.
  static Status Insert(Transaction& tx, const RevocationRecord& record);
  static Result<std::optional<RevocationRecord>> Find(Transaction& tx,
                                                      const std::string& issuer,
                                                      const std::string& serial);
  static Result<int64_t> CountForGeneration(Transaction& tx, const std::string& issuer,
                                            int generation);
  // Streams the generation's revocations ordered by serial without loading
  // them all (COPY through a stream); stops at the first non-OK from `fn`.
  static Status ForEachInGeneration(
      Transaction& tx, const std::string& issuer, int generation,
      const std::function<Status(const RevocationRecord&)>& fn);
};

}  // namespace certctl
