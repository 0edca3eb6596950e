// The DR checks of what serving depends on: CA material and its backups,
// responders, CRLs, the OCSP cache, operation locks. Each reads through the
// operation that already answers the question (`ca status`, `ocsp status`,
// `crl status`, `cache verify`) and judges its typed result.

#include <algorithm>

#include "certctl/ops/cache_ops.h"
#include "certctl/ops/crl_ops.h"
#include "certctl/util/encoding.h"
#include "certctl/util/files.h"
#include "certctl/util/process.h"
#include "certctl/util/time_format.h"
#include "ops/ca_backup_manifest.h"
#include "ops/dr_check_internal.h"
#include "store/lock_registry.h"

namespace certctl::ops::internal {
namespace {

std::string Subject(const std::string& issuer, int generation) {
  return issuer + "/g" + std::to_string(generation);
}

// A generation whose key still signs: the active one, or a retired one that
// covers unexpired certificates.
bool StillSigns(const CaGenerationStatus& g) {
  return g.state == GenerationState::kActive ||
         (g.state == GenerationState::kRetired && g.unexpired_certificates > 0);
}

// Collects per-subject results into one check result: the problems first,
// the worst of them first, then what is fine.
class Verdicts {
 public:
  void Add(DrStatus status, std::string message, std::string fix = "") {
    status_ = Worse(status_, status);
    // The fix of the worst problem (the first of them).
    bool worse =
        fix_.empty() || (status != fix_status_ && Worse(status, fix_status_) == status);
    if (status != DrStatus::kOk && worse) {
      fix_ = std::move(fix);
      fix_status_ = status;
    }
    all_.emplace_back(status, std::move(message));
  }
  DrCheckResult Done(const std::string& when_empty) {
    std::stable_sort(all_.begin(), all_.end(), [](const auto& a, const auto& b) {
      return a.first != b.first && Worse(a.first, b.first) == a.first;
    });
    std::string message;
    for (const auto& [status, m] : all_) message += (message.empty() ? "" : "; ") + m;
    return Outcome(status_, message.empty() ? when_empty : message, fix_);
  }

