// Fixture for the crash tests: the real certctl-admin and certctld against
// the harness PostgreSQL, killed (or failed, or paused) at each fail point of
// core/include/certctl/util/fail_point.h in turn, and the invariants every
// step must keep, checked the way an operator would: with openssl, curl and
// psql-like queries. Built only when CERTCTL_FAILPOINTS is ON.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cmd/admin_fixture.h"

namespace certctl::testing {

// What `openssl ocsp` says about the certificates of one request.
struct OcspAnswer {
  std::map<std::string, std::string> status;  // file -> "good", "revoked", "unknown"
  bool verified = false;                      // "Response verify OK" against the CA
  std::string signer_serial;  // the responder certificate's serial, lowercase hex
  std::string text;           // everything openssl printed
};

// A CRL as fetched or dumped, read back by `openssl crl`.
struct CrlSeen {
  bool verified = false;  // "verify OK" against the CA
  long number = -1;
  std::string sha256;  // of the DER
  std::string text;
};

class CrashTest : public AdminTest {
 protected:
  void SetUp() override;

  // certctl-admin `args` with CERTCTL_FAILPOINTS=`arming` ("" for none).
  AdminRun AdminArmed(const std::vector<std::string>& args, const std::string& arming);
  // certctl-admin in the background (stderr and stdout in `log`), for the
  // "pause" action; the caller waits for it.
  std::unique_ptr<e2e::BackgroundProcess> StartAdmin(const std::vector<std::string>& args,
                                                     const std::string& arming,
                                                     const std::string& log);
  // Waits until `pid` is stopped (SIGSTOP), at most 20 s.
  static bool WaitStopped(pid_t pid);

  // --- the OCSP responder ---------------------------------------------------
  // Every file in the key directory: name -> "<mode octal> <sha256>".
  std::map<std::string, std::string> KeyFiles();
  // No key content of `before` is gone, no name holds other content than it
  // did, and every file is mode 0600.
  void ExpectNothingLost(const std::map<std::string, std::string>& before);
  // The row's certificate and its key file belong together (openssl pkey vs
  // x509): what must hold at every instant, checked before anything repairs.
  void ExpectRowMatchesKeyFile();
  // ExpectRowMatchesKeyFile, `ocsp status` is clean, and certctld answers good / revoked,
  // verified against the CA and (with a nonce: signed now) by the row's
  // responder; nothing in ocsp_response_cache says "good" for the revoked
  // serial.
  void ExpectResponderConsistent(const RunningDaemon& d);
  // No temporary file in the key directory, and its only live key file
  // (*.key) is the one the row names, apart from those in `unused`.
  void ExpectKeyDirectoryTidy(const std::set<std::string>& unused = {});
  // No temporary file of an interrupted write in the key directory.
  void ExpectNoTempFiles();
  // Live key files (*.key) that are not in `before` and that the row does not
  // name: the new key of a run stopped before its switch committed.
  std::vector<std::string> UnusedNewKeys(
      const std::map<std::string, std::string>& before);
  // certctld with CERTCTL_FAILPOINTS=`arming` (its own pid file), poked with
  // OCSP requests until it dies; its exit code (-1: still alive after 30 s,
  // then killed) and its log.
  std::pair<int, std::string> RunDaemonUntilItDies(const std::string& arming);
  std::string RowSerial();
  std::string RowKeyPath();
  // One request for `cert_files`; with a nonce (signed now) also the signer.
  OcspAnswer Ask(const RunningDaemon& d, const std::vector<std::string>& cert_files,
                 bool nonce);

  // --- CRLs -----------------------------------------------------------------
  CrlSeen ReadCrl(const std::string& der_file);
  CrlSeen CachedCrl();  // the crl_cache row of generation 1 (number -1: none)
  CrlSeen FetchCrl(const std::string& pki_base);
  // Where a CRL was seen. Each source's numbers must never go down; across
  // sources a certctld may lag behind crl_cache until its NOTIFY arrives.
  enum class CrlSource { kCache, kServed };
  // Records a CRL seen: it verifies, the same number never comes with other
  // bytes, numbers of `source` never go down, and it lists the revoked serial.
  void Published(const CrlSeen& crl, const std::string& where, CrlSource source);
  long HighestNumber() const;

  std::string good_crt_, revoked_crt_, revoked_serial_;
  std::map<long, std::string> crl_numbers_;  // number -> sha256
  std::map<CrlSource, long> last_seen_;
};

// `ocsp reset-responder iss-local`, confirmed, waiting for a held lock.
extern const std::vector<std::string> kReset;

// A responder made by a reset and a certctld answering with it.
class CrashResponderTest : public CrashTest {
 protected:
  void SetUp() override;
  // The next start of certctld: it comes up and removes what an interrupted
  // write left (checked: no temporary file).
  void RestartDaemon();
  // A rerun without fail points succeeds and leaves a tidy key directory
  // (but for the `unused` key files of runs that could not tell), nothing of
  // `before` lost, and a consistent responder.
  void ExpectRerunRepairs(const std::map<std::string, std::string>& before,
                          const std::set<std::string>& unused = {});

  std::unique_ptr<RunningDaemon> daemon_;
};

// Names of kFailPoints starting with `prefix`.
std::vector<std::string> FailPointsOf(const std::string& prefix);

}  // namespace certctl::testing
