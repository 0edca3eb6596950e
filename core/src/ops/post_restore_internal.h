// Private to `db post-restore` (post_restore.cc): the published CRLs it takes
// as evidence, read and verified before anything changes
// (post_restore_evidence.cc).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "certctl/model/records.h"
#include "certctl/ops/post_restore.h"

namespace certctl::ops::internal {

// What the published CRLs of one generation prove.
struct GenerationEvidence {
  CaGenerationRecord generation;
  int64_t highest = 0;  // the highest CRL number used (number file, CRLs)
  // Every serial a verified published CRL lists, with the first listing seen.
  std::map<std::string, ProvenRevocation> listed;
};

struct Evidence {
  std::vector<GenerationEvidence> generations;  // every generation, oldest first
  std::vector<PublishedCrlSeen> seen;
};

// Reads the recorded CRL and number of every generation and the operator's
// `crl_files`. InvalidArgument when an operator file can not be read, is not
// a CRL, or verifies with no generation's CA certificate; a recorded file that
// does not verify is an error finding (post_restore.published_crl_unusable).
Result<Evidence> GatherEvidence(const std::vector<CaGenerationRecord>& generations,
                                const std::vector<std::string>& crl_files,
                                OpReport& report);

}  // namespace certctl::ops::internal