 private:
  DrStatus status_ = DrStatus::kOk;
  std::vector<std::pair<DrStatus, std::string>> all_;
  std::string fix_;
  DrStatus fix_status_ = DrStatus::kOk;
};

Result<CaBackupManifest> ReadManifest(const std::string& directory) {
  ASSIGN_OR_RETURN(std::string text,
                   ReadFile(std::filesystem::path(directory) / kCaBackupManifestName));
  return DecodeManifest(text);
}

std::string Days(std::chrono::seconds s) { return Age(s); }

std::chrono::seconds Between(TimePoint from, TimePoint to) {
  return std::chrono::duration_cast<std::chrono::seconds>(to - from);
}

}  // namespace

DrCheckResult CheckCaBackup(DrInputs& in) {
  const auto& ca = in.Ca();
  if (!ca.ok()) return Outcome(DrStatus::kUnknown, ca.status().message());
  Verdicts v;
  for (const auto& issuer : ca->issuers) {
    for (const auto& g : issuer.generations) {
      if (!StillSigns(g)) continue;
      std::string subject = Subject(issuer.issuer, g.generation);
      if (!g.backup) {
        v.Add(DrStatus::kCritical, subject + ": no recorded backup holds this generation",
              "certctl-admin ca backup " + issuer.issuer +
                  " --to /secure/ca-backup-$(date +%F)");
        continue;
      }
      v.Add(DrStatus::kOk, subject + ": backup " + std::to_string(g.backup->id) + " in " +
                               g.backup->directory + " (" +
                               FormatRfc3339(g.backup->created_at) + ")");
    }
  }
  return v.Done("no CA generation signs");
}

DrCheckResult CheckResponderKeysBackup(DrInputs& in) {
  const auto& ca = in.Ca();
  if (!ca.ok()) return Outcome(DrStatus::kUnknown, ca.status().message());
  const std::string fix =
      "certctl-admin ca backup ISSUER --to /secure/ca-backup-$(date +%F)";
  Verdicts v;
  for (const auto& issuer : ca->issuers) {
    for (const auto& g : issuer.generations) {
      if (!StillSigns(g) || !g.responder.serial) continue;
      std::string subject = Subject(issuer.issuer, g.generation);
      if (!g.backup) {
        v.Add(DrStatus::kWarning,
              subject + ": no backup (a restore would issue a new responder from the CA)",
              fix);
        continue;
      }
      auto manifest = ReadManifest(g.backup->directory);
      if (!manifest.ok()) {
        v.Add(DrStatus::kUnknown,
              subject + ": cannot read the backup's manifest here (moved offsite?): " +
                  manifest.status().message());
        continue;
      }
      bool held = false;
      for (const auto& mg : manifest->generations) {
        if (mg.generation == g.generation && mg.responder_serial == g.responder.serial)
          held = true;
      }
      if (!held) {
        v.Add(DrStatus::kWarning,
              subject + ": responder " + *g.responder.serial + " is newer than backup " +
                  std::to_string(g.backup->id) +
                  " (a restore would issue a new responder from the CA)",
              fix);
      } else {
        v.Add(DrStatus::kOk, subject + ": responder " + *g.responder.serial +
                                 " in backup " + std::to_string(g.backup->id));
      }
    }
  }
  return v.Done("no responder to back up");
}

DrCheckResult CheckTrustAnchorsBackup(DrInputs& in) {
  const auto& anchors = in.ctx.config.trust_anchors;
  if (anchors.empty()) return Outcome(DrStatus::kOk, "no trust anchor is configured");
  const auto& ca = in.Ca();
  if (!ca.ok()) return Outcome(DrStatus::kUnknown, ca.status().message());
  std::optional<CaBackupRecord> newest;
  for (const auto& issuer : ca->issuers) {
    for (const auto& g : issuer.generations) {
      if (g.backup && (!newest || g.backup->created_at > newest->created_at))
        newest = g.backup;
    }
  }
  const std::string fix =
      "certctl-admin ca backup iss-local --to /secure/ca-backup-$(date +%F)";
  if (!newest) return Outcome(DrStatus::kCritical, "no CA backup is recorded", fix);
  auto manifest = ReadManifest(newest->directory);
  if (!manifest.ok()) {
    return Outcome(DrStatus::kUnknown,
                   "cannot read the manifest of the newest backup " + newest->directory +
                       " here (moved offsite?): " + manifest.status().message());
  }
  Verdicts v;
  for (const auto& a : anchors) {
    std::optional<std::string> backed_up;
    for (const auto& b : manifest->trust_bundles) {
      if (b.name != a.name) continue;
      for (const auto& f : manifest->files) {
        if (f.name == b.file) backed_up = f.sha256;
      }
    }
    auto now = ReadFile(a.path);
    if (!backed_up) {
      v.Add(DrStatus::kWarning, a.name + ": not in backup " + newest->directory, fix);
    } else if (!now.ok() || Sha256Hex(*now) != *backed_up) {
      v.Add(DrStatus::kWarning,
            a.name + ": " + a.path + " changed since backup " + newest->directory, fix);
    } else {
      v.Add(DrStatus::kOk, a.name + ": in backup " + newest->directory);
    }
  }
  return v.Done("");
}

DrCheckResult CheckCaNotAfter(DrInputs& in) {
  const auto& ca = in.Ca();
  if (!ca.ok()) return Outcome(DrStatus::kUnknown, ca.status().message());
  Verdicts v;
  for (const auto& issuer : ca->issuers) {
    for (const auto& g : issuer.generations) {
      if (g.state != GenerationState::kActive) continue;
      std::string message =
          Subject(issuer.issuer, g.generation) + ": notAfter " +
          FormatRfc3339(g.not_after) + " (" +
          (g.time_left.count() < 0 ? "expired" : Days(g.time_left) + " left") + ")";
      std::string fix = "certctl-admin ca rotate " + issuer.issuer;
      switch (g.expiry) {
        case CaExpiry::kOk:
          v.Add(DrStatus::kOk, message);
          break;
        case CaExpiry::kWarning:
          v.Add(DrStatus::kWarning, message, fix);
          break;
        case CaExpiry::kCritical:
        case CaExpiry::kExpired:
          v.Add(DrStatus::kCritical, message, fix);
          break;
      }
    }
  }
  return v.Done("no active CA generation");
}

namespace {

// Every current responder of a generation that still signs, per issuer.
template <typename Judge>
DrCheckResult EachResponder(DrInputs& in, const std::string& empty, Judge judge) {
  const auto& ca = in.Ca();
  if (!ca.ok()) return Outcome(DrStatus::kUnknown, ca.status().message());
  Verdicts v;
  for (const auto& issuer : ca->issuers) {
    const auto& responders = in.Responders(issuer.issuer);
    if (!responders.ok()) {
      v.Add(DrStatus::kUnknown, issuer.issuer + ": " + responders.status().message());
      continue;
    }
    for (const auto& g : responders->generations) {
      if (g.state == GenerationState::kPending) continue;
      std::string subject = Subject(issuer.issuer, g.generation);
      std::string fix = "certctl-admin ocsp reset-responder " + issuer.issuer;
      if (!g.responder) {
        if (g.state == GenerationState::kActive) {
          v.Add(
              DrStatus::kWarning,
              subject + ": no responder certificate yet (made at the first OCSP request)",
              fix);
        }
        continue;
      }
      judge(v, subject, g.responder->certificate, fix);
    }
  }
  return v.Done(empty);
}

}  // namespace

DrCheckResult CheckResponderRotated(DrInputs& in) {
  return EachResponder(
      in, "no responder",
      [&](Verdicts& v, const std::string& subject, const ResponderCertificate& r,
          const std::string& fix) {
        auto age = Between(r.created_at, in.now);
        std::string message = subject + ": responder " + r.serial + " current since " +
                              FormatRfc3339(r.created_at) + " (" + Days(age) + ")";
        if (age > in.t.responder_rotation_critical) {
          v.Add(DrStatus::kCritical, message + ": not rotated", fix);
        } else if (age > in.t.responder_rotation_warning) {
          v.Add(DrStatus::kWarning, message + ": not rotated this quarter", fix);
        } else {
          v.Add(DrStatus::kOk, message);
        }
      });
}

DrCheckResult CheckResponderExpiry(DrInputs& in) {
  return EachResponder(
      in, "no responder",
      [&](Verdicts& v, const std::string& subject, const ResponderCertificate& r,
          const std::string& fix) {
        auto left = Between(in.now, r.not_after);
        std::string message =
            subject + ": responder " + r.serial + " notAfter " +
            FormatRfc3339(r.not_after) + " (" +
            (left.count() < 0 ? std::string("expired") : Days(left) + " left") + ")";
        if (left < in.t.responder_expiry_critical) {
          v.Add(DrStatus::kCritical, message, fix);
        } else if (left < in.t.responder_expiry_warning) {
          v.Add(DrStatus::kWarning, message, fix);
        } else {
          v.Add(DrStatus::kOk, message);
        }
      });
}

DrCheckResult CheckCrlsFresh(DrInputs& in) {
  OpReport scratch;
  auto crls = DescribeCrls(in.ctx, "", 0, scratch);
  if (!crls.ok()) return Outcome(DrStatus::kUnknown, crls.status().message());
  const std::string fix = "certctl-admin crl regenerate --all";
  Verdicts v;
  for (const auto& issuer : crls->issuers) {
    for (const auto& g : issuer.generations) {
      std::string subject = Subject(issuer.issuer, g.generation);
      if (g.verdict != CrlVerdict::kOk || !g.cache) {
        v.Add(DrStatus::kCritical,
              subject + ": " + std::string(CrlVerdictName(g.verdict)) +
                  (g.detail.empty() ? "" : " (" + g.detail + ")"),
              fix);
        continue;
      }
      auto left = Between(in.now, g.cache->next_update);
      std::string message = subject + ": CRL " + std::to_string(g.cache->crl_number) +
                            ", nextUpdate " + FormatRfc3339(g.cache->next_update) + " (" +
                            Days(left) + " left)";
      v.Add(left < in.t.crl_time_left_warning ? DrStatus::kWarning : DrStatus::kOk,
            message, fix + " (and check that certctld's CRL scheduler runs)");
    }
  }
  return v.Done("no CA generation signs a CRL");
}

DrCheckResult CheckOcspCache(DrInputs& in) {
  OpReport scratch;
  auto verified = VerifyOcspCache(in.ctx, /*fix=*/false, scratch, /*audit=*/false);
  if (!verified.ok()) return Outcome(DrStatus::kUnknown, verified.status().message());
  if (verified->bad == 0) {
    return Outcome(DrStatus::kOk, std::to_string(verified->scanned) +
                                      " cached answer(s), all consistent");
  }
  bool stale_good = false;
  for (const auto& f : scratch.findings) stale_good |= f.code == "cache.stale_good";
  return Outcome(stale_good ? DrStatus::kCritical : DrStatus::kWarning,
                 std::to_string(verified->bad) + " of " +
                     std::to_string(verified->scanned) + " cached answer(s) are wrong" +
                     (stale_good ? ", some say good for a revoked certificate" : "") +
                     " (first: " + scratch.findings.front().message + ")",
                 "certctl-admin cache verify --fix");
}

DrCheckResult CheckOperationLocks(DrInputs& in) {
  // The same listing and liveness rule as `locks list` (lock_ops.cc).
  auto held = LockRegistry::ListHeld(in.ctx.db);
  if (!held.ok()) return Outcome(DrStatus::kUnknown, held.status().message());
  const std::string host = HostName();
  Verdicts v;
  for (const auto& h : *held) {
    std::string message = h.name + " held by " + h.holder.Describe();
    std::string fix = "psql -c 'SELECT pg_terminate_backend(" +
                      std::to_string(h.holder.backend_pid) + ")'";
    // Only a holder on this host can be seen to be gone.
    bool gone = h.holder.host == host && h.holder.pid > 0 &&
                !LocalProcessRuns(h.holder.pid, h.holder.since);
    if (gone) {
      v.Add(DrStatus::kCritical,
            message + ": that process is gone, its database session still holds the lock",
            fix + " (after checking that no one is using it)");
    } else if (h.holder.since &&
               Between(*h.holder.since, in.now) > in.t.lock_held_warning) {
      v.Add(DrStatus::kWarning,
            message + ": held for " + Days(Between(*h.holder.since, in.now)),
            "find out what " + h.holder.holder + " is doing; if it hangs, " + fix);
    } else {
      v.Add(DrStatus::kOk, message);
    }
  }
  return v.Done("no operation lock is held");
}

}  // namespace certctl::ops::internal
