// Private to core/src/ops: the parts of RunDrDrill (certctl/ops/dr_drill.h):
// the scratch certctld and its material (dr_drill_daemon.cc), and what the
// drill asks it (dr_drill_checks.cc).
#pragma once

#include <memory>
#include <string>

#include "certctl/ops/dr_drill.h"
#include "certctl/util/child_process.h"
#include "certctl/util/secret.h"
#include "ops/restore_check_internal.h"

namespace certctl::ops::internal {

// Everything one drill creates, so that cleanup knows what to undo.
struct DrillScratch {
  ScratchPlan plan;
  bool created = false;  // the scratch database exists
  std::string dir;       // the scratch directory (0700)
  Scratch copy;          // the restored copy, open once restored
  ChildProcess daemon;
  SecretString api_key;
  std::string tls_cert;  // the scratch daemon's certificate, trusted by the client
};

// Step "material": copies and files in s.dir, the copy's rows pointed at them.
Status PrepareMaterial(OpContext& ctx, DrillScratch& s, DrDrill& result);
// Step "start": certctld on the copy; result's urls and pid once it is ready.
Status StartScratchDaemon(OpContext& ctx, const DrDrillOptions& options, DrillScratch& s,
                          DrDrill& result);

// Steps "issue", "revoke", "crl" and "ocsp" against the scratch daemon.
Status IssueTestCertificate(DrillScratch& s, DrDrill& result);
Status RevokeTestCertificate(DrillScratch& s, DrDrill& result);
Status CheckScratchCrl(const DrDrillOptions& options, DrillScratch& s, DrDrill& result);
Status CheckScratchOcsp(DrillScratch& s, DrDrill& result);

}  // namespace certctl::ops::internal
