#include "store/rotation_repo.h"

#include <sstream>

#include "store/pg.h"

namespace certctl {
namespace {

constexpr char kRotationColumns[] =
    "id, issuer_id, mode, state, from_generation, to_generation, old_cert_sha256, "
    "new_cert_pem, new_chain_pem, csr_pem, key_path, cert_path, source_key_path, "
    "csr_path, backup_dir, backup_path, parameters, array_to_string(test_serials, ','), "
    "started_by, extract(epoch from started_at), extract(epoch from updated_at), "
    "extract(epoch from finished_at)";

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

RotationRecord RotationFrom(const pqxx::row& r) {
  RotationRecord x;
  x.id = r[0].as<int64_t>();
  x.issuer_id = r[1].as<std::string>();
  x.mode = r[2].as<std::string>();
  x.state = r[3].as<std::string>();
  x.from_generation = r[4].as<int>();
  x.to_generation = r[5].as<int>();
  x.old_cert_sha256 = r[6].as<std::string>();
  x.new_cert_pem = r[7].as<std::string>();
  x.new_chain_pem = r[8].as<std::string>();
  x.csr_pem = r[9].as<std::string>();
  x.key_path = r[10].as<std::string>();
  x.cert_path = r[11].as<std::string>();
  x.source_key_path = r[12].as<std::string>();
  x.csr_path = r[13].as<std::string>();
  x.backup_dir = r[14].as<std::string>();
  x.backup_path = r[15].as<std::string>();
  x.parameters = r[16].as<std::string>();
  x.test_serials = SplitCommas(r[17].is_null() ? "" : r[17].as<std::string>());
  x.started_by = r[18].as<std::string>();
  x.started_at = TimeFrom(r[19]);
  x.updated_at = TimeFrom(r[20]);
  x.finished_at = OptionalTimeFrom(r[21]);
  return x;
}

Result<std::optional<RotationRecord>> FindOne(Transaction& tx, const char* name,
                                              const std::string& sql,
                                              const std::string& issuer) {
  return GuardValue<std::optional<RotationRecord>>("find CA rotation of " + issuer, [&] {
    auto rows = tx.Exec(name, sql.c_str(), issuer);
    if (rows.empty()) return std::optional<RotationRecord>();
    return std::optional<RotationRecord>(RotationFrom(rows[0]));
  });
}

}  // namespace

Result<int64_t> RotationRepo::Insert(Transaction& tx, const RotationRecord& r) {
  return GuardValue<int64_t>("record CA rotation of " + r.issuer_id, [&] {
    auto rows = tx.Exec(
        "rotation_insert",
        "INSERT INTO ca_rotations (issuer_id, mode, state, from_generation, "
        "to_generation, old_cert_sha256, new_cert_pem, new_chain_pem, csr_pem, "
        "key_path, cert_path, source_key_path, csr_path, backup_dir, parameters, "
        "started_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
        "$14, $15, $16) RETURNING id",
        r.issuer_id, r.mode, r.state, r.from_generation, r.to_generation,
        r.old_cert_sha256, r.new_cert_pem, r.new_chain_pem, r.csr_pem, r.key_path,
        r.cert_path, r.source_key_path, r.csr_path, r.backup_dir, r.parameters,
        r.started_by);
    return rows[0][0].as<int64_t>();
  });
}

Result<std::optional<RotationRecord>> RotationRepo::FindUnfinished(
    Transaction& tx, const std::string& issuer) {
  static const std::string sql =
      std::string("SELECT ") + kRotationColumns +
      " FROM ca_rotations WHERE issuer_id = $1 AND state IN ('running', "
      "'awaiting-signature')";
  return FindOne(tx, "rotation_find_unfinished", sql, issuer);
}

Result<std::optional<RotationRecord>> RotationRepo::FindLatest(
    Transaction& tx, const std::string& issuer) {
  static const std::string sql = std::string("SELECT ") + kRotationColumns +
                                 " FROM ca_rotations WHERE issuer_id = $1 "
                                 "ORDER BY id DESC LIMIT 1";
  return FindOne(tx, "rotation_find_latest", sql, issuer);
}

Result<int> RotationRepo::NextGeneration(Transaction& tx, const std::string& issuer) {
  return GuardValue<int>("next CA generation of " + issuer, [&] {
    auto rows = tx.Exec(
        "rotation_next_generation",
        "SELECT greatest((SELECT coalesce(max(generation), 0) FROM ca_generations "
        "WHERE issuer_id = $1), (SELECT coalesce(max(to_generation), 0) FROM "
        "ca_rotations WHERE issuer_id = $1)) + 1",
        issuer);
    return rows[0][0].as<int>();
  });
}

Status RotationRepo::Update(Transaction& tx, const RotationRecord& r) {
  return Guard("update CA rotation " + std::to_string(r.id), [&] {
    auto rows = tx.Exec(
        "rotation_update",
        "UPDATE ca_rotations SET state = $2, new_cert_pem = $3, new_chain_pem = $4, "
        "csr_pem = $5, backup_path = $6, updated_at = now(), finished_at = CASE WHEN "
        "$2 IN ('completed', 'aborted') THEN now() ELSE NULL END WHERE id = $1",
        r.id, r.state, r.new_cert_pem, r.new_chain_pem, r.csr_pem, r.backup_path);
    if (rows.affected_rows() != 1) {
      return Status::NotFound("no CA rotation " + std::to_string(r.id));
    }
    return Status::Ok();
  });
}

Status RotationRepo::AddTestSerial(Transaction& tx, int64_t id,
                                   const std::string& serial) {
  return Guard("record test certificate", [&] {
    tx.Exec("rotation_add_test_serial",
            "UPDATE ca_rotations SET test_serials = array_append(test_serials, $2), "
            "updated_at = now() WHERE id = $1",
            id, serial);
    return Status::Ok();
  });
}

Status RotationRepo::BeginStep(Transaction& tx, int64_t id, int position,
                               const std::string& step) {
  return Guard("record rotation step " + step, [&] {
    tx.Exec("rotation_begin_step",
            "INSERT INTO ca_rotation_steps (rotation_id, position, step) VALUES ($1, "
            "$2, $3) ON CONFLICT (rotation_id, step) DO UPDATE SET attempts = "
            "ca_rotation_steps.attempts + 1, begun_at = now(), done_at = NULL",
            id, position, step);
    tx.Exec("rotation_touch", "UPDATE ca_rotations SET updated_at = now() WHERE id = $1",
            id);
    return Status::Ok();
  });
}

Status RotationRepo::FinishStep(Transaction& tx, int64_t id, const std::string& step,
                                const std::string& detail) {
  return Guard("record rotation step " + step + " done", [&] {
    auto rows = tx.Exec("rotation_finish_step",
                        "UPDATE ca_rotation_steps SET done_at = now(), detail = $3 "
                        "WHERE rotation_id = $1 AND step = $2",
                        id, step, detail);
    if (rows.affected_rows() != 1) {
      return Status::Internal("rotation step " + step + " was never begun");
    }
    return Status::Ok();
  });
}

Result<std::vector<RotationStepRecord>> RotationRepo::Steps(Transaction& tx, int64_t id) {
  return GuardValue<std::vector<RotationStepRecord>>("read rotation journal", [&] {
    std::vector<RotationStepRecord> out;
    for (const auto& r :
         tx.Exec("rotation_steps",
                 "SELECT position, step, attempts, extract(epoch from begun_at), "
                 "extract(epoch from done_at), detail FROM ca_rotation_steps WHERE "
                 "rotation_id = $1 ORDER BY position",
                 id)) {
      out.push_back({r[0].as<int>(), r[1].as<std::string>(), r[2].as<int>(),
                     TimeFrom(r[3]), OptionalTimeFrom(r[4]), r[5].as<std::string>()});
    }
    return out;
  });
}

Result<std::vector<std::string>> RotationRepo::UnrevokedWithSubject(
    Transaction& tx, const std::string& issuer, int generation,
    const std::string& subject) {
  return GuardValue<std::vector<std::string>>("find test certificates", [&] {
    std::vector<std::string> out;
    for (const auto& r : tx.Exec(
             "rotation_unrevoked_tests",
             "SELECT c.serial FROM certificates c LEFT JOIN certificate_revocations v "
             "ON v.issuer_id = c.issuer_id AND v.serial = c.serial WHERE c.issuer_id "
             "= $1 AND c.generation = $2 AND c.subject = $3 AND v.serial IS NULL "
             "ORDER BY c.serial",
             issuer, generation, subject)) {
      out.push_back(r[0].as<std::string>());
    }
    return out;
  });
}

}  // namespace certctl
