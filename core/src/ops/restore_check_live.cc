// The restored copy against what is live: revocations made after the backup
// (a restore would drop them: a published revocation undone) and CRL numbers
// published after it (a restore would sign them again). The live database is
// read; with compare_live the CRLs at the dump's CRL URLs are fetched too,
// as a relying party sees them.
#include <set>

#include "certctl/ops/certificate_ops.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/crl_distribution.h"
#include "certctl/pki/crl_reader.h"
#include "ops/restore_check_internal.h"
#include "store/issuer_repo.h"
#include "store/restore_check_repo.h"

namespace certctl::ops::internal {
namespace {

constexpr char kLiveDatabase[] = "live database";
constexpr size_t kNamedInFinding = 10;

using GenerationKey = std::pair<std::string, int>;

struct DumpRevocations {
  std::set<std::pair<std::string, std::string>> serials;  // {issuer, serial}
  std::map<GenerationKey, int64_t> crl_numbers;           // highest used
};

Result<DumpRevocations> ReadDump(Database& db) {
  return db.Query<DumpRevocations>([](Transaction& tx) -> Result<DumpRevocations> {
    DumpRevocations d;
    RETURN_IF_ERROR(RestoreCheckRepo::ForEachRevocation(tx, [&](RevocationKey r) {
      d.serials.insert({r.issuer_id, r.serial});
    }));
    ASSIGN_OR_RETURN(auto numbers, RestoreCheckRepo::CrlNumbers(tx));
    for (const auto& n : numbers) d.crl_numbers[{n.issuer_id, n.generation}] = n.highest;
    return d;
  });
}

void AddRevocation(const DumpRevocations& dump, RevocationAfterBackup r,
                   RestoreCheck& result) {
  if (dump.serials.count({r.issuer, r.serial})) return;
  for (const auto& seen : result.revocations_after_backup) {
    if (seen.issuer == r.issuer && seen.serial == r.serial) return;  // by DB and URL
  }
  r.reason_name = std::string(RevocationReasonName(r.reason));
  result.revocations_after_backup.push_back(std::move(r));
}

void AddCrlNumber(const DumpRevocations& dump, const GenerationKey& key, int64_t live,
                  const std::string& seen_in, RestoreCheck& result) {
  auto it = dump.crl_numbers.find(key);
  int64_t highest = it == dump.crl_numbers.end() ? 0 : it->second;
  if (live <= highest) return;
  for (const auto& seen : result.reused_crl_numbers) {
    if (seen.issuer == key.first && seen.generation == key.second &&
        seen.live_highest >= live) {
      return;  // the live database already said so
    }
  }
  result.reused_crl_numbers.push_back({key.first, key.second, highest, live, seen_in});
}

Status CompareLiveDatabase(Database& live, const DumpRevocations& dump,
                           RestoreCheck& result) {
  return live.Run([&](Transaction& tx) -> Status {
    RETURN_IF_ERROR(RestoreCheckRepo::ForEachRevocation(tx, [&](RevocationKey r) {
      AddRevocation(dump,
                    {r.issuer_id, r.generation, r.serial, r.reason, "", r.revoked_at,
                     kLiveDatabase},
                    result);
    }));
    ASSIGN_OR_RETURN(auto numbers, RestoreCheckRepo::CrlNumbers(tx));
    for (const auto& n : numbers) {
      AddCrlNumber(dump, {n.issuer_id, n.generation}, n.highest, kLiveDatabase, result);
    }
    return Status::Ok();
  });
}

struct CrlSource {
  CaGenerationRecord generation;
  std::string url;
};

// Each generation of the dump with the CRL URL its newest certificate names
// (else the configured base URL's).
Result<std::vector<CrlSource>> CrlSources(const Config& config, Database& db) {
  return db.Query<std::vector<CrlSource>>(
      [&](Transaction& tx) -> Result<std::vector<CrlSource>> {
        ASSIGN_OR_RETURN(auto newest, RestoreCheckRepo::NewestCertificates(tx));
        ASSIGN_OR_RETURN(auto issuers, IssuerRepo::List(tx));
        std::vector<CrlSource> out;
        for (const auto& issuer : issuers) {
          ASSIGN_OR_RETURN(auto gens, IssuerRepo::Generations(tx, issuer.id));
          for (auto& g : gens) {
            std::string url = CrlUrl(config, g.issuer_id, g.generation);
            auto it = newest.find({g.issuer_id, g.generation});
            if (it != newest.end()) {
              auto cert = ParseCertificateDer(it->second);
              auto uris = cert.ok() ? CrlDistributionUris(cert->get())
                                    : std::vector<std::string>{};
              if (!uris.empty()) url = uris.front();
            }
            out.push_back({std::move(g), url});
          }
        }
        return out;
      });
}

// Fetches and verifies the CRL at `source`; a problem is a warning.
void CompareServedCrl(const net::HttpClient& http, const CrlSource& source,
                      const DumpRevocations& dump, RestoreCheck& result,
                      OpReport& report) {
  const CaGenerationRecord& g = source.generation;
  std::string subject = g.issuer_id + "/g" + std::to_string(g.generation);
  auto fail = [&](const std::string& why) {
    report.AddFinding("warning", "restore.live_crl_unavailable", subject,
                      "the CRL at " + source.url + " could not be compared: " + why);
  };
  auto response = http.Get(source.url);
  if (!response.ok()) return fail(response.status().message());
  if (response->status != 200) return fail("HTTP " + std::to_string(response->status));
  const std::string& der = response->body;
  auto crl = CrlView::Parse(der);
  if (!crl.ok()) return fail(crl.status().message());
  auto cert = ParseCertificatePem(g.cert_pem);
  if (!cert.ok()) return fail("the generation's certificate does not parse");
  Status signature = crl->VerifySignature(cert->get());
  if (!signature.ok()) return fail(signature.message());
  Status walked = crl->ForEachEntry([&](const CrlEntry& e) {
    AddRevocation(
        dump,
        {g.issuer_id, g.generation, e.serial, e.reason, "", e.revoked_at, source.url},
        result);
    return Status::Ok();
  });
  if (!walked.ok()) return fail(walked.message());
  if (crl->crl_number()) {
    AddCrlNumber(dump, {g.issuer_id, g.generation}, *crl->crl_number(), source.url,
                 result);
  }
}

void AddFindings(RestoreCheck& result, OpReport& report) {
  if (!result.revocations_after_backup.empty()) {
    std::string named;
    size_t n = 0;
    for (const auto& r : result.revocations_after_backup) {
      if (n++ == kNamedInFinding) {
        named += ", ...";
        break;
      }
      named += (named.empty() ? "" : ", ") + r.issuer + " " + r.serial + " (" +
               r.reason_name + ")";
    }
    report.AddFinding(
        "warning", "restore.revocations_after_backup", "certificate_revocations",
        std::to_string(result.revocations_after_backup.size()) +
            " revocation(s) made after the backup are not in it, and a restore would "
            "undo them: " +
            named + ". After restoring, run `certctl-admin db post-restore`");
  }
  for (const auto& c : result.reused_crl_numbers) {
    std::string subject = c.issuer + "/g" + std::to_string(c.generation);
    report.AddFinding("warning", "restore.crl_numbers_reused", subject,
                      "CRL numbers " + std::to_string(c.dump_highest + 1) + " to " +
                          std::to_string(c.live_highest) + " of " + subject +
                          " were used after the backup (" + c.seen_in +
                          "): a certctl restored from it would use them again for "
                          "other CRLs. After restoring, run `certctl-admin db "
                          "post-restore`");
  }
}

}  // namespace

Status CheckLive(OpContext& ctx, const RestoreCheckOptions& options, Scratch& scratch,
                 RestoreCheck& result, OpReport& report) {
  ASSIGN_OR_RETURN(DumpRevocations dump, ReadDump(*scratch.db));
  RETURN_IF_ERROR(CompareLiveDatabase(ctx.db, dump, result));
  if (options.compare_live && options.http) {
    ASSIGN_OR_RETURN(auto sources, CrlSources(ctx.config, *scratch.db));
    for (const auto& source : sources) {
      CompareServedCrl(*options.http, source, dump, result, report);
    }
  }
  AddFindings(result, report);
  return Status::Ok();
}

}  // namespace certctl::ops::internal
