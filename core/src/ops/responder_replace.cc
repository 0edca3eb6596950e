// IssueResponder: replacing a generation's OCSP responder so that, killed at
// any instant, the row names a key file that holds its key (see
// ops/responder_keys.h for the steps and why they are in this order).
#include <sys/stat.h>

#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/pki/ocsp_responder.h"
#include "certctl/util/fail_point.h"
#include "certctl/util/files.h"
#include "certctl/util/identifiers.h"
#include "ops/responder_keys.h"
#include "store/database_identity_repo.h"
#include "store/invalidation.h"

namespace certctl::ops::internal {
namespace {

// The new responder before anything is written: key and certificate in
// memory, and the row they will become.
struct Prepared {
  UniquePtr<EVP_PKEY> key;
  OcspResponderRecord record;
  std::string database_id;
};

Result<Prepared> Prepare(OpContext& ctx, const CaGenerationRecord& gen,
                         const IssueOptions& options, OpReport& report) {
  ASSIGN_OR_RETURN(auto ca, ctx.keyring.Get(gen));
  TimePoint now = ctx.clock.Now();
  Prepared p;
  ASSIGN_OR_RETURN(p.database_id, ThisDatabaseId(ctx, &report));
  if (options.keep_key_path) {
    RETURN_IF_ERROR(CheckKeyFileOwned(*options.keep_key_path, p.database_id));
  }
  if (options.keep_key_path) {
    ASSIGN_OR_RETURN(p.key, LoadPrivateKeyFile(*options.keep_key_path));
  } else {
    ASSIGN_OR_RETURN(p.key, GenerateKey(KeyAlgorithm::kEcdsaP256));
  }
  ResponderCertificateRequest req{
      gen.issuer_id + " OCSP Responder g" + std::to_string(gen.generation),
      p.key.get(),
      ca->cert.get(),
      ca->key.get(),
      now,
      ctx.config.ocsp_responder_validity};
  ASSIGN_OR_RETURN(auto cert, IssueResponderCertificate(req));
  ASSIGN_OR_RETURN(Serial serial, Serial::FromAsn1(X509_get0_serialNumber(cert.get())));
  OcspResponderRecord& r = p.record;
  r.issuer_id = gen.issuer_id;
  r.generation = gen.generation;
  r.serial_number = serial.hex();
  r.cert_subject = SubjectOf(cert.get());
  r.cert_pem = CertificateToPem(cert.get());
  r.not_before = NotBefore(cert.get());
  r.not_after = NotAfter(cert.get());
  r.key_path = options.keep_key_path
                   ? *options.keep_key_path
                   : ResponderKeyPath(ctx.config, gen.issuer_id, gen.generation,
                                      serial.hex(), p.database_id);
  r.created_at = now;
  return p;
}

// The key directory made ready: present, 0700, and without what interrupted
// writes of this generation's keys left behind.
Status PrepareKeyDirectory(OpContext& ctx, const Prepared& p, OpReport& report) {
  const OcspResponderRecord& r = p.record;
  RETURN_IF_ERROR(EnsureDirectory(ctx.config.ocsp_responder_key_dir, 0700));
  ASSIGN_OR_RETURN(auto removed, RemoveResponderKeyTemps(ctx.config, r.issuer_id,
                                                         r.generation, p.database_id));
  for (const auto& file : removed) {
    ctx.logger->warn("removed {}, left behind by an interrupted key write", file);
    report.steps.push_back("removed " + file +
                           ", left behind by an interrupted key write");
  }
  return Status::Ok();
}

// Steps 3 and 4 of the header: one transaction, the key file written last.
Status Switch(OpContext& ctx, const Prepared& p, const IssueOptions& options,
              NewResponder& out, bool& key_written) {
  return ctx.db.Run([&](Transaction& tx) -> Status {
    const OcspResponderRecord& r = p.record;
    RETURN_IF_ERROR(OcspResponderRepo::Replace(tx, r, options.reason, ctx.clock.Now()));
    if (options.drop_cached_answers) {
      ASSIGN_OR_RETURN(out.answers_dropped,
                       InvalidationRepo::DropOcspAnswers(tx, r.issuer_id, ""));
      RETURN_IF_ERROR(InvalidationRepo::Notify(tx, {"ocsp", r.issuer_id, ""}));
    }
    CERTCTL_FAIL_POINT("responder.switch-uncommitted");
    if (options.keep_key_path) return Status::Ok();
    // The identity is read again under its row lock, held until COMMIT: a
    // database that became a copy meanwhile does not write under the old name.
    ASSIGN_OR_RETURN(auto identity, DatabaseIdentityRepo::Current(tx));
    RETURN_IF_ERROR(CheckKeyFileOwned(r.key_path, identity.id));
    RETURN_IF_ERROR(WritePrivateKeyFile(
        r.key_path, p.key.get(),
        {.allow_overwrite = false, .before_rename = "responder.key-temp-written"}));
    key_written = true;
    CERTCTL_FAIL_POINT("responder.key-written");
    return Status::Ok();
  });
}

// After a failed switch: OK when the row names the new responder after all
// (a COMMIT whose acknowledgement was lost). Otherwise the failure, with the
// new key file removed when the database says no row names it, or left and
// named when the database cannot be asked.
Status AfterFailedSwitch(OpContext& ctx, const OcspResponderRecord& r, bool key_written,
                         const Status& failed, OpReport& report) {
  auto row = ctx.db.Query<std::optional<OcspResponderRecord>>([&](Transaction& tx) {
    return OcspResponderRepo::Find(tx, r.issuer_id, r.generation);
  });
  if (row.ok() && *row && (*row)->serial_number == r.serial_number) {
    report.steps.push_back(
        "the switch committed although its acknowledgement was lost (" +
        failed.ToString() + ")");
    return Status::Ok();
  }
  std::string failure =
      "switching to the new responder failed; the previous responder "
      "is unchanged and still in use";
  if (!key_written) return failed.WithContext(failure);
  Status removed = row.ok() ? RemoveFileDurably(r.key_path) : row.status();
  if (removed.ok()) {
    return failed.WithContext(failure + " (its new key file was removed again)");
  }
  return failed.WithContext(failure + "; its new key file " + r.key_path +
                            " is left unused, as whether the switch committed could not "
                            "be read back (" +
                            removed.ToString() + "): no row names it, it may be deleted");
}

// Step 5. The new responder is current already: a file that could not be
// retired stays where it was, harmless, and is reported as a warning.
void RetireOldKeys(OpContext& ctx, const OcspResponderRecord& r, NewResponder& out,
                   OpReport& report) {
  std::string subject = GenerationLabel(r.issuer_id, r.generation);
  auto retired =
      RetireReplacedKeys(ctx, r.issuer_id, r.generation, r.key_path, out.database_id);
  if (!retired.ok()) {
    ctx.logger->warn("OCSP responder of {}: the replaced key file was not retired: {}",
                     subject, retired.status().ToString());
    report.AddFinding("warning", "ocsp.key_not_retired", subject,
                      "the replaced key file was not retired (renamed to a backup): " +
                          retired.status().ToString());
    return;
  }
  for (const auto& path : retired->left_alone) {
    report.steps.push_back("left the replaced key " + path + " in place: " +
                           CheckKeyFileOwned(path, out.database_id).message());
  }
  for (const auto& [old_path, backup] : retired->retired) {
    // A backup keeps the file's mode; a retired key must not stay readable.
    if (::chmod(backup.c_str(), 0600) != 0) {
      report.AddFinding("warning", "ocsp.key_mode", subject,
                        "chmod 0600 of the retired key " + backup + " failed");
    }
    report.steps.push_back("retired the replaced key " + old_path + ", kept as " +
                           backup);
    if (out.key_backup.empty()) out.key_backup = backup;
  }
}

}  // namespace

Result<NewResponder> IssueResponder(OpContext& ctx, const CaGenerationRecord& gen,
                                    const IssueOptions& options, OpReport& report) {
  ASSIGN_OR_RETURN(Prepared p, Prepare(ctx, gen, options, report));
  CERTCTL_FAIL_POINT("responder.locked");
  if (!options.keep_key_path) RETURN_IF_ERROR(PrepareKeyDirectory(ctx, p, report));
  NewResponder out;
  out.record = p.record;
  out.database_id = p.database_id;
  bool key_written = false;
  Status switched = Switch(ctx, p, options, out, key_written);
  if (!switched.ok()) {
    RETURN_IF_ERROR(AfterFailedSwitch(ctx, p.record, key_written, switched, report));
  }
  if (key_written) {
    report.steps.push_back("wrote the new responder key " + p.record.key_path);
  }
  report.steps.push_back("made responder " + p.record.serial_number +
                         " current (the one it replaced is kept in history)");
  CERTCTL_FAIL_POINT("responder.row-switched");
  RetireOldKeys(ctx, p.record, out, report);
  CERTCTL_FAIL_POINT("responder.old-key-retired");
  return out;
}

}  // namespace certctl::ops::internal
