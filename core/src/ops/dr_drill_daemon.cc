// The scratch certctld of `dr drill` and what it runs on: copies of the key
// material in the drill's scratch directory (the live files are only read),
// the restored copy's rows pointed at those copies, its secrets in files, and
// its start, learnt from its sd_notify READY message.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <memory>

#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/pki/serial.h"
#include "certctl/util/encoding.h"
#include "certctl/util/files.h"
#include "certctl/util/interrupt.h"
#include "ops/dr_drill_internal.h"
#include "store/drill_repo.h"

namespace certctl::ops::internal {
namespace {

namespace fs = std::filesystem;

// Copies `from` (only read) to `to` with `mode`; never over an existing file.
Status CopyFile(const std::string& from, const std::string& to, mode_t mode) {
  ASSIGN_OR_RETURN(std::string data, ReadFile(from));
  SecretString held(std::move(data));  // key material: wiped when done
  return WriteFileAtomic(to, held.view(), {.mode = mode, .allow_overwrite = false});
}

// A CA generation's key, and the published-CRL record kept beside it (the
// CRL-number floor, crl_published.cc), which the scratch daemon then extends
// in the scratch directory instead of beside the live key.
Status CopyGenerationKey(const NamedKeyFile& f, const std::string& to_dir,
                         std::string& copy) {
  std::string base = f.issuer_id + "-g" + std::to_string(f.generation);
  copy = to_dir + "/" + base + ".key";
  Status s = CopyFile(f.key_path, copy, 0600);
  if (!s.ok()) {
    return s.WithContext("the key file of CA generation " + base + " named by the dump");
  }
  fs::path live_dir = fs::path(f.key_path).parent_path();
  for (const char* suffix : {".crl-number", ".crl"}) {
    std::error_code ec;
    fs::path published = live_dir / (base + suffix);
    if (fs::exists(published, ec)) {
      RETURN_IF_ERROR(CopyFile(published, to_dir + "/" + base + suffix, 0644));
    }
  }
  return Status::Ok();
}

// Every key file the copy names gets a copy (a responder's may be missing:
// the scratch daemon then makes a new responder in its own directory), and
// the copy's rows name the copies.
Status MoveKeyFiles(DrillScratch& s) {
  ASSIGN_OR_RETURN(auto files,
                   s.copy.db->Query<std::vector<NamedKeyFile>>(
                       [](Transaction& tx) { return DrillRepo::KeyFiles(tx); }));
  std::vector<std::pair<NamedKeyFile, std::string>> moves;
  for (const auto& f : files) {
    std::string copy;
    if (f.table == "ca_generations") {
      RETURN_IF_ERROR(CopyGenerationKey(f, s.dir + "/keys", copy));
    } else {
      copy = s.dir + "/ocsp-keys/" + fs::path(f.key_path).filename().string();
      std::error_code ec;
      if (fs::exists(f.key_path, ec)) RETURN_IF_ERROR(CopyFile(f.key_path, copy, 0600));
    }
    moves.push_back({f, copy});
  }
  return s.copy.db->Run([&](Transaction& tx) -> Status {
    for (const auto& [f, copy] : moves)
      RETURN_IF_ERROR(DrillRepo::MoveKeyFile(tx, f, copy));
    return Status::Ok();
  });
}

// certctld's TLS certificate for 127.0.0.1, self-signed: the drill's client
// trusts exactly it.
Status WriteTlsMaterial(DrillScratch& s) {
  auto now = std::chrono::system_clock::now();
  ASSIGN_OR_RETURN(auto key, GenerateKey(KeyAlgorithm::kEcdsaP256));
  IssueRequest r;
  r.common_name = "certctl dr drill";
  r.public_key = key.get();
  r.not_before = now - std::chrono::minutes(1);
  r.not_after = now + std::chrono::hours(24);
  r.is_ca = true;  // its own trust anchor
  r.key_usage = "digitalSignature,keyCertSign";
  r.extended_key_usage = "serverAuth";
  r.ip_addresses = {"127.0.0.1"};
  ASSIGN_OR_RETURN(Serial serial, Serial::Random());
  ASSIGN_OR_RETURN(auto cert, IssueCertificate(r, serial, nullptr, key.get()));
  s.tls_cert = s.dir + "/tls.crt";
  RETURN_IF_ERROR(WritePrivateKeyFile(s.dir + "/tls.key", key.get()));
  return WriteFileAtomic(s.tls_cert, CertificateToPem(cert.get()), {.mode = 0644});
}

Status WriteSecrets(OpContext& ctx, DrillScratch& s) {
  ASSIGN_OR_RETURN(std::string random, RandomBytes(32));
  s.api_key = SecretString(HexEncode(random));
  RETURN_IF_ERROR(WriteFileAtomic(s.dir + "/api-key", s.api_key.view()));
  RETURN_IF_ERROR(WriteFileAtomic(s.dir + "/audit-key", ctx.config.audit_key.view()));
  RETURN_IF_ERROR(WriteFileAtomic(s.dir + "/database-url", s.plan.conninfo.ToString()));
  if (!ctx.config.config_encryption_key.empty()) {
    RETURN_IF_ERROR(WriteFileAtomic(s.dir + "/encryption-key",
                                    ctx.config.config_encryption_key.view()));
  }
  return WriteFileAtomic(s.dir + "/certctld.yaml",
                         "# dr drill: every setting is in certctld's environment\n",
                         {.mode = 0600});
}

std::vector<std::string> DaemonEnvironment(OpContext& ctx, const DrillScratch& s) {
  const std::string& d = s.dir;
  std::vector<std::string> env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                                  "CERTCTL_DATABASE_URL_FILE=" + d + "/database-url",
                                  "CERTCTL_DATABASE_POOL_SIZE=4",
                                  "CERTCTL_CA_CERT_PATH=" + d + "/ca/ca.crt",
                                  "CERTCTL_CA_KEY_PATH=" + d + "/ca/ca.key",
                                  "CERTCTL_OCSP_RESPONDER_KEY_DIR=" + d + "/ocsp-keys",
                                  "CERTCTL_API_KEY_FILE=" + d + "/api-key",
                                  "CERTCTL_AUDIT_KEY_FILE=" + d + "/audit-key",
                                  "CERTCTL_SERVER_TLS_CERT_PATH=" + d + "/tls.crt",
                                  "CERTCTL_SERVER_TLS_KEY_PATH=" + d + "/tls.key",
                                  "CERTCTL_LISTEN_API=127.0.0.1:0",
                                  "CERTCTL_LISTEN_PKI=127.0.0.1:0",
                                  "CERTCTL_BASE_URL=http://127.0.0.1",
                                  "NOTIFY_SOCKET=" + d + "/notify"};
  if (!ctx.config.config_encryption_key.empty()) {
    env.push_back("CERTCTL_CONFIG_ENCRYPTION_KEY_FILE=" + d + "/encryption-key");
  }
  return env;
}

// The sd_notify socket certctld reports READY on.
Result<int> OpenNotifySocket(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    return Status::FailedPrecondition(
        "the scratch directory's path is too long for a "
        "socket (" +
        path + "): set TMPDIR to a shorter one");
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Internal(std::string("socket: ") + std::strerror(errno));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    int error = errno;
    ::close(fd);
    return Status::Internal("bind " + path + ": " + std::strerror(error));
  }
  return fd;
}

