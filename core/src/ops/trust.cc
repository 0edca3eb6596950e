#include "certctl/ops/trust.h"

#include "certctl/pki/certificate.h"
#include "certctl/pki/serial.h"
#include "certctl/util/encoding.h"
#include "certctl/util/files.h"
#include "certctl/util/time_format.h"

namespace certctl::ops {
namespace {

TrustBundleCheck Refuse(TrustBundleCheck check, TrustProblem problem,
                        std::string message) {
  check.problem = problem;
  check.message = std::move(message);
  return check;
}

// Parses and checks; on success also returns the certificates.
TrustBundleCheck Check(std::string_view pem, TimePoint now,
                       std::vector<UniquePtr<X509>>* out) {
  TrustBundleCheck check;
  if (pem.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Refuse(std::move(check), TrustProblem::kEmpty, "the bundle is empty");
  }
  auto certs = ParseCertificateBundlePem(pem);
  if (!certs.ok()) {
    return Refuse(std::move(check), TrustProblem::kGarbage, certs.status().message());
  }
  for (size_t i = 0; i < certs->size(); ++i) {
    X509* c = (*certs)[i].get();
    TrustBundleEntry e{SubjectOf(c),         IssuerOf(c),  "",
                       FingerprintSha256(c), NotBefore(c), NotAfter(c)};
    auto serial = Serial::FromAsn1(X509_get0_serialNumber(c));
    e.serial = serial.ok() ? serial->hex() : "";
    check.entries.push_back(e);
    std::string which = "certificate " + std::to_string(i + 1) + " (" + e.subject + ")";
    if (now > e.not_after) {
      return Refuse(std::move(check), TrustProblem::kExpired,
                    which + " expired at " + FormatRfc3339(e.not_after));
    }
    if (now < e.not_before) {
      return Refuse(std::move(check), TrustProblem::kNotYetValid,
                    which + " is not valid before " + FormatRfc3339(e.not_before));
    }
  }
  if (out) *out = std::move(certs).value();
  return check;
}

}  // namespace

std::string_view TrustProblemName(TrustProblem problem) {
  switch (problem) {
    case TrustProblem::kUnreadable:
      return "unreadable";
    case TrustProblem::kGarbage:
      return "garbage";
    case TrustProblem::kEmpty:
      return "empty";
    case TrustProblem::kExpired:
      return "expired";
    case TrustProblem::kNotYetValid:
      return "not_yet_valid";
  }
  return "unknown";
}

TrustBundleCheck CheckTrustBundle(std::string_view pem, TimePoint now) {
  return Check(pem, now, nullptr);
}

TrustBundleCheck CheckTrustBundleFile(const std::string& path, TimePoint now) {
  auto content = ReadFile(path);
  if (!content.ok()) {
    TrustBundleCheck check;
    return Refuse(std::move(check), TrustProblem::kUnreadable,
                  content.status().message());
  }
  return CheckTrustBundle(*content, now);
}

TrustAnchorHolder::TrustAnchorHolder(std::string name, std::string path)
    : name_(std::move(name)), path_(std::move(path)) {}

std::shared_ptr<const TrustPool> TrustAnchorHolder::Snapshot() const {
  std::lock_guard lock(mu_);
  return pool_;
}

TrustBundleCheck TrustAnchorHolder::Reload(TimePoint now) {
  auto content = ReadFile(path_);
  if (!content.ok()) {
    TrustBundleCheck check;
    return Refuse(std::move(check), TrustProblem::kUnreadable,
                  content.status().message());
  }
  std::vector<UniquePtr<X509>> certs;
  TrustBundleCheck check = Check(*content, now, &certs);
  if (!check.ok()) return check;
  auto pool = std::make_shared<TrustPool>();
  pool->name = name_;
  pool->path = path_;
  pool->entries = check.entries;
  pool->store.reset(X509_STORE_new());
  for (auto& c : certs) X509_STORE_add_cert(pool->store.get(), c.get());
  pool->loaded_at = now;
  pool->fingerprint = Sha256Hex(*content);
  std::lock_guard lock(mu_);
  pool_ = std::move(pool);  // the swap: readers see the old or the new pool, never a mix
  return check;
}

TrustAnchorRegistry::TrustAnchorRegistry(const std::vector<TrustAnchorConfig>& bundles) {
  for (const auto& b : bundles) {
    holders_[b.name] = std::make_unique<TrustAnchorHolder>(b.name, b.path);
  }
}

TrustAnchorHolder* TrustAnchorRegistry::Find(const std::string& name) {
  auto it = holders_.find(name);
  return it == holders_.end() ? nullptr : it->second.get();
}

std::vector<std::string> TrustAnchorRegistry::Names() const {
  std::vector<std::string> out;
  for (const auto& [name, holder] : holders_) out.push_back(name);
  return out;
}

bool TrustReload::refused() const {
  for (const auto& b : bundles) {
    if (!b.reloaded()) return true;
  }
  return false;
}

std::string TrustReload::RefusalMessage() const {
  std::string m;
  for (const auto& b : bundles) {
    if (b.reloaded()) continue;
    m += (m.empty() ? "refused to reload; " : "; ") + b.name + ": " +
         std::string(TrustProblemName(*b.problem)) + ": " + b.message;
  }
  return m;
}

namespace {

// Reloads one bundle; a refusal is an error finding.
TrustBundleReloaded ReloadOne(OpContext& ctx, TrustAnchorHolder& h, OpReport& report) {
  auto before = h.Snapshot();
  TrustBundleCheck check = h.Reload(ctx.clock.Now());
  auto after = h.Snapshot();
  TrustBundleReloaded b{h.name(),
                        h.path(),
                        check.problem,
                        check.message,
                        static_cast<int64_t>(check.entries.size()),
                        after ? after->fingerprint : "",
                        before ? before->fingerprint : ""};
  if (check.ok()) {
    report.steps.push_back("reloaded " + h.name() + " (" +
                           std::to_string(check.entries.size()) + " certificates)");
  } else {
    report.AddFinding("error", "trust." + std::string(TrustProblemName(*check.problem)),
                      h.name(),
                      check.message + (before ? "; the previous bundle stays in place"
                                              : "; no bundle is loaded"));
  }
  return b;
}

}  // namespace

Result<TrustReload> ReloadTrustAnchors(OpContext& ctx, TrustAnchorRegistry& registry,
                                       const std::string& name, OpReport& report) {
  std::vector<TrustAnchorHolder*> targets;
  if (name.empty()) {
    for (const auto& n : registry.Names()) targets.push_back(registry.Find(n));
  } else if (auto* h = registry.Find(name)) {
    targets.push_back(h);
  } else {
    report.operation = "trust.reload";
    report.target = name;
    return Status::NotFound("no trust bundle named \"" + name + "\" is configured");
  }
  MutationSpec spec{"trust.reload", name.empty() ? "*" : name, {{"name", name}}, {}};
  TrustReload result;
  // A refusal fails the body, so that the audit event says so, but is the
  // answer, not an error, for the caller.
  Status s = RunMutation(ctx, spec, report, [&]() -> Status {
    for (auto* h : targets) {
      if (!ctx.dry_run) {
        result.bundles.push_back(ReloadOne(ctx, *h, report));
        continue;
      }
      TrustBundleCheck check = CheckTrustBundleFile(h->path(), ctx.clock.Now());
      report.plan.push_back(check.ok() ? "would reload " + h->name()
                                       : "would keep the old " + h->name() + ": " +
                                             check.message);
    }
    return result.refused() ? Status::FailedPrecondition(result.RefusalMessage())
                            : Status::Ok();
  });
  if (!s.ok() && !result.refused()) return s;
  return result;
}

void LoadTrustAnchors(TrustAnchorRegistry& registry, TimePoint now,
                      spdlog::logger& logger) {
  for (const auto& name : registry.Names()) {
    TrustAnchorHolder* holder = registry.Find(name);
    TrustBundleCheck check = holder->Reload(now);
    if (check.ok()) {
      logger.info("trust bundle {}: loaded {} certificates from {}", name,
                  check.entries.size(), holder->path());
    } else {
      logger.error("trust bundle {}: refused {} ({}): {}", name, holder->path(),
                   TrustProblemName(*check.problem), check.message);
    }
  }
}

Result<TrustBundleChecked> CheckTrustBundleReport(const std::string& path, TimePoint now,
                                                  OpReport& report) {
  report.operation = "trust.check";
  report.target = path;
  TrustBundleChecked result{path, CheckTrustBundleFile(path, now)};
  if (!result.check.ok()) {
    report.AddFinding("error",
                      "trust." + std::string(TrustProblemName(*result.check.problem)),
                      path, result.check.message);
  }
  return result;
}

}  // namespace certctl::ops
