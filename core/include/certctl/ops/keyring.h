// The CA keys certctl signs with, loaded once per CA generation.
//
// Thread-safe. Private keys live only in memory here and in their files; the
// keyring never writes or logs them.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "certctl/model/records.h"
#include "certctl/pki/ca.h"
#include "certctl/util/clock.h"

namespace certctl::ops {

struct LoadedCa {
  std::string issuer_id;
  int generation = 0;
  UniquePtr<X509> cert;
  UniquePtr<EVP_PKEY> key;
};

class CaKeyring {
 public:
  // Returns the CA of `record`, loading its key from record.key_path on first
  // use. The key must match record.cert_pem; a mismatch or a missing file is
  // an error naming the path. Validity is not checked here (a retired
  // generation still signs CRLs for what it issued).
  Result<std::shared_ptr<const LoadedCa>> Get(const CaGenerationRecord& record);

  // Installs already-loaded material (start-up, tests).
  void Put(const std::string& issuer, int generation, CaMaterial material);

  // Forgets everything (after a CA rotation or on SIGHUP).
  void Clear();

 private:
  std::mutex mu_;
  std::map<std::pair<std::string, int>, std::shared_ptr<const LoadedCa>> cas_;
};

}  // namespace certctl::ops