// "STATUS=serving on 127.0.0.1:41234 and 127.0.0.1:41235" of a READY message.
bool ParseReady(const std::string& message, DrDrill& result) {
  if (message.find("READY=1") == std::string::npos) return false;
  size_t at = message.find("serving on ");
  if (at == std::string::npos) return false;
  size_t end = message.find('\n', at);
  std::string text =
      message.substr(at + 11, end == std::string::npos ? end : end - at - 11);
  size_t sep = text.find(" and ");
  if (sep == std::string::npos) return false;
  result.api_url = "https://" + text.substr(0, sep);
  result.pki_url = "http://" + text.substr(sep + 5);
  return true;
}

std::string LogTail(const std::string& path) {
  auto log = ReadFile(path);
  if (!log.ok()) return "";
  std::string text = *log;
  if (text.size() > 1500) text = "..." + text.substr(text.size() - 1500);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

Status WaitReady(const DrDrillOptions& options, DrillScratch& s, int fd,
                 DrDrill& result) {
  auto deadline = std::chrono::steady_clock::now() + options.step_timeout;
  std::string log = s.dir + "/certctld.log";
  while (std::chrono::steady_clock::now() < deadline) {
    RETURN_IF_ERROR(CheckInterrupted("waiting for the scratch certctld"));
    if (!s.daemon.Running()) {
      return Status::FailedPrecondition("the scratch certctld exited " +
                                        std::to_string(s.daemon.exit_code()) +
                                        " before it was ready: " + LogTail(log));
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[1024];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0 && ParseReady(std::string(buf, static_cast<size_t>(n)), result)) {
      return Status::Ok();
    }
  }
  return Status::DeadlineExceeded("the scratch certctld was not ready within " +
                                  std::to_string(options.step_timeout.count()) +
                                  " ms: " + LogTail(log));
}

}  // namespace

Status PrepareMaterial(OpContext& ctx, DrillScratch& s, DrDrill& result) {
  (void)result;
  for (const char* sub : {"/ca", "/keys", "/ocsp-keys"}) {
    RETURN_IF_ERROR(EnsureDirectory(s.dir + sub, 0700));
  }
  RETURN_IF_ERROR(CopyFile(ctx.config.ca_cert_path, s.dir + "/ca/ca.crt", 0644)
                      .WithContext("the configured CA certificate"));
  RETURN_IF_ERROR(CopyFile(ctx.config.ca_key_path, s.dir + "/ca/ca.key", 0600)
                      .WithContext("the configured CA key"));
  RETURN_IF_ERROR(MoveKeyFiles(s));
  RETURN_IF_ERROR(WriteTlsMaterial(s));
  return WriteSecrets(ctx, s);
}

Status StartScratchDaemon(OpContext& ctx, const DrDrillOptions& options, DrillScratch& s,
                          DrDrill& result) {
  ASSIGN_OR_RETURN(int fd, OpenNotifySocket(s.dir + "/notify"));
  // Hand-written scope guard: the descriptor is closed on every path.
  std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { ::close(*f); });
  Status started =
      s.daemon.Start({options.certctld_path, "--config", s.dir + "/certctld.yaml"},
                     DaemonEnvironment(ctx, s), s.dir + "/certctld.log");
  RETURN_IF_ERROR(started);
  result.daemon_pid = s.daemon.pid();
  return WaitReady(options, s, fd, result);
}

}  // namespace certctl::ops::internal
