// Fail points: named places between the steps of certctl's multi-step
// operations where a test build can kill the process, fail the step or stop
// the process, so that crash tests can check what every step leaves behind.
//
// TEST BUILDS ONLY. The CMake option CERTCTL_FAILPOINTS (default OFF) compiles
// them in; scripts/setup, and so scripts/test and CI, turns it ON. Builds for
// installs and packages leave it OFF: CERTCTL_FAIL_POINT(name) is then only a
// static_assert on the name (no code, no branch) and the environment variable
// is never read. kFailPointsCompiledIn tells which build this is.
//
// Arming, in the environment of the process (read once, at the first hit):
//   CERTCTL_FAILPOINTS=name[=action][,name[=action]...]
//   crash (default)  write "certctl: fail point NAME: crash" to stderr and
//                    raise SIGKILL: no destructor, atexit handler, flush or
//                    ROLLBACK runs; the same as kill -9 at that instant.
//   error            the step fails with Status::Internal("fail point NAME")
//                    and the operation takes its error path.
//   pause            raise SIGSTOP (after a line on stderr), so a test can
//                    change the world at that step (stop PostgreSQL, fill a
//                    disk) and then send SIGCONT; the step then goes on.
// A name or action that is not known ends the process with exit code 78
// (configuration) at the first hit, so that a misspelt test cannot pass by
// accident. An armed
// point fires every time it is reached.
//
// Every fail point is a row of kFailPoints (a name used in code but missing
// there does not compile); tests iterate over the table. A name says what
// has happened when the point is reached: "<procedure>.<state reached>".
// A new multi-step operation (restore) adds its rows and calls
// CERTCTL_FAIL_POINT("<procedure>.<state>") after each step that leaves
// something behind (a file written, a transaction committed); a point inside
// a transaction is reached before COMMIT.
//
// Thread-safe.
#pragma once

#include <string_view>

#include "certctl/util/status.h"

namespace certctl {

struct FailPointInfo {
  std::string_view name;
  std::string_view procedure;  // what runs through it
  std::string_view state;      // what holds when it is reached
};

inline constexpr FailPointInfo kFailPoints[] = {
    // OCSP responder: `ocsp reset-responder`, and the bootstrap and rotation
    // of EnsureOcspResponder (certctld's request path and scheduler).
    {"responder.locked", "ocsp responder",
     "locks held, new key and certificate made in memory; nothing written"},
    {"responder.switch-uncommitted", "ocsp responder",
     "the switch transaction ran (row, history, cache drop); key not written"},
    {"responder.key-temp-written", "ocsp responder",
     "the new key is in a fsynced temporary file (switch not committed)"},
    {"responder.key-written", "ocsp responder",
     "the new key file is in place under its own name; switch not committed"},
    {"responder.row-switched", "ocsp responder",
     "committed: the row names the new key; the old key file not yet retired"},
    {"responder.old-key-retired", "ocsp responder",
     "the old key file is kept as a backup; the reset has not verified yet"},
    // CRL: `crl regenerate` and certctld's scheduled, start-up and
    // write-back-on-fetch generations (all RegenerateCrl).
    {"crl.number-reserved", "crl regenerate",
     "the CRL number is taken from the counter (transaction open)"},
    {"crl.signed", "crl regenerate",
     "the CRL is signed and verified in memory (transaction open)"},
    {"crl.stored-uncommitted", "crl regenerate",
     "crl_cache row written and NOTIFY queued, not committed"},
    {"crl.committed", "crl regenerate",
     "the CRL and its number are committed; the generation event is not written"},
    {"crl.event-recorded", "crl regenerate",
     "the generation event is written; the audit end event is not"},
    // CA backup: `ca backup` and the first step of `ca rotate` (BackupCa).
    {"ca-backup.directory-created", "ca backup",
     "the backup directory exists (0700), empty; nothing recorded"},
    {"ca-backup.file-written", "ca backup",
     "one more file of the backup is in place (0600); no manifest yet"},
    {"ca-backup.manifest-written", "ca backup",
     "every file and the manifest are in place; not read back, not recorded"},
    // CA rotation: `ca rotate` (RotationRun). Each "rotate.*" but the key's
    // temporary is reached once its step is recorded as done in the journal.
    {"rotate.backed-up", "ca rotate",
     "the backup of the issuer's CA material is written and recorded"},
    {"rotate.key-temp-written", "ca rotate",
     "the new CA key is in a fsynced temporary file; write-key not done"},
    {"rotate.key-written", "ca rotate",
     "the new key file (and certificate or CSR) written; write-key done"},
    {"rotate.signed-imported", "ca rotate",
     "sub-CA: the signed certificate's file written and recorded"},
    {"rotate.generation-registered", "ca rotate",
     "the new generation is in ca_generations, pending"},
    {"rotate.responder-bootstrapped", "ca rotate",
     "the new generation has its OCSP responder (row and key file)"},
    {"rotate.crl-signed", "ca rotate", "the new generation's first CRL is cached"},
    {"rotate.issuance-switched", "ca rotate",
     "committed: the new generation is active, the old one retired, NOTIFY sent"},
    {"rotate.daemons-notified", "ca rotate", "the second NOTIFY is committed"},
    {"rotate.verified", "ca rotate",
     "the test certificate was issued, checked and revoked; rotation not yet "
     "recorded as completed"},
};

consteval bool IsFailPoint(std::string_view name) {
  for (const auto& point : kFailPoints) {
    if (point.name == name) return true;
  }
  return false;
}

// A fail point name checked at compile time; default-constructed: none.
class FailPoint {
 public:
  constexpr FailPoint() = default;
  // NOLINTNEXTLINE(google-explicit-constructor): a string literal names one.
  consteval FailPoint(const char* name) : name_(name) {
    if (!IsFailPoint(name_)) throw "not a fail point: add it to kFailPoints";
  }
  constexpr std::string_view name() const { return name_; }
  constexpr bool none() const { return name_.empty(); }

 private:
  std::string_view name_;
};

#if CERTCTL_FAILPOINTS_ENABLED
inline constexpr bool kFailPointsCompiledIn = true;
// Acts as armed: returns OK when `point` is not armed (or none()).
Status HitFailPoint(FailPoint point);
#define CERTCTL_FAIL_POINT(name) \
  RETURN_IF_ERROR(::certctl::HitFailPoint(::certctl::FailPoint(name)))
#else
inline constexpr bool kFailPointsCompiledIn = false;
inline Status HitFailPoint(FailPoint) { return Status::Ok(); }
#define CERTCTL_FAIL_POINT(name) \
  static_assert(::certctl::IsFailPoint(name), "not a fail point: add it to kFailPoints")
#endif

}  // namespace certctl
